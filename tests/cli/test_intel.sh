#!/bin/sh
# test_intel.sh VIGIE — `vigie intel` from the command line (issue 7): import of every format
# (STIX bundle, MISP event and feed directory, CSV preset, plain list, warninglist) with format
# detection, ATT&CK's counts in `stats --format json`, `match` over values and JSON events from
# stdin and a file, warninglisted indicators held back, list/search, exports, expiry, removal,
# and bad input (missing files, broken documents, bad options) with clear errors and exit codes.
set -u
VIGIE=${1:?usage: test_intel.sh path/to/vigie}
VIGIE=$(cd "$(dirname "$VIGIE")" && pwd)/$(basename "$VIGIE")
SHARED=${VG_SHARED:-../shared}
DATA=tests/unit/intel/data
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_lib.sh"
fails=0
DB="$T/db"
J() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- imports, format detection
"$VIGIE" intel import --db "$DB" "$DATA/stix/bundle.json" > "$T/imp1" 2>&1
check "stix bundle imported (detected)" "grep -q 'source bundle (stix).*7 indicators' '$T/imp1'"
check "stix rejections reported with where and why" \
    "grep -q 'compound, first: objects\[5\] indicator--a5: compound pattern (observations joined by AND)' '$T/imp1'"
"$VIGIE" intel import --db "$DB" --json "$DATA/misp/event.json" > "$T/imp2" 2>&1
check "misp event imported (detected), JSON report" \
    "J 'd[\"format\"]==\"misp\" and d[\"indicators\"]>20' < '$T/imp2' | grep -q True"
"$VIGIE" intel import --db "$DB" --source mispfeed "$DATA/misp/feed" > "$T/imp3" 2>&1
check "misp feed directory imported" "grep -q 'source mispfeed (misp)' '$T/imp3'"
"$VIGIE" intel import --db "$DB" --preset urlhaus "$DATA/csv/urlhaus.csv" > "$T/imp4" 2>&1
check "urlhaus csv imported with its preset" "grep -q 'source urlhaus (csv).*url' '$T/imp4'"
printf '# my blocklist\n198.51.100.200\nbad.example\nhttp://bad.example/x.exe\n' > "$T/mine.txt"
"$VIGIE" intel import --db "$DB" --source mine --confidence 90 "$T/mine.txt" > "$T/imp5" 2>&1
check "plain list imported, types guessed" "grep -q 'ipv4 1, domain 1, url 1' '$T/imp5'"

# --- ATT&CK counts (acceptance 1)
ATTACK="$SHARED/corpus/mitre-attack/enterprise-attack.reassembled.json"
if [ -r "$ATTACK" ]; then
    "$VIGIE" intel import --db "$T/attack" "$ATTACK" > /dev/null 2>&1
    "$VIGIE" intel stats --db "$T/attack" --format json > "$T/astats"
    check "ATT&CK: 24,771 objects" "J 'd[\"objects\"][\"total\"]' < '$T/astats' | grep -qx 24771"
    check "ATT&CK: 835 attack-patterns, 691 active" \
        "J 'd[\"objects\"][\"by_type\"][\"attack-pattern\"]' < '$T/astats' | grep -qx \"{'count': 835, 'active': 691}\""
    check "ATT&CK: 172 active groups" \
        "J 'd[\"objects\"][\"by_type\"][\"intrusion-set\"][\"active\"]' < '$T/astats' | grep -qx 172"
    check "ATT&CK: 20,048 relationships" "J 'd[\"relationships\"]' < '$T/astats' | grep -qx 20048"
    "$VIGIE" intel search --db "$T/attack" --objects T1059.001 > "$T/aobj" 2>/dev/null
    check "ATT&CK objects searchable by technique id" "grep -q 'PowerShell' '$T/aobj'"
else
    echo "skip ATT&CK counts: $ATTACK absent"
fi

