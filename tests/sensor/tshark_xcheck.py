#!/usr/bin/env python3
"""tshark_xcheck.py — cross-check vigie-sensor against Debian's tshark (issue 6, acceptance 2).

For each pcap, the set of DNS query names and the set of TLS SNI values that tshark decodes
must equal the sets in our EVE records:
  tshark: dns.qry.name of every DNS message (queries and responses; tshark's DNS dissector on
          its registered ports plus its UDP heuristic; mDNS/LLMNR excluded), and
          tls.handshake.extensions_server_name of every ClientHello (TLS on 443 and its TCP
          heuristic);
  sensor: dns.queries[].rrname of every dns record; tls.sni of every tls record.
tshark writes some characters differently (non-printable bytes); names are compared after
the same normalisation on both sides (see norm()).
Pcaps: arguments, or by default every suricata-verify test pcap whose test checks dns/tls.
Prints the pcaps whose sets differ, with the differences; exit 1 if any differs other than
the known differences below, each of which is tshark's:
"""
KNOWN = {
    # DNS over TCP on port 1053: tshark dissects DNS there only when told to, and then
    # prints the 1,025-byte name as "<Name too long>"; Suricata's own test expects the record.
    "tests/dns/dns-truncated-rname/poc2.pcap": "tshark does not show names over 255 bytes",
}
import argparse, csv, json, os, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor


def norm(s):
    return s.rstrip(".").lower()


def tshark_sets(pcap):
    def run(filt, field):
        p = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", filt, "-T", "fields", "-E",
                            "occurrence=a", "-E", "aggregator=\x1f", "-e", field],
                           capture_output=True, text=True, errors="replace")
        out = set()
        for line in p.stdout.splitlines():
            for v in line.split("\x1f"):
                if v:
                    out.add(norm(v))
        return out
    dns = run("dns && !mdns && !llmnr", "dns.qry.name")
    sni = run("tls.handshake.type == 1", "tls.handshake.extensions_server_name")
    return dns, sni


def sensor_sets(sensor, pcap, tmp):
    out = os.path.join(tmp, "%s.json" % pcap.replace("/", "_"))
    subprocess.run([sensor, "-r", pcap, "--eve", out, "--no-flow"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    dns, sni = set(), set()
    if os.path.exists(out):
        with open(out, errors="replace") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                d = ev.get("dns") if ev.get("event_type") == "dns" else None
                if isinstance(d, dict):
                    for q in d.get("queries") or []:
                        if isinstance(q, dict) and q.get("rrname") is not None:
                            dns.add(norm(q["rrname"]))
                t = ev.get("tls") if ev.get("event_type") == "tls" else None
                if isinstance(t, dict) and t.get("sni"):
                    sni.add(norm(t["sni"]))
        os.unlink(out)
    return dns, sni


def default_pcaps(corpus):
    pcaps = []
    with open(os.path.join(corpus, "ORACLE_tests.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            types = r["event_types"]
            if r["pcap"] and ("dns:" in types or "tls:" in types):
                pcaps.append(os.path.join(corpus, r["pcap"]))
    return sorted(set(pcaps))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", default=os.path.join(here, "../../build/vigie-sensor"))
    ap.add_argument("--corpus", default=os.path.join(here, "../../../shared/corpus/suricata-verify"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("pcaps", nargs="*")
    a = ap.parse_args()
    pcaps = a.pcaps or default_pcaps(a.corpus)
    tmp = tempfile.mkdtemp(prefix="xcheck-")

    def one(p):
        return p, tshark_sets(p), sensor_sets(a.sensor, p, tmp)

    with ThreadPoolExecutor(a.jobs) as ex:
        res = list(ex.map(one, pcaps))
    bad = known = 0
    ndns = nsni = 0
    for p, (td, ts), (sd, ss) in res:
        ndns += len(td)
        nsni += len(ts)
        rel = os.path.relpath(p, a.corpus)
        if (td != sd or ts != ss) and rel in KNOWN:
            known += 1
            print("KNOWN %s: %s" % (rel, KNOWN[rel]))
        elif td != sd or ts != ss:
            bad += 1
            print("DIFF %s" % rel)
            for what, t, s in (("dns", td, sd), ("sni", ts, ss)):
                if t - s:
                    print("   %s only tshark: %s" % (what, sorted(t - s)[:8]))
                if s - t:
                    print("   %s only sensor: %s" % (what, sorted(s - t)[:8]))
        elif a.verbose:
            print("ok   %s (%d names, %d SNI)" % (p, len(td), len(ts)))
    os.rmdir(tmp)
    print("tshark cross-check: %d/%d pcaps identical, %d known tshark differences, %d differ "
          "(%d DNS names, %d SNI values per tshark)" % (len(res) - bad - known, len(res), known,
                                                       bad, ndns, nsni))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
