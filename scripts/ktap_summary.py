#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count KUnit results from the debugfs 'results' files of goslab's suites.

    ktap_summary.py LABEL OUTPUT_FILE SUITE...

OUTPUT_FILE holds the concatenated /sys/kernel/debug/kunit/<suite>/results
files. Every SUITE named must be there, with as many case results as its
plan announces and a closing suite line; a missing or truncated suite is
a failure. Prints one line per case ("PASS"/"FAIL"/"SKIP" LABEL
suite.case) and, last, "cases: P passed, F failed, S skipped".
"""

import re
import sys

CASE = re.compile(r"^    (not ok|ok) (\d+) (\S+)(.*)$")
PLAN = re.compile(r"^    1\.\.(\d+)$")
SUBTEST = re.compile(r"^    # Subtest: (\S+)$")
SUITE_END = re.compile(r"^(not ok|ok) \d+ (\S+)")


def parse(lines):
    suites = {}
    cur = None
    for line in lines:
        line = line.rstrip("\r\n")
        m = SUBTEST.match(line)
        if m:
            cur = {"plan": None, "cases": [], "closed": None}
            suites[m.group(1)] = cur
            continue
        if cur is None:
            continue
        m = PLAN.match(line)
        if m and cur["plan"] is None:
            cur["plan"] = int(m.group(1))
            continue
        m = CASE.match(line)
        if m:
            skip = "# SKIP" in m.group(4)
            status = "SKIP" if skip else (
                "PASS" if m.group(1) == "ok" else "FAIL")
            cur["cases"].append((m.group(3), status))
            continue
        m = SUITE_END.match(line)
        if m:
            cur["closed"] = m.group(1)
            cur = None
    return suites


def main():
    label, path, expected = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, errors="replace") as f:
        suites = parse(f)
    passed = failed = skipped = 0
    for name in expected:
        s = suites.get(name)
        if s is None:
            print("FAIL %s %s: no results (suite did not run)" %
                  (label, name))
            failed += 1
            continue
        for case, status in s["cases"]:
            print("%s %s %s.%s" % (status, label, name, case))
            if status == "PASS":
                passed += 1
            elif status == "SKIP":
                skipped += 1
            else:
                failed += 1
        if s["plan"] is None or len(s["cases"]) != s["plan"] or \
                s["closed"] is None:
            print("FAIL %s %s: truncated results (%d of %s cases)" %
                  (label, name, len(s["cases"]), s["plan"]))
            failed += 1
        elif s["closed"] == "not ok" and all(
                st != "FAIL" for _, st in s["cases"]):
            print("FAIL %s %s: suite failed outside its cases" %
                  (label, name))
            failed += 1
    print("cases: %d passed, %d failed, %d skipped" %
          (passed, failed, skipped))


if __name__ == "__main__":
    main()
