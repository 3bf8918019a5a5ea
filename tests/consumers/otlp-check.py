#!/usr/bin/env python3
"""Decodes `perf-baseline export --format otlp` with the OpenTelemetry protobuf definitions
and holds every span against the store it came from.

  otlp-check.py EXPORT GENERATED_DIR STORE

GENERATED_DIR holds the Python modules protoc made from tests/consumers/opentelemetry
(python3-protobuf reads them). The export is read as an OTLP/HTTP receiver reads a JSON
body, by the OTLP specification's rules for JSON: the protobuf JSON mapping, strictly (no
unknown field, no duplicate key, valid UTF-8), except that field names are lowerCamelCase
only, trace and span ids are lowercase hex (32 and 16 digits, not all zero) rather than
base64, and enums are integers. The ids are checked, turned into base64, and the whole is
parsed with google.protobuf.json_format into an ExportTraceServiceRequest.

Then the request must hold exactly what the store holds, read through its public views
(step_results, steps, spans): one root span per recorded step and one span per child span,
in one trace per trace id; names, start and end times (ns), parents, status, and the
attributes of each step (step, status, exit code, threshold, repository, branch, labels),
with the host as the resource's host.name. Text in the store is bytes: expected as every
machine format writes it (TEXT ENCODING in perfguard(7)).
"""
import base64
import json
import re
import sqlite3
import sys

sys.path.insert(0, sys.argv[2])
from google.protobuf import json_format  # noqa: E402
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2  # noqa: E402

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")
CAMEL = re.compile(r"[a-z][A-Za-z0-9]*")


def fail(message):
    sys.exit("otlp: " + message)


def encode_text(data):
    """perfguard(7) TEXT ENCODING, from its description: UTF-8 without `%XX` as it is; any
    other string with each byte outside a well-formed UTF-8 sequence as %XX and `%` as %25."""
    if data is None:
        return None
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    try:
        text = data.decode("utf-8")
        if not re.search(r"%[0-9A-Fa-f]{2}", text):
            return text
    except UnicodeDecodeError:
        pass
    out = []
    for ch in data.decode("utf-8", "surrogateescape"):
        if ch == "%":
            out.append("%25")
        elif 0xDC80 <= ord(ch) <= 0xDCFF:
            out.append("%%%02X" % (ord(ch) - 0xDC00))
        else:
            out.append(ch)
    return "".join(out)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        fail(f"duplicate key in {keys}")
    return dict(pairs)


def otlp_to_proto_json(node, path="$"):
    """Checks the OTLP/JSON differences and rewrites the ids as the proto3 mapping has them."""
    if isinstance(node, list):
        return [otlp_to_proto_json(x, f"{path}[{i}]") for i, x in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if not CAMEL.fullmatch(key):
            fail(f"{path}: field {key!r} is not a lowerCamelCase name")
        if key in ("traceId", "spanId", "parentSpanId"):
            pattern, digits = (HEX32, 32) if key == "traceId" else (HEX16, 16)
            if not isinstance(value, str) or not pattern.fullmatch(value) or not value.strip("0"):
                fail(f"{path}.{key} = {value!r}: not {digits} lowercase hex digits, not all zero")
            value = base64.b64encode(bytes.fromhex(value)).decode()
        elif key in ("kind", "code") and not isinstance(value, int):
            fail(f"{path}.{key} = {value!r}: an enum must be an integer in OTLP/JSON")
        out[key] = otlp_to_proto_json(value, f"{path}.{key}")
    return out


def attributes(kvs, where):
    out = {}
    for kv in kvs:
        if kv.key in out:
            fail(f"{where}: attribute {kv.key!r} twice")
        kind = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, kind)
    return out


