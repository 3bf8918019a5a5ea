#!/usr/bin/env python3
"""Reads `perf-alerts check --format github` as GitHub's runner reads a job's output, and
holds each command against the alert it stands for.

  github-commands.py REPORT ALERTS_JSON

REPORT is the check's stdout, ALERTS_JSON `perf-alerts list --json` of the same store (the
alerts' text). The decoder follows GitHub's documentation of workflow commands and its
runner's rules, not perfguard's code: the output is read as UTF-8 and split into lines at
CR, LF and CRLF; a line that, less its leading white space, starts with `::` is a command
if a second `::` follows; between them are the command's name and, after a space,
properties separated by `,`, each `name=value`; after the second `::` is the message. A
property's value is unescaped by replacing `%0D`, `%0A`, `%3A`, `%2C`, then `%25`, in that
order, by CR, LF, `:`, `,` and `%`; the message by replacing `%0D`, `%0A`, then `%25`.

Every line must be one command, there must be one per alert (so no text of an alert ended
a command early or started another), and each must say what its alert says: the command
is error, warning or notice for critical, warning and info; the title is `perfguard #ID
SEVERITY: RULE on STEP` with ` (BRANCH)` when there is a branch; the message is the
summary.
"""
import json
import re
import sys

DATA_ESCAPES = [("%0D", "\r"), ("%0A", "\n"), ("%25", "%")]
PROPERTY_ESCAPES = [("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")]
COMMAND_OF = {"critical": "error", "warning": "warning", "info": "notice"}


def unescape(text, escapes):
    for escaped, char in escapes:
        text = text.replace(escaped, char)
    return text


def parse_command(line):
    """(name, properties, message) of a workflow command line, or None when it is not one."""
    line = line.lstrip()
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    info = line[2:end]
    name, _, props_text = info.partition(" ")
    properties = {}
    for prop in props_text.strip().split(","):
        if not prop:
            continue
        key, sep, value = prop.partition("=")
        if not key or not sep or not value:
            continue
        properties[key.lower()] = unescape(value, PROPERTY_ESCAPES)
    return name, properties, unescape(line[end + 2:], DATA_ESCAPES)


def main():
    report_bytes = open(sys.argv[1], "rb").read()
    alerts = json.load(open(sys.argv[2], encoding="utf-8"))["alerts"]
    try:
        report = report_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.exit(f"the report is not UTF-8: {e}")
    lines = re.split(r"\r\n|\r|\n", report)
    if lines and lines[-1] == "":
        lines.pop()
    commands = []
    for n, line in enumerate(lines, 1):
        command = parse_command(line)
        if command is None:
            sys.exit(f"line {n} is not a workflow command: {line!r}")
        commands.append(command)
    if len(commands) != len(alerts):
        sys.exit(f"{len(commands)} commands for {len(alerts)} alerts: {lines!r}")
    for (name, properties, message), alert in zip(commands, alerts):
        title = f"perfguard #{alert['id']} {alert['severity']}: {alert['rule']} on {alert['step']}"
        if alert["branch"]:
            title += f" ({alert['branch']})"
        want = (COMMAND_OF[alert["severity"]], {"title": title}, alert["summary"])
        if (name, properties, message) != want:
            sys.exit(f"alert #{alert['id']}: read {(name, properties, message)!r}, want {want!r}")
    print(f"{len(commands)} workflow commands, each its alert's text")


main()
