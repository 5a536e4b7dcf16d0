#!/usr/bin/env python3
"""Validates dagdoc's JSON outputs against the schemas in schemas/.

    check_json.py KIND FILE...     KIND = classify | triage | report

A classify output holds one object per line; the others one object.  Every
schema in schemas/ is loaded (and checked as a schema), so the report's
references into triage.schema.json resolve locally, never over a network.
Prints one line per error (file, JSON path, message); exits 1 on any.
"""
import json
import os
import sys
import warnings

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    kind, files = sys.argv[1], sys.argv[2:]
    store = {}
    for name in os.listdir(os.path.join(ROOT, "schemas")):
        with open(os.path.join(ROOT, "schemas", name)) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        store[schema["$id"]] = schema
    top = store[f"https://dagdoc.invalid/schemas/{kind}.schema.json"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver(top["$id"], top, store=store)
    validator = jsonschema.Draft202012Validator(top, resolver=resolver)
    bad = 0
    for path in files:
        with open(path) as f:
            text = f.read()
        docs = [json.loads(line) for line in text.splitlines() if line.strip()] if kind == "classify" \
            else [json.loads(text)]
        if not docs:
            print(f"{path}: no JSON")
            bad += 1
        for i, doc in enumerate(docs):
            for err in validator.iter_errors(doc):
                where = "/".join(str(p) for p in err.absolute_path)
                print(f"{path}[{i}] /{where}: {err.message[:300]}")
                bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
