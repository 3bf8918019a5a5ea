#!/usr/bin/env python3
"""What promtool does not check in `perf-baseline export --format prometheus`: that each
histogram family is one, and that the label values read back as the records' text.

  prometheus-histograms.py EXPOSITION JSONL_EXPORT

The exposition is read by the text format's rules (Prometheus "Exposition formats"): a
sample is `name{label="value",...} number` on a line ending in a line feed (any other
character, a carriage return too, may be in a label value), and a label value's `\\\\`, `\\"` and `\\n` are a
backslash, a double quote and a line feed. A histogram family NAME has, for each set of
labels, `NAME_bucket` samples whose `le` bounds rise and end with `+Inf`, whose counts are
cumulative (never fall), the `+Inf` count equal to `NAME_count`, and a `NAME_sum`; every
series of the family has the same bounds (so they add up across series). The `repo` and
`step` of the series must be those of the records (the jsonl export of the same store: the
text every machine format writes for their bytes).
"""
import json
import math
import re
import sys

SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape(value):
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            out.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def labels_of(text):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            sys.exit(f"cannot read the labels {text!r} at {pos}")
        labels[m.group(1)] = unescape(m.group(2))
        pos = m.end()
    return labels


def main():
    types, samples = {}, []
    # Lines end at a line feed only: a carriage return is a character of a label value.
    for line in open(sys.argv[1], encoding="utf-8", newline="\n"):
        line = line.rstrip("\n")
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line.startswith("#") or not line:
            continue
        else:
            m = SAMPLE.fullmatch(line)
            if not m:
                sys.exit(f"not a sample: {line!r}")
            samples.append((m.group(1), labels_of(m.group(2) or ""), float(m.group(3))))

    for family, kind in types.items():
        if kind != "histogram":
            continue
        series = {}
        for name, labels, value in samples:
            if not name.startswith(family + "_"):
                continue
            key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            s = series.setdefault(key, {"buckets": []})
            suffix = name[len(family) + 1:]
            if suffix == "bucket":
                s["buckets"].append((float(labels["le"]), labels["le"], value))
            elif suffix in ("sum", "count"):
                s[suffix] = value
            else:
                sys.exit(f"{name} is not a sample of the histogram {family}")
        bounds_seen = set()
        for key, s in series.items():
            les = [b[0] for b in s["buckets"]]
            counts = [b[2] for b in s["buckets"]]
            where = f"{family}{dict(key)}"
            if not les or les[-1] != math.inf or s["buckets"][-1][1] != "+Inf":
                sys.exit(f"{where}: the last bucket is not le=\"+Inf\"")
            if les != sorted(les) or len(set(les)) != len(les):
                sys.exit(f"{where}: the bounds do not rise: {les}")
            if counts != sorted(counts):
                sys.exit(f"{where}: the bucket counts are not cumulative: {counts}")
            if "count" not in s or "sum" not in s:
                sys.exit(f"{where}: no _count or no _sum")
            if counts[-1] != s["count"]:
                sys.exit(f"{where}: +Inf holds {counts[-1]}, _count says {s['count']}")
            bounds_seen.add(tuple(les))
        if len(bounds_seen) > 1:
            sys.exit(f"{family}: the series have different bounds: {bounds_seen}")
        print(f"{family}: {len(series)} series, each a histogram")

    got = {(l.get("repo"), l.get("step")) for _, l, _ in samples}
    want = set()
    for line in open(sys.argv[2], encoding="utf-8"):
        record = json.loads(line)
        want.add((record["repo"], record["step"]))
    if got != want:
        sys.exit(f"the series' repo and step read back as {sorted(got)}, "
                 f"the records say {sorted(want)}")
    print(f"{len(want)} repo and step pairs, read back as the records' text")


main()
