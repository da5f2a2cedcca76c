#!/usr/bin/env python3
"""Checks of a Prometheus text exposition (format 0.0.4) for metrics.sh.

  metrics_check.py parse FILE          the whole text follows the format's
                                       grammar (and prometheus_client's parser,
                                       when that is installed), exit 1 if not
  metrics_check.py get FILE NAME [K=V...]
                                       the sum of NAME's samples whose labels
                                       include every K=V (0 when none)
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*)?\})? ([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|Inf)|NaN)$"
                    % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)


def samples(text):
    """(name, labels, value) of every sample; raises ValueError on a bad line."""
    types, out = {}, []
    if not text.endswith("\n"):
        raise ValueError("the text does not end with a line feed")
    for n, line in enumerate(text.splitlines(), 1):
        m = TYPE.match(line)
        if m:
            if m.group(1) in types:
                raise ValueError("line %d: %s typed twice" % (n, m.group(1)))
            types[m.group(1)] = m.group(2)
            if m.group(2) == "counter" and not m.group(1).endswith("_total"):
                raise ValueError("line %d: counter %s does not end in _total" % (n, m.group(1)))
            continue
        if HELP.match(line):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("line %d is not a sample: %r" % (n, line))
        name, labels = m.group(1), {}
        for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"', m.group(2) or ""):
            labels[k] = v
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and types.get(base) == "histogram":
                family = base
        if family not in types:
            raise ValueError("line %d: sample before the TYPE of %s" % (n, family))
        out.append((name, labels, float(m.group(3))))
    return out


def check_histograms(s):
    """Buckets cumulative, +Inf equal to _count."""
    buckets = {}
    counts = {}
    for name, labels, v in s:
        if name.endswith("_bucket"):
            buckets.setdefault(name[:-7], []).append((labels["le"], v))
        elif name.endswith("_count"):
            counts[name[:-6]] = v
    for fam, bs in buckets.items():
        prev = 0
        for le, v in bs:
            if v < prev:
                raise ValueError("%s: bucket le=%s below the one before" % (fam, le))
            prev = v
        if bs[-1][0] != "+Inf" or bs[-1][1] != counts.get(fam):
            raise ValueError("%s: the +Inf bucket is not _count" % fam)


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if cmd == "parse":
        try:
            check_histograms(samples(text))
        except ValueError as e:
            print("bad exposition: %s" % e)
            return 1
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            print("(prometheus_client not installed: the grammar check alone)")
            return 0
        families = list(text_string_to_metric_families(text))
        print("%d families parsed by prometheus_client" % len(families))
        return 0
    if cmd == "get":
        want = dict(kv.split("=", 1) for kv in sys.argv[4:])
        total = sum(v for name, labels, v in samples(text)
                    if name == sys.argv[3] and all(labels.get(k) == v for k, v in want.items()))
        print("%.9g" % total)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
