#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count KUnit results from the debugfs 'results' files of goslab's suites.

    ktap_summary.py LABEL OUTPUT_FILE SUITE...

OUTPUT_FILE holds the concatenated /sys/kernel/debug/kunit/<suite>/results
files. Every SUITE named must be there, with as many case results as its
plan announces and a closing suite line; a missing or truncated suite is
a failure. A parameterised case counts once per parameter. 6.1's KUnit
keeps only the last parameter's line in the results file, with a line
"# <case>: pass:P fail:F skip:S total:T" after it: the counts come from
that line then. It may also lose a case's name when the log before it
filled the buffer ("ok 7    # <log line>"): the case counts as case-7.
Prints one line per case ("PASS"/"FAIL"/"SKIP" LABEL suite.case[/param]) and, last,
"cases: P passed, F failed, S skipped".
"""

import re
import sys

CASE = re.compile(r"^    (not ok|ok) (\d+)(?: (\S+))?(.*)$")
PARAM_COUNTS = re.compile(
    r"^    # (\S+): pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)$")
PARAM = re.compile(r"^        (not ok|ok) (\d+) (.*?)( # SKIP.*)?$")
PLAN = re.compile(r"^    1\.\.(\d+)$")
SUBTEST = re.compile(r"^    # Subtest: (\S+)$")
SUITE_END = re.compile(r"^(not ok|ok) \d+ (\S+)")


def status_of(result, rest):
    if "# SKIP" in (rest or ""):
        return "SKIP"
    return "PASS" if result == "ok" else "FAIL"


def parse(lines):
    suites = {}
    cur = None
    params = []
    for line in lines:
        line = line.rstrip("\r\n")
        m = SUBTEST.match(line)
        if m:
            cur = {"plan": None, "cases": [], "ncases": 0, "closed": None}
            suites[m.group(1)] = cur
            params = []
            continue
        if cur is None:
            continue
        m = PLAN.match(line)
        if m and cur["plan"] is None:
            cur["plan"] = int(m.group(1))
            continue
        m = PARAM.match(line)
        if m:
            params.append((m.group(3).strip(),
                           status_of(m.group(1), m.group(4))))
            continue
        m = PARAM_COUNTS.match(line)
        if m:
            counts = [int(m.group(i)) for i in (2, 3, 4, 5)]
            if len(params) < counts[3]:
                params = ([("param-%d" % i, "PASS")
                           for i in range(counts[0])] +
                          [("param-f%d" % i, "FAIL")
                           for i in range(counts[1])] +
                          [("param-s%d" % i, "SKIP")
                           for i in range(counts[2])])
            continue
        m = CASE.match(line)
        if m:
            name = m.group(3)
            if not name or name.startswith("#"):
                name = "case-%s" % m.group(2)
            status = status_of(m.group(1), m.group(4))
            cur["ncases"] += 1
            if params:
                for desc, st in params:
                    cur["cases"].append(("%s/%s" % (name, desc), st))
                if status == "FAIL" and all(st != "FAIL" for _, st in params):
                    cur["cases"].append((name, "FAIL"))
            else:
                cur["cases"].append((name, status))
            params = []
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
        if s["plan"] is None or s["ncases"] != s["plan"] or \
                s["closed"] is None:
            print("FAIL %s %s: truncated results (%d of %s cases)" %
                  (label, name, s["ncases"], s["plan"]))
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
