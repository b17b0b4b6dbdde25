#!/usr/bin/env python3
"""sv_oracle.py — the suricata-verify oracle for vigie-sensor (issue 6, acceptance 1).

For every test of ../shared/corpus/suricata-verify whose test.yaml checks records of the
selected event types (dns, tls, ssh, http, smtp, ftp, dhcp by default), run
`vigie-sensor -r PCAP --eve OUT` and evaluate the test's `filter` checks for those event
types against our EVE output, with suricata-verify's own semantics (run.py FilterCheck):
exact `count` of records whose fields equal every `match` value; `has-key`, `not-has-key`,
`a.b[0]`, `__len`, `__contains`, `__startswith`, `__endswith`, `__find`.

What is skipped, and why (printed in the summary; documented in docs/sensor-oracle.md):
  * checks on other event types (alert, stats, flow, fileinfo, …) — the issue scopes the
    oracle to protocol metadata;
  * filters and tests whose `requires` says they are for another Suricata version than the
    8.0 layout we write (lt-version ≤ 8, min-version ≥ 9), or need a build feature;
  * tests that simulate engine internals or run Suricata as an IPS (--simulate-*, memcap,
    exception and midstream policies, --simulate-ips): their expectations describe what
    Suricata's own failure handling or drop rules let through, not the traffic, and the
    sensor is passive;
  * tests that set a non-default parser limit (max-tx, max-line-length) on the command line
    or in suricata.yaml: the sensor's limits are fixed;
  * tests whose suricata.yaml sets an exception policy or disables a parser, or filters DNS
    output by type or direction, and filters on other
    output files than eve.json (a logging configuration, not traffic); a suricata.yaml that
    selects the DNS v2 layout, and a test's `env`, are passed on to the sensor
    (SURICATA_EVE_DNS_VERSION=2, as Suricata reads it);
  * engine-specific header fields, removed from every match before it is evaluated:
    pcap_cnt (when Suricata logs a transaction), pkt_src, flow_id, parent_id, in_iface,
    capture.*.
A test passes when all of its evaluated filters pass. Exit status 0 when the filter pass
rate is at least --min-rate (default 0: report only).
"""
import argparse, json, os, re, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor

try:
    import yaml
except ImportError:
    sys.exit("sv_oracle: python3-yaml is missing (apt-get install python3-yaml)")

PROTOS = ("dns", "tls", "ssh", "http", "smtp", "ftp", "dhcp")
OUR_VERSION = (8, 0, 99)
FEATURES = {"HAVE_JA3", "HAVE_JA4"}  # build features of Suricata that we have
ENGINE_FIELDS = {"pcap_cnt", "pkt_src", "flow_id", "parent_id", "in_iface"}
ENGINE_PREFIXES = ("capture.",)
# Suricata settings that change a parser's limits away from its defaults (the sensor has fixed
# limits, documented in docs/sensor-protocols.md).
LIMIT_ARGS = ("max-tx", "max-line-length")
SIMULATE_ARGS = ("--simulate-", "memcap-policy", "exception-policy", "error-policy",
                 "--simulate-ips", "midstream-policy")


def version(v):
    parts = [int(x) for x in re.findall(r"\d+", str(v))]
    return tuple((parts + [0, 0, 0])[:3])


def requires_ok(req):
    """None if the requirements hold for us, else the reason."""
    if not req:
        return None
    if "min-version" in req and version(req["min-version"]) > OUR_VERSION:
        return "min-version %s" % req["min-version"]
    if "lt-version" in req and version(req["lt-version"]) <= OUR_VERSION:
        return "lt-version %s" % req["lt-version"]
    if "version" in req and version(req["version"])[:1] != OUR_VERSION[:1]:
        return "version %s" % req["version"]
    missing = [f for f in req.get("features") or [] if f not in FEATURES]
    if missing:
        return "features %s" % ",".join(map(str, missing))
    if req.get("script") or req.get("pcap") is False:
        return "script"
    return None


def find_value(name, obj):
    for part in name.split("."):
        if part == "__len":
            try:
                return len(obj)
            except TypeError:
                return -1
        if part in ("__contains", "__find", "__startswith", "__endswith"):
            return obj
        m = re.match(r"^(.*)\[(\d+)\]$", part)
        key, index = (m.group(1), int(m.group(2))) if m else (part, None)
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
        if index is not None:
            try:
                obj = obj[index]
            except (IndexError, KeyError, TypeError):
                return None
    return obj


def match(event, spec):
    for key, expected in spec.items():
        if key in ("has-key", "not-has-key"):
            names = expected if isinstance(expected, list) else [expected]
            for n in names:
                if (find_value(n, event) is None) == (key == "has-key"):
                    return False
            continue
        val = find_value(key, event)
        if key.endswith("__contains"):
            if val is None or expected not in val:
                return False
        elif key.endswith("__startswith"):
            if not isinstance(val, str) or not val.startswith(expected):
                return False
        elif key.endswith("__endswith"):
            if not isinstance(val, str) or not val.endswith(expected):
                return False
        elif key.endswith("__find"):
            if not isinstance(val, str) or val.find(expected) < 0:
                return False
        elif val != expected and str(val) != str(expected):
            return False
    return True