# --- stats
"$VIGIE" intel stats --db "$DB" --format json > "$T/stats"
check "stats: 5 sources" "J 'len(d[\"sources\"])' < '$T/stats' | grep -qx 5"
check "stats: indicators by type" "J 'd[\"indicators\"][\"by_type\"][\"url\"]>0' < '$T/stats' | grep -q True"
"$VIGIE" intel stats --db "$DB" > "$T/stats.txt"
check "stats as text" "grep -q '^source mine: csv, 3 indicators' '$T/stats.txt'"

# --- match: values and JSON events, stdin and file
cat > "$T/in" <<'E'
198.51.100.7
nothing.example
http://bad.example/x.exe
{"destination":{"ip":"198.51.100.200"},"dns":{"question":{"name":"c2.example"}}}
{"src_ip":"10.0.0.1","dest_ip":"203.0.113.5","tls":{"sni":"quiet.example"}}
not json {
E
"$VIGIE" intel match --db "$DB" < "$T/in" > "$T/m1" 2> "$T/m1.err"
check "match: one record per hit (5)" "[ \$(wc -l < '$T/m1') -eq 5 ]"
check "match: context of the STIX indicator (malware, ATT&CK)" \
    "grep '\"line\":1' '$T/m1' | grep -q '\"ext_id\":\"S0367\"'"
check "match: URL" "grep '\"line\":3' '$T/m1' | grep -q '\"type\":\"url\"'"
check "match: event fields named" \
    "grep -q '\"line\":4,\"field\":\"destination.ip\"' '$T/m1' && grep -q '\"line\":4,\"field\":\"dns.question.name\"' '$T/m1'"
check "match: EVE field dest_ip inside a CIDR" "grep -q '\"field\":\"dest_ip\".*203.0.113.0/24' '$T/m1'"
check "match: policy confidence applied" "grep '\"line\":4,\"field\":\"destination.ip\"' '$T/m1' | grep -q '\"confidence\":90'"
check "match: summary on stderr" "grep -q '6 lines, 5 hits' '$T/m1.err'"
"$VIGIE" intel match --db "$DB" --format text "$T/in" > "$T/m2" 2>/dev/null
check "match: text format from a file" "grep -q '^line 1: 198.51.100.7 hits ipv4 indicator of bundle' '$T/m2'"

printf 'hxxp://bad[.]example/x.exe\n198.51.100[.]7\n' | "$VIGIE" intel match --db "$DB" > "$T/m2b" 2>/dev/null
check "match: defanged values refanged" "[ \$(wc -l < '$T/m2b') -eq 2 ]"

# --- warninglists: flagged at import, held back unless --all
cat > "$T/wl.json" <<'W'
{"name":"Test resolvers","version":1,"description":"t","type":"cidr","matching_attributes":["ip-dst","ip-src"],"list":["198.51.100.0/24"]}
W
"$VIGIE" intel import --db "$DB" --format warninglist "$T/wl.json" > "$T/imp6" 2>&1
check "warninglist imported" "grep -q 'source wl (warninglist)' '$T/imp6'"
echo 198.51.100.7 | "$VIGIE" intel match --db "$DB" > "$T/m3" 2>/dev/null
check "warninglisted indicator not matched by default" "[ ! -s '$T/m3' ]"
echo 198.51.100.7 | "$VIGIE" intel match --db "$DB" --all > "$T/m4" 2>/dev/null
check "warninglisted indicator matched with --all, list named" \
    "grep -q '\"warninglisted\":true,\"warninglists\":\[\"wl\"\]' '$T/m4'"
mkdir -p "$T/wls/lab"
cp "$T/wl.json" "$T/wls/lab/list.json"
"$VIGIE" intel import --db "$T/db2" "$T/wls" > "$T/imp6b" 2>&1
check "a directory of <name>/list.json is detected as warninglists" \
    "grep -q 'source warninglists (warninglist)' '$T/imp6b'"
if [ -d "$SHARED/corpus/misp-warninglists/lists" ]; then
    "$VIGIE" intel import --db "$DB" --format warninglist "$SHARED/corpus/misp-warninglists/lists" > "$T/imp7" 2>/dev/null
    check "all MISP warninglists imported at once" "grep -q '52896[0-9] warninglist entries, 136 objects' '$T/imp7'"
fi

# --- list / search
"$VIGIE" intel list --db "$DB" --type url --limit 2 > "$T/l1" 2>/dev/null
check "list --type --limit" "[ \$(wc -l < '$T/l1') -eq 2 ] && ! grep -qv '\"type\":\"url\"' '$T/l1'"
"$VIGIE" intel search --db "$DB" emotet > "$T/s1" 2>/dev/null
check "search by name" "grep -q '198.51.100.7' '$T/s1'"

# --- exports
"$VIGIE" intel export --db "$DB" --format suricata --out "$T/suri" > "$T/x1" 2>&1
check "suricata export: datasets and rules" "[ -s '$T/suri/vigie-intel.rules' ] && ls '$T/suri' | grep -q '.lst'"
"$VIGIE" intel export --db "$DB" --format zeek --out "$T/intel.dat" > "$T/x2" 2>&1
check "zeek export: header and Intel::DOMAIN" \
    "head -1 '$T/intel.dat' | grep -q '^#fields' && grep -q 'Intel::DOMAIN' '$T/intel.dat'"
check "zeek export: warninglisted left out" "! grep -q '^198.51.100.7	' '$T/intel.dat'"

# --- expiry, removal, policy
"$VIGIE" intel expire --db "$DB" --now 4102444800 > "$T/e1" 2>&1
check "expire removes what is past valid_until" "grep -q '^[1-9][0-9]* expired indicators removed' '$T/e1'"
"$VIGIE" intel remove --db "$DB" mine > /dev/null 2>&1
echo bad.example | "$VIGIE" intel match --db "$DB" > "$T/m5" 2>/dev/null
check "removed source no longer matches" "[ ! -s '$T/m5' ]"
"$VIGIE" intel remove --db "$DB" mine > /dev/null 2> "$T/r2"
check "removing an unknown source fails clearly" "[ \$? -ne 0 ] || grep -q \"no source 'mine'\" '$T/r2'"
"$VIGIE" intel policy --db "$DB" bundle --half-life 30d --confidence 70 > "$T/p1" 2>&1
check "policy set" "grep -q 'half-life 2592000s' '$T/p1'"

# --- bad input
"$VIGIE" intel import --db "$DB" "$T/nope.json" > /dev/null 2> "$T/b1"; rc=$?
check "missing file: exit 1, path named" "[ $rc -eq 1 ] && grep -q 'nope.json' '$T/b1'"
printf '{"type":"bundle","objects":[{"type":"indicator",' > "$T/trunc.json"
G1=$(J 'd["generation"]' < "$T/stats")
"$VIGIE" intel import --db "$DB" --source bundle "$T/trunc.json" > /dev/null 2> "$T/b2"; rc=$?
check "truncated bundle: exit 1, offset named" "[ $rc -eq 1 ] && grep -q 'trunc.json: offset' '$T/b2'"
echo 198.51.100.7 | "$VIGIE" intel match --db "$DB" --all > "$T/m6" 2>/dev/null
check "failed import left the previous generation" "[ -s '$T/m6' ]"
"$VIGIE" intel import --db "$DB" --format bogus "$T/mine.txt" > /dev/null 2> "$T/b3"; rc=$?
check "unknown format: usage error" "[ $rc -eq 2 ] && grep -q \"unknown format 'bogus'\" '$T/b3'"
"$VIGIE" intel stats > /dev/null 2> "$T/b4"; rc=$?
check "no --db: usage error" "[ $rc -eq 2 ] && grep -q 'db DIR' '$T/b4'"
head -c 100000 /dev/urandom > "$T/rand.bin"
"$VIGIE" intel import --db "$DB" --source rnd "$T/rand.bin" > /dev/null 2>&1; rc=$?
check "binary file: no crash" "[ $rc -le 1 ]"
"$VIGIE" intel match --db "$T/none" < /dev/null > /dev/null 2> "$T/b5"; rc=$?
check "match on a missing store fails clearly" "[ $rc -eq 1 ] && grep -q 'none' '$T/b5'"

echo "$fails failed"
[ "$fails" -eq 0 ]
