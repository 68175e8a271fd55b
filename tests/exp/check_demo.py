#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks the JSON of `ipseck demo` against the targets of the paper's experiment.

usage: check_demo.py RESULTS.json

Decoupled + QoS under the flood: EF loss 0 and EF p99 RTT within 2 ms of the unloaded
RTT (the idle probes' median); plain probes lose nothing in the decoupled designs; the
flood's goodput is at least 90% of the gateway's capacity in the decoupled designs; the
coupled baseline loses plain and EF probes (loss > 0). Prints one line per check.
"""
import json
import sys

EF_SLACK_MS = 2.0
GOODPUT_SHARE = 0.90


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    runs = {(r["table"], r["design"]): r for r in data["runs"]}
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    qos = runs[("II", "decoupled+qos")]
    idle, loaded = qos["idle"], qos["loaded"]
    check(loaded["sent"] > 0 and loaded["loss_pct"] == 0,
          "decoupled+qos: EF loss %.1f%% of %d probes is 0" % (loaded["loss_pct"], loaded["sent"]))
    check(loaded["p99_ms"] <= idle["p50_ms"] + EF_SLACK_MS,
          "decoupled+qos: EF p99 %.2f ms within %.1f ms of the unloaded %.2f ms"
          % (loaded["p99_ms"], EF_SLACK_MS, idle["p50_ms"]))
    for design in ("decoupled", "decoupled+qos"):
        plain = runs[("I", design)]["loaded"]
        check(plain["sent"] > 0 and plain["loss_pct"] == 0,
              "%s: plain probe loss %.1f%% is 0" % (design, plain["loss_pct"]))
        for table in ("I", "II"):
            r = runs[(table, design)]
            check(r["goodput_bps"] >= GOODPUT_SHARE * r["capacity_bps"],
                  "%s (table %s): goodput %.1f Mbit/s >= %.0f%% of %.1f Mbit/s"
                  % (design, table, r["goodput_bps"] / 1e6, GOODPUT_SHARE * 100,
                     r["capacity_bps"] / 1e6))
    for table, kind in (("I", "plain"), ("II", "EF")):
        c = runs[(table, "coupled")]["loaded"]
        check(c["loss_pct"] > 0, "coupled: %s probe loss %.1f%% > 0" % (kind, c["loss_pct"]))
    for r in data["runs"]:
        check(r["balanced"], "%s (table %s): engine conservation holds" % (r["design"], r["table"]))
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
