#!/usr/bin/env python3
"""sensor_detect_traffic.py — traffic for tests/cli/test_sensor_detect.sh (golden detection pcaps).

`servers ADDR_PRIV ADDR_PUB` runs, in the server namespace, the small services the scenarios
talk to: DNS responder (UDP 53), fake SSH (22), fake FTP (21), HTTP with basic auth (8080),
beacon target (8443), byte sink (9000). `attack ...` and `benign ...` run in the client
namespace and produce the traffic of each detection, or ordinary traffic that must stay quiet.
Nothing leaves the test's namespaces. Only the standard library.
"""
import base64
import random
import socket
import socketserver
import struct
import sys
import threading
import time
import http.client
import http.server

# ------------------------------------------------------------------ servers


class _TCP(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class SSHish(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        self.request.settimeout(1.0)
        try:
            self.request.recv(256)
        except OSError:
            pass


class FTPish(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 vigie test ftp\r\n")
        for line in self.rfile:
            cmd = line.strip().split(b" ", 1)
            verb = cmd[0].upper()
            arg = cmd[1] if len(cmd) > 1 else b""
            if verb == b"USER":
                self.wfile.write(b"331 Password required\r\n")
            elif verb == b"PASS":
                ok = arg == b"letmein"
                self.wfile.write(b"230 Logged in\r\n" if ok else b"530 Login incorrect\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 Bye\r\n")
                return
            else:
                self.wfile.write(b"502 Not implemented\r\n")


class HTTPAuth(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    good = "Basic " + base64.b64encode(b"admin:secret").decode()

    def do_GET(self):
        auth = self.headers.get("Authorization")
        if auth is not None and auth != self.good:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="t"')
            body = b"no"
        else:
            self.send_response(200)
            body = b"hello " * 50
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Beacon(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            self.request.recv(64)
            self.request.sendall(b"ok\n")
        except OSError:
            pass


class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        while self.request.recv(1 << 16):
            pass


def dns_answer(q):
    """Answer a query: NXDOMAIN for .com/.net names outside the tunnel domain, else TXT/A."""
    if len(q) < 12:
        return None
    tid, _flags, qd = struct.unpack(">HHH", q[:6])
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        n = q[i]
        labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    i += 5
    if i > len(q) or qd != 1:
        return None
    name = ".".join(labels).lower()
    question = q[12:i]
    qtype = struct.unpack(">H", q[i - 4:i - 2])[0]
    known = name.endswith("tunnel-test.com") or name.endswith("example.org")
    if not known:
        return struct.pack(">HHHHHH", tid, 0x8183, 1, 0, 0, 0) + question
    hdr = struct.pack(">HHHHHH", tid, 0x8180, 1, 1, 0, 0)
    if qtype == 16:
        rdata = b"\x05hello"
    else:
        qtype, rdata = 1, socket.inet_aton("192.0.2.1")
    rr = b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 60, len(rdata)) + rdata
    return hdr + question + rr


def dns_server(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        q, peer = s.recvfrom(2048)
        a = dns_answer(q)
        if a:
            s.sendto(a, peer)


def servers(priv, pub):
    specs = [((pub, 22), SSHish), ((priv, 21), FTPish), ((priv, 8080), HTTPAuth),
             ((pub, 8443), Beacon), ((pub, 9000), Sink)]
    for addr, handler in specs:
        srv = _TCP(addr, handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Thread(target=dns_server, args=(priv,), daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


# ------------------------------------------------------------------ client scenarios


def port_scan(host, first, count):
    for p in range(first, first + count):
        s = socket.socket()
        s.settimeout(0.5)
        s.connect_ex((host, p))
        s.close()


def beacon(host, port, n, period):
    t0 = time.monotonic() + 0.05
    rnd = random.Random(6)
    for i in range(n):
        due = t0 + i * period + rnd.uniform(-0.008, 0.008)
        time.sleep(max(0.0, due - time.monotonic()))
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(b"ping\n")
            s.recv(16)


def dns_queries(server, names, qtype):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    for i, name in enumerate(names):
        q = struct.pack(">HHHHHH", (i + 1) & 0xFFFF, 0x0100, 1, 0, 0, 0)
        for lbl in name.split("."):
            q += bytes([len(lbl)]) + lbl.encode()
        q += b"\x00" + struct.pack(">HH", qtype, 1)
        s.sendto(q, (server, 53))
        try:
            s.recvfrom(2048)
        except socket.timeout:
            pass
    s.close()


def rand_label(rnd, n, alphabet):
    return "".join(rnd.choice(alphabet) for _ in range(n))


def dns_tunnel(server):
    rnd = random.Random(1)
    names = [rand_label(rnd, 48, "abcdefghijklmnopqrstuvwxyz234567") + ".t.tunnel-test.com"
             for _ in range(40)]
    dns_queries(server, names, 1)


def dns_dga(server):
    rnd = random.Random(2)
    names = [rand_label(rnd, rnd.randint(12, 16), "abcdefghijklmnopqrstuvwxyz") + ".com"
             for _ in range(15)]
    dns_queries(server, names, 1)


def transfer(host, port, mib):
    chunk = b"\xa5" * (1 << 16)
    with socket.create_connection((host, port), timeout=10) as s:
        for _ in range(mib * 16):
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)


def http_basic(host, password):
    c = http.client.HTTPConnection(host, 8080, timeout=2)
    tok = base64.b64encode(("admin:" + password).encode()).decode()
    c.request("GET", "/", headers={"Authorization": "Basic " + tok})
    c.getresponse().read()
    c.close()


def ftp_login(host, password):
    with socket.create_connection((host, 21), timeout=2) as s:
        f = s.makefile("rwb")
        f.readline()
        for line in (b"USER alice\r\n", b"PASS " + password.encode() + b"\r\n", b"QUIT\r\n"):
            f.write(line)
            f.flush()
            f.readline()


def ssh_burst(host, n):
    for _ in range(n):
        with socket.create_connection((host, 22), timeout=2) as s:
            s.recv(64)
            s.sendall(b"SSH-2.0-libssh_0.9.6\r\n")


def attack(priv, pub):
    t = threading.Thread(target=beacon, args=(pub, 8443, 12, 0.3))
    t.start()
    port_scan(priv, 1000, 200)
    ssh_burst(pub, 20)
    dns_tunnel(priv)
    dns_dga(priv)
    for i in range(12):
        http_basic(priv, "guess%d" % i)
    http_basic(priv, "secret")
    for i in range(12):
        ftp_login(priv, "guess%d" % i)
    ftp_login(priv, "letmein")
    t.join()


def upload(pub, mib):
    transfer(pub, 9000, int(mib))


def benign(priv, pub):
    """Ordinary traffic: a few web requests, DNS lookups, a small upload; no alert expected."""
    rnd = random.Random(3)
    dns_queries(priv, ["www.example.org", "mail.example.org", "www.example.org"], 1)
    for _ in range(3):
        c = http.client.HTTPConnection(priv, 8080, timeout=2)
        c.request("GET", "/index.html")
        c.getresponse().read()
        c.close()
        time.sleep(rnd.uniform(0.05, 0.4))
    transfer(pub, 9000, 1)
    ssh_burst(pub, 2)


if __name__ == "__main__":
    {"servers": servers, "attack": attack, "benign": benign, "upload": upload}[sys.argv[1]](*sys.argv[2:])
