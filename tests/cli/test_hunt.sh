#!/bin/sh
# test_hunt.sh VIGIE — `vigie hunt` and `vigie rules` from the command line: output records,
# formats, exit statuses, and bad input (unreadable paths, truncated EVTX, invalid UTF-8,
# a 100 MB single line, binary files) handled without a crash or a hang.
set -u
VIGIE=${1:?usage: test_hunt.sh path/to/vigie}
VIGIE=$(cd "$(dirname "$VIGIE")" && pwd)/$(basename "$VIGIE")
SHARED=${VG_SHARED:-../shared}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_lib.sh"

mkdir -p "$T/rules" "$T/logs" "$T/bad"
cat > "$T/rules/r.yml" <<'Y'
title: Whoami Execution
id: 11111111-2222-3333-4444-555555555555
status: test
level: medium
tags: [attack.discovery, attack.t1033]
logsource: {category: process_creation, product: windows}
detection:
    sel:
        Image|endswith: '\whoami.exe'
    condition: sel
---
title: Login burst
id: 22222222-2222-3333-4444-555555555555
level: high
correlation:
    type: event_count
    rules: [33333333-2222-3333-4444-555555555555]
    group-by: [hostname]
    timespan: 10m
    condition: {gte: 3}
---
title: Failed login
id: 33333333-2222-3333-4444-555555555555
level: low
logsource: {product: linux, service: sshd}
detection:
    sel:
        message|contains: 'Failed password'
    condition: sel
