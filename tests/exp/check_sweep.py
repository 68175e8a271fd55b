#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks the JSON of `ipseck demo --sweep` against the overload targets of the
experiments: with decoupled + QoS, at every load of four times the capacity and more
(the sweep's 5x and 10x points), EF probes inside IPsec lose nothing, 95 of every 100
have an RTT within 2 ms of the unloaded RTT (the smallest RTT of the probes sent before
the flood), and best effort keeps at least 90% of the capacity (work conserving); the
coupled baseline loses EF probes at those loads. Prints one line per check.

The p99 is printed, not asserted. Of 100 probes it is the second-worst, and on a 2-vCPU
VM the machine itself stalls: a thread sleeping 1 ms wakes more than 2 ms late about once
in 10 s on an idle machine, and episodes of some 50 ms in which several consecutive
probes take 2-6 ms occur even at half the capacity (docs/experiments.md, "Platform
noise"). One such episode decides a p99, not the QoS design; the full run's figures in
docs/experiments.md show the p99.

usage: check_sweep.py SWEEP.json

Exit status: 0 all checks passed; 1 a check failed; 77 a check failed while other
processes kept more than BUSY_CPUS of the two CPUs busy (sweep.json, machine.foreign_cpus):
a p99 of 100 probes is the second-worst probe, which one stall of a thread decides, so
such a run proves nothing either way (docs/experiments.md, "Platform noise").
"""
import json
import os
import sys

from check_demo import percentile_ms

EF_SLACK_MS = 2.0
GOODPUT_SHARE = 0.90
BUSY_CPUS = 0.5
MIN_LOAD = 4


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    heavy = [r for r in data["runs"] if r["load"] >= MIN_LOAD]
    check(len(heavy) >= 2, "the sweep has %d runs at %dx or more" % (len(heavy), MIN_LOAD))
    for r in heavy:
        idle, loaded, load = r["idle"], r["loaded"], r["load"]
        if r["design"] == "decoupled+qos":
            check(loaded["sent"] > 0 and loaded["loss_pct"] == 0,
                  "%gx decoupled+qos: EF loss %.1f%% of %d probes is 0"
                  % (load, loaded["loss_pct"], loaded["sent"]))
            p95 = percentile_ms(os.path.join(os.path.dirname(sys.argv[1]), r["series"]), 95)
            check(idle["received"] > 0 and p95 <= idle["min_ms"] + EF_SLACK_MS,
                  "%gx decoupled+qos: EF p95 %.2f ms within %.1f ms of the unloaded %.2f ms"
                  " (p50 %.2f; p99 %.2f, not asserted)"
                  % (load, p95, EF_SLACK_MS, idle["min_ms"], loaded["p50_ms"],
                     loaded["p99_ms"]))
            check(r["goodput_bps"] >= GOODPUT_SHARE * r["capacity_bps"],
                  "%gx decoupled+qos: goodput %.1f Mbit/s >= %.0f%% of %.1f Mbit/s"
                  % (load, r["goodput_bps"] / 1e6, GOODPUT_SHARE * 100,
                     r["capacity_bps"] / 1e6))
        elif r["design"] == "coupled":
            check(loaded["loss_pct"] > 0,
                  "%gx coupled: EF loss %.1f%% > 0" % (load, loaded["loss_pct"]))
        check(r["balanced"], "%gx %s: engine conservation holds" % (load, r["design"]))
    if failures:
        busy = data["machine"].get("foreign_cpus", 0)
        if busy > BUSY_CPUS:
            print("inconclusive: other processes kept %.2f CPUs busy" % busy)
            return 77
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
