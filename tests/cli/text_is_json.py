#!/usr/bin/python3
"""trace-info's text is its --json flattened: the same keys (nested keys
joined with '.'), the same values (numbers compared as numbers: the text
writes 0.0 as 0; null as null). Shared by the trace-info tests.

Usage: text_is_json.py TEXT_FILE JSON_FILE
"""
import json
import sys


def flat(o, p=""):
    for k, v in o.items():
        if isinstance(v, dict):
            yield from flat(v, p + k + ".")
        else:
            yield p + k, v


text = {}
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split(None, 1)
    text[k] = v
flat_j = dict(flat(json.load(open(sys.argv[2]))))
assert sorted(flat_j) == sorted(text), sorted(set(flat_j) ^ set(text))
for k, v in flat_j.items():
    ok = text[k] == "null" if v is None else float(text[k]) == v if isinstance(v, (int, float)) else text[k] == v
    assert ok, (k, v, text[k])
