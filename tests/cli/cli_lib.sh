# cli_lib.sh — sourced by the CLI tests (tests/cli/test_*.sh): the check helpers and the wait
# for a freshly started server. Not a test itself (the glob takes test_*.sh only).
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then pass "$1"; else fail "$1"; fi; }

# wait_server PORT LOG: wait up to 15 s for http://127.0.0.1:PORT/healthz; on time-out print the
# end of LOG and exit the test.
wait_server() {
    _i=0
    until curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; do
        _i=$((_i + 1))
        [ $_i -gt 150 ] && { echo "FAIL server did not start"; tail -20 "$2"; exit 1; }
        sleep 0.1
    done
}

# free_ports N: N free loopback TCP ports, held together while the kernel picks them (tests
# share machines: a fixed port collides with another run of the same test).
free_ports() {
    python3 -c 'import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s:
    x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

# api ARGS...: curl with the test's bearer token ($TOKEN).
api() { curl -s -H "Authorization: Bearer $TOKEN" "$@"; }
