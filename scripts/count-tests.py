#!/usr/bin/env python3
"""Count test results from meson's JUnit logs and print 'N passed, M failed'.

gtest programs are registered with protocol 'gtest', so each gtest case is
its own <testcase>; integration scripts are one <testcase> each. Skipped
cases count as neither. Exits 1 when anything failed or nothing ran."""
import sys
import xml.etree.ElementTree as ET

passed = failed = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"count-tests: {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        for case in cases:
            if case.find("skipped") is not None:
                continue
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                print(f"FAILED: {suite.get('name')} {case.get('classname', '')}.{case.get('name')}",
                      file=sys.stderr)
            else:
                passed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