def strip_engine(spec):
    out = {}
    for k, v in spec.items():
        if k in ENGINE_FIELDS or k.startswith(ENGINE_PREFIXES):
            continue
        if k in ("has-key", "not-has-key"):
            names = [n for n in (v if isinstance(v, list) else [v])
                     if n not in ENGINE_FIELDS and not str(n).startswith(ENGINE_PREFIXES)]
            if names:
                out[k] = names
            continue
        out[k] = v
    return out


def select(root, protos):
    """[(test_dir, pcap, [filters], skipped_filters)] for tests checking protos."""
    import csv
    tests = []
    skips = {}
    with open(os.path.join(root, "ORACLE_tests.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        tdir = os.path.join(root, r["test_dir"])
        with open(os.path.join(tdir, "test.yaml")) as f:
            y = yaml.safe_load(f) or {}
        filters = []
        for ch in y.get("checks") or []:
            flt = ch.get("filter") if isinstance(ch, dict) else None
            if flt and (flt.get("match") or {}).get("event_type") in protos:
                filters.append(flt)
        if not filters:
            continue
        why = requires_ok(y.get("requires"))
        if not why and "min-version" in y and version(y["min-version"]) > OUR_VERSION:
            why = "min-version %s" % y["min-version"]
        args = " ".join(map(str, y.get("args") or []))
        if not why:
            for a in SIMULATE_ARGS:
                if a in args:
                    why = "engine simulation (%s)" % a.strip("-")
                    break
        if not why:
            for a in LIMIT_ARGS:
                if a in args:
                    why = "config (a non-default parser limit: %s)" % a
                    break
        env = {str(k): str(v) for k, v in (y.get("env") or {}).items()}
        extra = ["--no-vlan-tracking"] if "vlan.use-for-tracking=false" in args else []
        cenv, cargs, cwhy = eve_config(tdir)
        env.update(cenv)
        why = why or cwhy
        if why:
            skips[r["test_dir"]] = (why, len(filters))
            continue
        pcap = os.path.join(root, r["pcap"]) if r["pcap"] else None
        if not pcap or not os.path.exists(pcap):
            skips[r["test_dir"]] = ("no pcap", len(filters))
            continue
        kept = []
        for flt in filters:
            w = requires_ok(flt.get("requires"))
            if not w and flt.get("filename", "eve.json") != "eve.json":
                w = "another output file (%s)" % flt["filename"]
            if w:
                skips.setdefault(r["test_dir"] + " (filter)", [w, 0])
                continue
            kept.append(flt)
        if kept:
            tests.append((r["test_dir"], pcap, kept, env, cargs + extra))
    return tests, skips


def eve_config(tdir):
    """What the test's suricata.yaml asks of EVE output: (env, extra args, reason to skip).

    Settings with a sensor equivalent are passed on: the DNS v2 layout (`dns: {version: 2}`)
    as SURICATA_EVE_DNS_VERSION=2 (the switch Suricata reads too), http `dump-all-headers`
    as --http-headers, `vlan.use-for-tracking=false` as --no-vlan-tracking, `ethernet: yes` as
    --ether, `community-id-seed` as --community-id-seed. Per-type/request/response DNS output
    filtering is a logging configuration the sensor does not emulate: such tests are skipped."""
    path = os.path.join(tdir, "suricata.yaml")
    args = []
    if not os.path.exists(path):
        return {}, args, None
    try:
        with open(path) as f:
            text = f.read()
        doc = yaml.safe_load(text.split("\n---", 1)[-1] if text.startswith("%YAML") else text)
    except Exception:
        return {}, args, None
    env = {}
    doc = doc if isinstance(doc, dict) else {}
    if "exception-policy" in doc:
        return env, args, "engine simulation (exception-policy in suricata.yaml)"
    protos = ((doc.get("app-layer") or {}).get("protocols") or {})
    for name, conf in protos.items() if isinstance(protos, dict) else []:
        if isinstance(conf, dict) and conf.get("enabled") in (False, "no"):
            return env, args, "config (the %s parser disabled)" % name
        if isinstance(conf, dict) and any(k in conf for k in LIMIT_ARGS):
            return env, args, "config (a non-default %s parser limit)" % name
    for out in doc.get("outputs") or []:
        eve = out.get("eve-log") if isinstance(out, dict) else None
        if not isinstance(eve, dict) or eve.get("enabled") in (False, "no"):
            continue
        if eve.get("ethernet") in (True, "yes"):
            args.append("--ether")
        if "community-id-seed" in eve:
            args += ["--community-id-seed", str(eve["community-id-seed"])]
        for t in eve.get("types") or []:
            if isinstance(t, dict) and isinstance(t.get("http"), dict) and \
                    t["http"].get("dump-all-headers") not in (None, "none", False):
                args.append("--http-headers")
            if isinstance(t, dict) and isinstance(t.get("dns"), dict):
                d = t["dns"]
                if str(d.get("version")) == "2":
                    env["SURICATA_EVE_DNS_VERSION"] = "2"
                if any(k in d for k in ("types", "requests", "responses", "formats")):
                    return env, args, "config (dns output filtering)"
    return env, args, None


def run_one(sensor, test, outdir):
    name, pcap, filters, env, args = test
    out = os.path.join(outdir, name.replace("/", "_") + ".json")
    t0 = time.time()
    p = subprocess.run([sensor, "-r", pcap, "--eve", out] + args, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120, env=dict(os.environ, **env))
    dt = time.time() - t0
    events = []
    if os.path.exists(out):
        with open(out) as f:
            for n, line in enumerate(f, 1):
                try:
                    events.append(json.loads(line))
                except ValueError as e:
                    return name, [(None, "line %d of our EVE is not JSON: %s" % (n, e))], dt, p
    results = []
    for flt in filters:
        spec = strip_engine(flt["match"])
        got = sum(1 for ev in events if match(ev, spec))
        want = flt["count"]
        results.append((flt, None if got == want else "count %d, want %d" % (got, want)))
    return name, results, dt, p


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", default=os.path.join(here, "../../build/vigie-sensor"))
    ap.add_argument("--corpus", default=os.path.join(here, "../../../shared/corpus/suricata-verify"))
    ap.add_argument("--proto", default=",".join(PROTOS), help="event types, comma-separated")
    ap.add_argument("--test", action="append", help="only tests whose name contains this")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", help="keep our EVE outputs in this directory")
    ap.add_argument("--min-rate", type=float, default=0.0, help="fail below this filter pass rate (0..1)")
    ap.add_argument("--json", help="write the per-test results here")
    ap.add_argument("-v", "--verbose", action="count", default=0)
    a = ap.parse_args()
    protos = tuple(x.strip() for x in a.proto.split(",") if x.strip())
    tests, skips = select(a.corpus, protos)
    if a.test:
        tests = [t for t in tests if any(s in t[0] for s in a.test)]
    outdir = a.keep or tempfile.mkdtemp(prefix="sv-oracle-")
    os.makedirs(outdir, exist_ok=True)
    t0 = time.time()
    with ThreadPoolExecutor(a.jobs) as ex:
        res = list(ex.map(lambda t: run_one(a.sensor, t, outdir), tests))
    per_proto = {p: [0, 0] for p in protos}
    tpass = fpass = ftot = 0
    crashes = []
    report = []
    for name, results, dt, p in sorted(res, key=lambda r: r[0]):
        if p.returncode < 0 or p.returncode > 1:
            crashes.append((name, p.returncode, p.stderr.decode(errors="replace")[-300:]))
        ok = all(err is None for _, err in results)
        tpass += ok
        fails = []
        for flt, err in results:
            ftot += 1
            et = flt["match"]["event_type"] if flt else "?"
            if et in per_proto:
                per_proto[et][1] += 1
            if err is None:
                fpass += 1
                if et in per_proto:
                    per_proto[et][0] += 1
            else:
                fails.append((flt, err))
        report.append({"test": name, "pass": ok, "failures": [{"match": f["match"] if f else None, "error": e} for f, e in fails]})
        if not ok and a.verbose:
            print("FAIL %s" % name)
            for flt, err in fails:
                print("   %s: %s" % (err, json.dumps(flt["match"], sort_keys=True) if flt else ""))
        elif a.verbose > 1:
            print("ok   %s (%.2f s)" % (name, dt))
    if not a.keep:
        subprocess.run(["rm", "-rf", outdir])
    print("suricata-verify oracle (%s): tests %d/%d passed (%.1f%%), filters %d/%d (%.1f%%) in %.1f s" % (
        ",".join(protos), tpass, len(tests), 100.0 * tpass / max(1, len(tests)), fpass, ftot,
        100.0 * fpass / max(1, ftot), time.time() - t0))
    for p, (ok, n) in per_proto.items():
        if n:
            print("  %-5s filters %d/%d" % (p, ok, n))
    nskip = sum(1 for k in skips if not k.endswith("(filter)"))
    reasons = {}
    for k, v in skips.items():
        r = v[0].split(" ")[0]
        reasons[r] = reasons.get(r, 0) + 1
    print("  skipped: %d tests, %d filters (%s)" % (nskip, sum(1 for k in skips if k.endswith("(filter)")),
          ", ".join("%s %d" % kv for kv in sorted(reasons.items()))))
    if a.verbose > 2:
        for k, v in sorted(skips.items()):
            print("  skip %s: %s" % (k, v[0]))
    for name, rc, err in crashes:
        print("CRASH %s: exit %d: %s" % (name, rc, err))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"tests": report, "skips": {k: v[0] for k, v in skips.items()}}, f, indent=1)
    rate = fpass / max(1, ftot)
    return 1 if crashes or rate < a.min_rate else 0


if __name__ == "__main__":
    sys.exit(main())
