#!/bin/sh
# test_intel_server.sh VIGIE — threat intelligence in a running `vigie server` (issue 7): a
# TAXII 2.1 collection configured in intel.taxii is pulled on schedule (bearer token from a
# file) into the store, the new generation is swapped in, and syslog lines carrying an
# indicator become intel alerts with the indicator's context; an indicator imported with the
# CLI beside the running server is picked up too. All on loopback.
set -u
VIGIE=${1:?usage: test_intel_server.sh path/to/vigie}
VIGIE=$(cd "$(dirname "$VIGIE")" && pwd)/$(basename "$VIGIE")
T=$(mktemp -d)
PID=""
TPID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    [ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/cli_lib.sh"
fails=0
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 0; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 0; }

# a TAXII server with one indicator, bearer-protected
cat > "$T/objects.json" <<'J'
[{"type":"indicator","spec_version":"2.1","id":"indicator--7f1c2a52-0c43-4a5f-9d1e-1a2b3c4d5e6f",
  "created":"2026-01-01T00:00:00Z","modified":"2026-01-02T00:00:00Z","name":"Scanner C2",
  "pattern":"[ipv4-addr:value = '203.0.113.66']","pattern_type":"stix",
  "valid_from":"2026-01-01T00:00:00Z","confidence":90,"labels":["malicious-activity"]}]
J
printf 's3cret-token\n' > "$T/token.txt"
python3 tests/intel/taxii_server.py "$T/objects.json" --token s3cret-token --max-seconds 300 \
    > "$T/taxii.port" 2> "$T/taxii.log" < /dev/null &
TPID=$!
i=0
until [ -s "$T/taxii.port" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "FAIL taxii server did not start"; cat "$T/taxii.log"; exit 1; }
    sleep 0.1
done
TPORT=$(head -1 "$T/taxii.port")
set -- $(free_ports 2)
HPORT=$1
SPORT=$2

cat > "$T/vigie.yml" <<Y
data_dir: $T/data
http:
  listen: 127.0.0.1:$HPORT
syslog:
  udp: []
  tcp: [127.0.0.1:$SPORT]
intel:
  reload: 1
  taxii: ["http://127.0.0.1:$TPORT/api1/ indicators feedtaxii"]
  taxii_token_file: $T/token.txt
Y
"$VIGIE" token create --data "$T/data" t --role admin > "$T/token" 2>/dev/null
TOKEN=$(tr -d '\n' < "$T/token")
"$VIGIE" server -c "$T/vigie.yml" > "$T/server.log" 2>&1 &
PID=$!
wait_server "$HPORT" "$T/server.log"
U="http://127.0.0.1:$HPORT"
until_found() {
    _i=0
    until api "$U/api/v1/intel/lookup?value=$1" | grep -q '"found":true'; do
        _i=$((_i + 1))
        [ $_i -gt 100 ] && return 1
        sleep 0.1
    done
}

# the scheduled pull lands in the store and the snapshot within a few seconds
until_found 203.0.113.66
check "TAXII collection pulled on schedule and matched" \
    "api '$U/api/v1/intel/lookup?value=203.0.113.66' | grep -q '\"source\":\"feedtaxii\"'"
check "pull logged without the token" \
    "grep -q 'collection indicators: 1 pages' '$T/server.log' && ! grep -q s3cret '$T/server.log'"
check "TAXII metrics" "api '$U/metrics' | grep -q '^vigie_intel_taxii_pulls_total 1'"
check "TAXII pull in the audit log" \
    "api '$U/api/v1/audit?action=intel.taxii' | grep -q '\"object\":\"intel-source:feedtaxii\"'"
printf 'api-imported.example\n' > "$T/api.txt"
api --data-binary @"$T/api.txt" "$U/api/v1/intel/import?source=apifeed&format=csv" > "$T/imp.json"
check "API import answered with its report" "grep -q '\"indicators\":1' '$T/imp.json'"
check "API import in the audit log with its actor" \
    "api '$U/api/v1/audit?action=intel.import' | grep -q '\"actor\":\"token:t\"'"
check "cursor kept in the store" \
    "grep -q '\"taxii.cursor\":\"2026' '$T/data/intel/manifest.json'"

# an indicator imported by the CLI beside the running server
printf 'evil-cli.example\n' > "$T/cli.txt"
"$VIGIE" intel import --db "$T/data/intel" --source cli "$T/cli.txt" > /dev/null 2>&1
until_found evil-cli.example
check "CLI import picked up by the server" \
    "api '$U/api/v1/intel/lookup?value=evil-cli.example' | grep -q '\"found\":true'"

# events carrying the indicator become alerts with its context
now=$(date '+%b %e %H:%M:%S')
python3 - "$SPORT" "$now" <<'P'
import socket, sys
port, now = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(("<38>%s gw sshd[411]: Failed password for root from 203.0.113.66 port 40022 ssh2\n"
           "<38>%s gw sshd[412]: Accepted publickey for ops from 192.0.2.10 port 50022 ssh2\n"
           % (now, now)).encode())
s.close()
P
i=0
until api "$U/api/v1/alerts?limit=50" | grep -q 'intel:ipv4'; do
    i=$((i + 1))
    [ $i -gt 100 ] && break
    sleep 0.1
done
api "$U/api/v1/alerts?limit=50" > "$T/alerts"
check "intel alert raised for the TAXII indicator" "grep -q 'intel:ipv4' '$T/alerts'"
check "alert carries the indicator's context" \
    "grep -q 'Scanner C2' '$T/alerts' && grep -q 'feedtaxii' '$T/alerts'"
check "one intel alert (the other event hits nothing)" "[ \$(grep -o 'intel:ipv4' '$T/alerts' | wc -l) -ge 1 ] && ! grep -q '192.0.2.10.*intel:' '$T/alerts'"

echo "$fails failed"
[ "$fails" -eq 0 ]
