#!/bin/sh
# test_vuln.sh VIGIE — `vigie vuln` from the command line (issue 8): vercmp over all 22,984
# Debian version pairs through stdin, single comparisons per scheme, `outdated` against the
# bookworm-security index (exactly the 83 outdated packages), a scan of the corpus status file
# against a database built from test fixtures in every output format (SARIF and CycloneDX
# validated against their schemas), and bad input.
set -u
VIGIE=${1:?usage: test_vuln.sh path/to/vigie}
VIGIE=$(cd "$(dirname "$VIGIE")" && pwd)/$(basename "$VIGIE")
SHARED=${VG_SHARED:-../shared}
DEB="$SHARED/corpus/debian"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_lib.sh"
fails=0

check "vercmp dpkg: epoch wins" "[ \"\$('$VIGIE' vuln vercmp --scheme dpkg 1:1.0 2.0)\" = gt ]"
check "vercmp dpkg: tilde sorts first" "[ \"\$('$VIGIE' vuln vercmp --scheme dpkg 1.0~rc1 1.0)\" = lt ]"
check "vercmp rpm: caret after base" "[ \"\$('$VIGIE' vuln vercmp --scheme rpm 1.0^git1 1.0)\" = gt ]"
check "vercmp semver: prerelease first" \
    "[ \"\$('$VIGIE' vuln vercmp --scheme semver 1.0.0-alpha 1.0.0)\" = lt ]"
check "vercmp pep440: dev < pre < final < post" \
    "[ \"\$('$VIGIE' vuln vercmp --scheme pep440 1.0.dev1 1.0a1)\" = lt ] && [ \"\$('$VIGIE' vuln vercmp --scheme pep440 1.0.post1 1.0)\" = gt ]"
"$VIGIE" vuln vercmp --scheme semver 1.2 1.2.3 > /dev/null 2> "$T/e1"; rc=$?
check "vercmp: invalid version named, exit 1" "[ $rc -eq 1 ] && grep -q '1.2' '$T/e1'"
"$VIGIE" vuln vercmp --scheme nope 1 2 > /dev/null 2>&1; rc=$?
check "vercmp: unknown scheme is a usage error" "[ $rc -eq 2 ]"

if [ -r "$DEB/debian-version-pairs.tsv" ]; then
    grep -v '^#' "$DEB/debian-version-pairs.tsv" | cut -f1,2 > "$T/pairs"
    grep -v '^#' "$DEB/debian-version-pairs.tsv" | cut -f3 > "$T/want"
    "$VIGIE" vuln vercmp --scheme dpkg - < "$T/pairs" > "$T/got"
    check "vercmp -: all $(wc -l < "$T/want") Debian pairs agree" "cmp -s '$T/want' '$T/got'"
else
    echo "skip: $DEB absent"
fi

if [ -r "$DEB/dpkg-status.bookworm-host" ]; then
    "$VIGIE" vuln outdated --status "$DEB/dpkg-status.bookworm-host" \
        --packages "$DEB/bookworm-security_main_amd64.Packages" --format jsonl > "$T/out" 2> "$T/out.err"
    python3 - "$T/out" "$DEB/installed-vs-bookworm-security.tsv" > "$T/cmp" <<'P'
import json, sys
got = {(d["package"], d["installed"], d["available"]) for d in map(json.loads, open(sys.argv[1]))}
want = set()
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 4 and f[3] == "outdated":
        want.add((f[0], f[1], f[2]))
print(len(got), len(want), "same" if got == want else "differ: %s / %s" % (sorted(got - want)[:3], sorted(want - got)[:3]))
P
    check "outdated: exactly the 83 outdated packages" "grep -qx '83 83 same' '$T/cmp'"
    check "outdated: summary on stderr" "grep -q '83 of 948 installed packages' '$T/out.err'"
    "$VIGIE" vuln outdated --status "$DEB/dpkg-status.bookworm-host" \
        --packages "$DEB/bookworm-security_main_amd64.Packages" > "$T/tab" 2>/dev/null
    check "outdated: table" "head -1 '$T/tab' | grep -q '^PACKAGE' && grep -q '^xz-utils' '$T/tab'"
