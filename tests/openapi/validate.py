#!/usr/bin/env python3
"""Validates the OpenAPI document the producer serves against the official OpenAPI 3.1
schema, as openapi-spec-validator (PyPI) ships it: structure, and every $ref resolves.

Usage: print_openapi | validate.py   (ctest test openapi.official_schema; the tool is
installed by scripts/install-deps into .cache/venv). Exits 1 naming each error.
"""
import json
import sys

from openapi_spec_validator.validation import OpenAPIV31SpecValidator

document = json.load(sys.stdin)
if document.get("openapi") != "3.1.0":
    sys.exit("validate.py: not an OpenAPI 3.1.0 document: openapi is %r" % document.get("openapi"))
errors = list(OpenAPIV31SpecValidator(document).iter_errors())
for e in errors:
    print("openapi.json %s: %s" % ("/".join(str(p) for p in e.path), e.message[:500]))
if errors:
    sys.exit(1)
print("openapi.json is valid OpenAPI 3.1 (%d paths)" % len(document["paths"]))
