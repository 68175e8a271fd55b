#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks the scenarios of `ipseck demo --af --fairness --reconfig` (results.json) against
their targets (docs/experiments.md).

usage: check_scenarios.py RESULTS.json

Invariants, which no load on the machine excuses:
  - every run ends with the engine's conservation law exact (in = out + drops);
  - reconfig: the request was applied; while it ran, no queue dropped more packets than
    arrived at it (a packet the handover to the new chain refused would be dropped without
    arriving); at the end in = out + counted drops with nothing in flight; no drop counted
    as hook-detached (a packet a chain change left behind) and none under any reason but
    the flood's queue-full;
  - af: with AF above its share, RED drops counted under the reason `red`.
Measurements, generous bounds:
  - af (AF within its share, with QoS): EF loss 0, AF loss below 1% and below BE's; without
    QoS the EF probes are lost (loss > 0), as the paper's Table II says;
  - fairness: Jain's index of the 49 well-behaved users >= 0.95 with per-user DRR, and the
    FIFO either lower or giving the greedy user at least 1.3 times the DRR's share;
    well-behaved users get at least 95% of what they send with DRR;
  - reconfig: EF loss 0 after the change, and > 0 before it.

Exit status: 0 all passed; 2 an invariant broke; 1 a measurement failed; 77 only
measurements failed while other
processes kept more than BUSY_CPUS CPUs busy (machine.foreign_cpus): such a run cannot
measure (docs/experiments.md, "Platform noise").
"""
import json
import sys

BUSY_CPUS = 0.5


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    broken, missed = [], []

    def check(ok, what, invariant=False):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            (broken if invariant else missed).append(what)

    af = data["af"]["runs"]
    plain, within, above = af[0], af[1], af[2]
    for r in af:
        check(r["balanced"], "af %s (AF %.0f Mbit/s): conservation exact"
              % (r["name"], r["af_rate_bps"] / 1e6), True)
    ef, afc, be = (within["classes"][k] for k in ("EF", "AF", "BE"))
    check(ef["sent"] > 0 and ef["loss_pct"] == 0,
          "af with QoS: EF loss %.1f%% of %d probes is 0" % (ef["loss_pct"], ef["sent"]))
    check(afc["sent"] > 0 and afc["loss_pct"] < 1.0 and afc["loss_pct"] < be["loss_pct"],
          "af with QoS: AF loss %.2f%% < 1%% and < BE loss %.1f%%"
          % (afc["loss_pct"], be["loss_pct"]))
    check(plain["classes"]["EF"]["loss_pct"] > 0,
          "af without QoS: EF loss %.1f%% > 0" % plain["classes"]["EF"]["loss_pct"])
    check(above["drops"]["red"] > 0,
          "af above its share: %d RED drops counted as 'red'" % above["drops"]["red"], True)
    check(above["classes"]["AF"]["loss_pct"] < above["classes"]["BE"]["loss_pct"],
          "af above its share: AF loss %.1f%% < BE loss %.1f%%"
          % (above["classes"]["AF"]["loss_pct"], above["classes"]["BE"]["loss_pct"]))

    fifo, drr = data["fairness"]["runs"]
    for r in (fifo, drr):
        check(r["balanced"], "fairness %s: conservation exact" % r["queue3"], True)
    check(drr["jain"] >= 0.95, "fairness: J = %.4f >= 0.95 with per-user DRR" % drr["jain"])
    check(fifo["jain"] < drr["jain"] or fifo["greedy_share"] >= 1.3 * drr["greedy_share"],
          "fairness: FIFO J %.4f lower, or greedy share %.1f%% >= 1.3 x DRR's %.1f%%"
          % (fifo["jain"], 100 * fifo["greedy_share"], 100 * drr["greedy_share"]))
    check(drr["delivered_ratio"] >= 0.95,
          "fairness: well-behaved users get %.1f%% of what they send with DRR (>= 95%%)"
          % (100 * drr["delivered_ratio"]))

    rc = data["reconfig"]
    end = rc["end"]
    check(rc["apply_rc"] == 0, "reconfig: the request was applied (rc %d, %.2f ms)"
          % (rc["apply_rc"], rc["apply_ms"]), True)
    check(rc["balanced"] and end["in_flight"] == 0 and
          end["in"] == end["out"] + end["drops"] + end["absorbed"],
          "reconfig: in %d = out %d + drops %d (+ absorbed %d), nothing in flight"
          % (end["in"], end["out"], end["drops"], end["absorbed"]), True)
    check(rc["lost_by_change"] == 0,
          "reconfig: while the request ran, %d packets arrived at the queues and %d were"
          " dropped: none of the %d + %d the FIFOs held was lost (%d)"
          % (rc["window_in"], rc["window_drops"], rc["q3_len"], rc["h5_len"],
             rc["lost_by_change"]), True)
    check(rc["drops"]["hook_detached"] == 0 and rc["drops"]["other"] == 0,
          "reconfig: drops hook-detached %d, other %d: every drop is the flood's queue-full"
          % (rc["drops"]["hook_detached"], rc["drops"]["other"]), True)
    check(rc["after"]["sent"] > 0 and rc["after"]["loss_pct"] == 0,
          "reconfig: EF loss after the change %.1f%% of %d is 0"
          % (rc["after"]["loss_pct"], rc["after"]["sent"]))
    check(rc["before"]["loss_pct"] > 0,
          "reconfig: EF loss before the change %.1f%% > 0" % rc["before"]["loss_pct"])

    if broken:
        print("%d invariant(s) broken" % len(broken))
        return 2
    if missed:
        busy = data["machine"].get("foreign_cpus", 0)
        print("%d measurement(s) missed; other processes kept %.2f CPUs busy"
              % (len(missed), busy))
        return 77 if busy > BUSY_CPUS else 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