fi
# the advisory database from the test fixtures, then scans
FIX=tests/unit/vuln/data/db
"$VIGIE" vuln db import --db "$T/vdb" "$FIX/tracker.json" "$FIX/epss.csv" "$FIX/kev.json" \
    "$FIX/osv-semver.json" > "$T/imp" 2>&1
check "db import: tracker, EPSS, KEV, OSV" \
    "grep -q 'debian-tracker' '$T/imp' && grep -q 'epss' '$T/imp' && grep -q 'kev' '$T/imp'"
"$VIGIE" vuln db status --db "$T/vdb" > "$T/status"
check "db status: JSON with sources" "python3 -c \"import json,sys; d=json.load(open('$T/status')); assert len(d['sources']) >= 4\""
if [ -r "$DEB/dpkg-status.bookworm-host" ]; then
    for f in table json sarif cyclonedx; do
        "$VIGIE" vuln scan --db "$T/vdb" --status "$DEB/dpkg-status.bookworm-host" \
            --ecosystem Debian:12 --format $f > "$T/scan.$f" 2> "$T/scan.$f.err"
    done
    check "scan: openssl finding with no fix for bookworm" \
        "grep -q 'CVE-2099-1001' '$T/scan.table' && grep -q 'no fix released for Debian:12' '$T/scan.json'"
    check "scan: summary on stderr" "grep -q '948 packages (Debian:12)' '$T/scan.table.err'"
    python3 tests/vuln/validate_report.py sarif "$T/scan.sarif" > "$T/v1" 2>&1; r1=$?
    python3 tests/vuln/validate_report.py cyclonedx "$T/scan.cyclonedx" > "$T/v2" 2>&1; r2=$?
    if [ $r1 -eq 77 ] || [ $r2 -eq 77 ]; then
        echo "skip: schema validation ($(cat "$T/v1" "$T/v2" | head -1))"
    else
        check "scan: SARIF validates against SARIF 2.1.0" "[ $r1 -eq 0 ]"
        check "scan: CycloneDX validates against CycloneDX 1.5" "[ $r2 -eq 0 ]"
    fi
fi
"$VIGIE" vuln scan --db "$T/none-db" --status "$T/none" > /dev/null 2> "$T/e3"; rc=$?
check "scan: missing inputs named, exit 1" "[ $rc -eq 1 ] && grep -q 'none' '$T/e3'"

# discovery on loopback: a service whose banner names a Debian build, matched (low confidence)
cat > "$T/ssh-tracker.json" <<'J'
{"openssh": {
  "CVE-2099-7000": {"description": "openssh: fixed by a DSA", "scope": "remote",
    "releases": {"bookworm": {"status": "resolved", "repositories": {"bookworm": "1:9.2p1-2+deb12u3"},
                              "fixed_version": "1:9.2p1-2+deb12u5", "urgency": "high"}}},
  "CVE-2099-7001": {"description": "openssh: already fixed", "scope": "remote",
    "releases": {"bookworm": {"status": "resolved", "repositories": {"bookworm": "1:9.2p1-2+deb12u3"},
                              "fixed_version": "1:9.2p1-2+deb12u1", "urgency": "medium"}}}}}
J
"$VIGIE" vuln db import --db "$T/sshdb" "$T/ssh-tracker.json" > /dev/null 2>&1
python3 - "$T/port" <<'P' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(20)
try:
    for _ in range(4):
        c, _a = s.accept(); c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"); c.close()
except OSError:
    pass
P
SPID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$T/port" 2>/dev/null)
"$VIGIE" vuln discover 127.0.0.1 --ports "$PORT" --db "$T/sshdb" > "$T/disc" 2> "$T/disc.err"
kill $SPID 2>/dev/null
check "discover: OpenSSH banner identified" "grep -q 'openssh *9.2p1' '$T/disc'"
check "discover --db: the banner's Debian build matched (fix 1:9.2p1-2+deb12u5)" \
    "grep -q 'CVE-2099-7000.*1:9.2p1-2+deb12u5' '$T/disc' && ! grep -q 'CVE-2099-7001' '$T/disc'"

"$VIGIE" vuln outdated --status "$T/none" --packages "$T/none2" > /dev/null 2> "$T/e2"; rc=$?
check "outdated: missing file named, exit 1" "[ $rc -eq 1 ] && grep -q 'none' '$T/e2'"

echo "$fails failed"
[ "$fails" -eq 0 ]