Y
cat > "$T/logs/a.json" <<'J'
{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1","TimeCreated":{"#attributes":{"SystemTime":"2025-01-01T10:00:00.000000Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all"}}}
J
# one failed login per file, across files: the correlation sees them merged by time
printf 'Jan  1 10:00:01 h sshd[1]: Failed password for root from 1.2.3.4\n' > "$T/logs/b1.log"
printf 'Jan  1 10:00:02 h sshd[1]: Failed password for root from 1.2.3.4\n' > "$T/logs/b2.log"
printf 'Jan  1 10:00:03 h sshd[1]: Failed password for root from 1.2.3.4\n' > "$T/logs/b3.log"

"$VIGIE" --help > /dev/null; check "help exits 0" '[ $? -eq 0 ]'
"$VIGIE" nonsense > /dev/null 2>&1; check "unknown command exits 2" '[ $? -eq 2 ]'
"$VIGIE" hunt "$T/logs" > /dev/null 2>&1; check "hunt without --rules exits 2" '[ $? -eq 2 ]'

"$VIGIE" hunt -q --rules "$T/rules" -f jsonl "$T/logs" > "$T/out.jsonl" 2> "$T/err.txt"
rc=$?
check "hunt exits 0" '[ $rc -eq 0 ]'
python3 - "$T/out.jsonl" "$T/logs/a.json" <<'P' && pass "jsonl records carry rule, time, tags, file, event" || fail "jsonl records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
det = [r for r in recs if r['rule']['id'] == '11111111-2222-3333-4444-555555555555']
assert len(det) == 1, recs
r = det[0]
assert r['rule']['title'] == 'Whoami Execution' and r['rule']['level'] == 'medium'
assert r['@timestamp'] == '2025-01-01T10:00:00.000000Z'
assert 'attack.discovery' in r['tags'] and r['threat']['techniques'] == ['T1033']
assert r['log']['file']['path'] == sys.argv[2]
assert r['event']['Image'].endswith('whoami.exe')
cor = [r for r in recs if r['rule']['id'] == '22222222-2222-3333-4444-555555555555']
assert len(cor) == 1 and cor[0]['correlation']['group'] == {'hostname': 'h'}, cor
assert cor[0]['correlation']['value'] == 3
# the base rule of the correlation does not alert on its own (generate: false)
assert not [r for r in recs if r['rule']['id'] == '33333333-2222-3333-4444-555555555555']
P

# web access logs route to category: webserver with the W3C field names
mkdir -p "$T/web"
cat > "$T/web/r.yml" <<'Y'
title: Passwd Traversal
id: 44444444-2222-3333-4444-555555555555
level: high
logsource: {category: webserver}
detection:
    sel:
        cs-uri-query|contains: '/etc/passwd'
        sc-status: 404
    condition: sel
Y
printf '198.51.100.4 - - [10/Oct/2025:13:56:00 +0000] "GET /../../etc/passwd HTTP/1.1" 404 196 "-" "curl/8.0"\n' > "$T/web/access.log"
printf '192.0.2.1 - - [10/Oct/2025:13:57:00 +0000] "GET /etc/passwd.html HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n' >> "$T/web/access.log"
"$VIGIE" hunt -q --rules "$T/web/r.yml" -f jsonl "$T/web/access.log" > "$T/web.jsonl"
check "web access log routed to webserver rules" '[ $(wc -l < "$T/web.jsonl") -eq 1 ] && grep -q "198.51.100.4" "$T/web.jsonl"'

"$VIGIE" hunt -q --rules "$T/rules" -f csv "$T/logs/a.json" > "$T/out.csv"
check "csv has a header and a row" '[ "$(head -1 "$T/out.csv" | cut -d, -f1-3)" = "timestamp,level,rule_id" ] && [ $(wc -l < "$T/out.csv") -eq 2 ]'
"$VIGIE" hunt -q --rules "$T/rules" --min-level high -f jsonl "$T/logs/a.json" > "$T/out2.jsonl"
check "--min-level filters" '[ ! -s "$T/out2.jsonl" ]'
"$VIGIE" hunt -q --rules "$T/rules" "$T/logs/a.json" | grep -q "Whoami Execution"
check "table output" '[ $? -eq 0 ]'

"$VIGIE" hunt -q --rules "$T/rules" "$T/nope.evtx" > /dev/null 2> "$T/err2.txt"
rc=$?
check "missing input exits 1 and names it" '[ $rc -eq 1 ] && grep -q "nope.evtx" "$T/err2.txt"'

# bad input
printf '{"Image": "C:\\\\x\xff\xfe.exe", "n": "\xc3"}\n{not json}\n{"ok":1}\n' > "$T/bad/invalid.json"
cp "$(command -v sh)" "$T/bad/binary.bin"
python3 -c "
import sys
with open(sys.argv[1], 'wb') as f:
    f.write(b'x' * (100 << 20))
    f.write(b'\n')
    f.write(b'Jan  1 10:00:01 h sshd[1]: Failed password for root\n')
" "$T/bad/huge.log"
if [ -d "$SHARED/corpus/sigma/regression_data" ]; then
  ev=$(find "$SHARED/corpus/sigma/regression_data" -name '*.evtx' | head -1)
  head -c 70000 "$ev" > "$T/bad/truncated.evtx"
  head -c 5000 "$ev" > "$T/bad/header-only.evtx"
fi
start=$(date +%s)
timeout 120 "$VIGIE" hunt --no-progress --rules "$T/rules" -f jsonl "$T/bad" > "$T/bad.jsonl" 2> "$T/bad.txt"
rc=$?
end=$(date +%s)
check "bad inputs: no crash, exit 0" '[ $rc -eq 0 ]'
check "bad inputs: under 60 s" '[ $((end - start)) -lt 60 ]'
check "bad inputs: malformed JSON reported with its line" 'grep -q "invalid.json: line 2" "$T/bad.txt"'
check "bad inputs: oversized line skipped and counted" 'grep -q "oversized records skipped" "$T/bad.txt" && grep -q "1 oversized" "$T/bad.txt"'
check "bad inputs: binary file skipped" 'grep -q "binary.bin: skipped" "$T/bad.txt"'
check "bad inputs: invalid UTF-8 survives as valid JSON" 'python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$T/bad.jsonl"'

# rules check
mkdir -p "$T/rc"
cp "$T/rules/r.yml" "$T/rc/good.yml"
printf 'title: broken\nlogsource: {product: windows}\ndetection:\n    sel:\n        Image|endswith: x\n    condition: sel and missing\n' > "$T/rc/bad.yml"
"$VIGIE" rules check --format jsonl "$T/rc" > "$T/rc.jsonl" 2>/dev/null
rc=$?
check "rules check exits 1 on an error" '[ $rc -eq 1 ]'
python3 - "$T/rc.jsonl" <<'P' && pass "rules check jsonl: id, path, status, message with file:line" || fail "rules check jsonl"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in recs if r['path'].endswith('bad.yml')][0]
assert bad['status'] == 'error' and bad['line'] == 6 and 'bad.yml:6' in bad['message'] and 'missing' in bad['message'], bad
good = [r for r in recs if r['path'].endswith('good.yml')]
assert len(good) == 3 and all(r['status'] == 'ok' for r in good), good
assert all('id' in r for r in recs)
P
if [ -d "$SHARED/corpus/sigma/rules" ]; then
  (cd "$SHARED/corpus/sigma" && "$VIGIE" rules check rules rules-emerging-threats rules-threat-hunting rules-compliance rules-placeholder > /dev/null 2> "$T/corpus.txt")
  rc=$?
  check "rules check over SigmaHQ: exit 0, no error/unsupported" '[ $rc -eq 0 ] && grep -q " 0 error" "$T/corpus.txt" && grep -q " 0 unsupported" "$T/corpus.txt"'
  cat "$T/corpus.txt"
else
  echo "skip SigmaHQ corpus checks: $SHARED/corpus/sigma not present"
fi
echo "$fails failed"
[ $fails -eq 0 ]