def main():
    raw = open(sys.argv[1], "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(f"not UTF-8: {e}")
    doc = json.loads(text, object_pairs_hook=no_duplicates)
    request = trace_service_pb2.ExportTraceServiceRequest()
    json_format.Parse(json.dumps(otlp_to_proto_json(doc)), request, ignore_unknown_fields=False)

    db = sqlite3.connect(f"file:{sys.argv[3]}?mode=ro", uri=True)
    db.text_factory = bytes
    steps = db.execute(
        "SELECT r.id, r.trace_id, r.step, r.started_us, r.duration_us, r.status, r.exit_code,"
        " s.threshold_us, r.repo, r.branch, r.host, r.labels"
        " FROM step_results AS r JOIN steps AS s ON s.id = r.id ORDER BY r.id").fetchall()
    children = {}
    for step_id, seq, parent, name, offset, duration in db.execute(
            "SELECT step_id, seq, parent_seq, name, offset_us, duration_us FROM spans"
            " ORDER BY step_id, seq"):
        children.setdefault((step_id, parent), []).append((seq, name, offset, duration))

    # Every span of the request, by trace; each resource's host.
    spans, ids = [], set()
    for rs in request.resource_spans:
        res = attributes(rs.resource.attributes, "resource")
        if res.get("service.name") != "perfguard":
            fail(f"service.name is {res.get('service.name')!r}")
        for ss in rs.scope_spans:
            for span in ss.spans:
                if span.span_id in ids:
                    fail(f"span id {span.span_id.hex()} twice")
                ids.add(span.span_id)
                spans.append((res.get("host.name", ""), span))
    by_parent = {}
    for host, span in spans:
        by_parent.setdefault((span.trace_id, span.parent_span_id), []).append((host, span))
    roots = by_parent.get

    expected_spans = len(steps) + sum(len(v) for v in children.values())
    if len(spans) != expected_spans:
        fail(f"{len(spans)} spans, the store holds {len(steps)} steps and "
             f"{expected_spans - len(steps)} child spans")

    seen_roots = set()
    for (step_id, trace_hex, step, start, duration, status, exit_code, threshold, repo, branch,
         host, labels) in steps:
        trace = bytes.fromhex("0" * 16 + trace_hex.decode())
        name = encode_text(step)
        start_ns, end_ns = start * 1000, (start + duration) * 1000
        matches = [(h, s) for h, s in (roots((trace, b"")) or [])
                   if s.name == name and s.start_time_unix_nano == start_ns]
        if len(matches) != 1:
            fail(f"step {step_id} ({name!r} at {start}): {len(matches)} root spans in its trace")
        span_host, root = matches[0]
        seen_roots.add(root.span_id)
        where = f"step {step_id}"
        if root.end_time_unix_nano != end_ns:
            fail(f"{where}: ends at {root.end_time_unix_nano}, the store says {end_ns}")
        if span_host != encode_text(host):
            fail(f"{where}: host.name {span_host!r}, the store says {encode_text(host)!r}")
        if root.kind != 1:
            fail(f"{where}: kind {root.kind}, not SPAN_KIND_INTERNAL")
        want_code = 1 if status == b"ok" else 2
        if root.status.code != want_code:
            fail(f"{where}: status code {root.status.code} for a run that is {status!r}")
        attrs = attributes(root.attributes, where)
        want = {
            "perfguard.step": name,
            "perfguard.status": status.decode(),
            "perfguard.exit_code": exit_code,
        }
        if threshold is not None:
            want["perfguard.threshold_us"] = threshold
        if repo:
            want["perfguard.repo"] = encode_text(repo)
        if branch:
            want["perfguard.branch"] = encode_text(branch)
        # The store keeps labels as JSON of the bytes themselves.
        for key, value in json.loads(labels.decode("utf-8", "surrogateescape")).items():
            want["perfguard.label." + encode_text(key)] = encode_text(value)
        got = {k: v for k, v in attrs.items() if k in want or k.startswith("perfguard.label.")}
        if got != want:
            fail(f"{where}: attributes {got!r}, the store says {want!r}")

        # The child spans: the same tree, each child under its parent, in the store's order.
        def compare(parent_seq, parent_span):
            stored = children.get((step_id, parent_seq), [])
            exported = roots((trace, parent_span.span_id)) or []
            if len(exported) != len(stored):
                fail(f"{where}: {len(exported)} children under {parent_span.name!r}, "
                     f"the store holds {len(stored)}")
            for (seq, cname, offset, cduration), (_, child) in zip(stored, exported):
                cstart = (start + offset) * 1000
                got = (child.name, child.start_time_unix_nano, child.end_time_unix_nano)
                want = (encode_text(cname), cstart, cstart + cduration * 1000)
                if got != want:
                    fail(f"{where}: child span {seq} is {got!r}, the store says {want!r}")
                if attributes(child.attributes, f"{where} span {seq}").get("perfguard.step") != name:
                    fail(f"{where}: child span {seq} lacks perfguard.step")
                compare(seq, child)

        compare(None, root)

    orphans = [s for _, s in spans if not s.parent_span_id and s.span_id not in seen_roots]
    if orphans:
        fail(f"{len(orphans)} root spans the store has no step for")
    print(f"otlp: {len(request.resource_spans)} resources, {len(steps)} steps, "
          f"{len(spans)} spans, as the store holds them")


main()
