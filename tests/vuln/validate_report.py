#!/usr/bin/env python3
"""validate_report.py - validate a `vigie vuln scan` report against its published JSON schema.

  validate_report.py sarif|cyclonedx FILE

The schemas are the official ones, taken from npm packages that ship them (SARIF 2.1.0: the
sarif-2.1.0-rtm.5 schema in @microsoft/jest-sarif; CycloneDX 1.5: bom-1.5 with its spdx and
jsf references in @cyclonedx/cyclonedx-library), downloaded once from registry.npmjs.org into
$VG_SCHEMA_CACHE (default /tmp/vigie-schemas). Exit 0 valid, 1 invalid (errors printed),
77 when the schemas cannot be had (offline) or python3-jsonschema is missing.
"""
import io
import json
import os
import sys
import tarfile
import urllib.request
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

PACKAGES = {
    "sarif": ("https://registry.npmjs.org/@microsoft/jest-sarif/-/jest-sarif-1.0.0-beta.0.tgz",
              {"package/lib/schemas/sarif-2.1.0-rtm.5.json": "sarif-2.1.0.json"}),
    "cyclonedx": ("https://registry.npmjs.org/@cyclonedx/cyclonedx-library/-/cyclonedx-library-10.3.0.tgz",
                  {"package/res/schema/bom-1.5.SNAPSHOT.schema.json": "bom-1.5.schema.json",
                   "package/res/schema/spdx.SNAPSHOT.schema.json": "spdx.schema.json",
                   "package/res/schema/jsf-0.82.SNAPSHOT.schema.json": "jsf-0.82.schema.json"}),
}


def fetch(kind, cache):
    url, members = PACKAGES[kind]
    want = [os.path.join(cache, v) for v in members.values()]
    if all(os.path.exists(p) for p in want):
        return
    os.makedirs(cache, exist_ok=True)
    data = urllib.request.urlopen(url, timeout=60).read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        for name, out in members.items():
            with open(os.path.join(cache, out), "wb") as f:
                f.write(t.extractfile(name).read())


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in PACKAGES:
        print(__doc__, file=sys.stderr)
        return 2
    kind, path = sys.argv[1], sys.argv[2]
    try:
        import jsonschema
    except ImportError:
        print("skip: python3-jsonschema is not installed", file=sys.stderr)
        return 77
    cache = os.environ.get("VG_SCHEMA_CACHE", "/tmp/vigie-schemas")
    try:
        fetch(kind, cache)
    except Exception as e:  # offline: the check cannot run here
        print("skip: cannot fetch the %s schema: %s" % (kind, e), file=sys.stderr)
        return 77
    doc = json.load(open(path))
    if kind == "sarif":
        schema = json.load(open(os.path.join(cache, "sarif-2.1.0.json")))
        validator = jsonschema.Draft7Validator(schema)
    else:
        store = {}
        for name in ("bom-1.5.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"):
            s = json.load(open(os.path.join(cache, name)))
            store[name] = s
            if "$id" in s:
                store[s["$id"]] = s
        schema = store["bom-1.5.schema.json"]
        resolver = jsonschema.RefResolver(base_uri="file://%s/" % cache, referrer=schema,
                                          store=store)
        validator = jsonschema.Draft7Validator(schema, resolver=resolver)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:20]:
        print("%s: %s at /%s" % (path, e.message[:300], "/".join(str(p) for p in e.path)))
    if errors:
        print("%d schema errors" % len(errors))
        return 1
    print("%s: valid %s" % (path, kind))
    return 0


if __name__ == "__main__":
    sys.exit(main())
