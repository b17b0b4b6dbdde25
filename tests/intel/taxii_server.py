#!/usr/bin/env python3
"""taxii_server.py - a small TAXII 2.1 server for Vigie's tests (issue 7, intel_taxii.c).

Serves the STIX objects of a JSON file (a bundle, a TAXII envelope or a bare array) as one
readable collection, on 127.0.0.1 and a port it picks, which it prints on stdout (one line,
the number) once it listens.

  taxii_server.py OBJECTS.json [--collection ID] [--user U --password P] [--token T]
                  [--no-next] [--bad-page N] [--delay S] [--max-seconds S] [--exit-on-stdin-eof]

Endpoints: /taxii2/ (discovery), /api1/ (API root), /api1/collections/,
/api1/collections/<id>/, /api1/collections/<id>/objects/ (added_after, limit, next, match[id],
match[type]). An object's date_added is its "x_taxii_date_added" property (removed when served)
or else its "modified", "created", or the file's load time. Objects are served in date_added
order; pages carry "more", "next" (unless --no-next: clients then move added_after forward
to X-TAXII-Date-Added-Last) and the X-TAXII-Date-Added-First/Last headers.

The file is re-read when its mtime or size changes, so a test can add objects between pulls.
Errors are TAXII error documents {"title","description","http_status"}: 401 (auth configured
and missing/wrong), 403 (collection "locked", can_read false), 404, 406 (an Accept header
that allows neither TAXII nor */*). --bad-page N answers the N-th objects request (1-based)
with a body that is not JSON; --delay S waits S seconds before each objects answer. The
server exits after --max-seconds (default 600) and, with --exit-on-stdin-eof, when its
standard input closes (the test that started it died).
"""

import argparse
import base64
import bisect
import datetime
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

TAXII_CT = "application/taxii+json;version=2.1"
LOCKED = "locked"


def parse_ts(s):
    """RFC 3339 string -> microseconds since the epoch (None if unusable)."""
    if not isinstance(s, str) or not s:
        return None
    t = s.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    # fromisoformat accepts at most 6 fraction digits: cut longer fractions.
    if "." in t:
        head, rest = t.split(".", 1)
        digits = ""
        while rest and rest[0].isdigit():
            digits += rest[0]
            rest = rest[1:]
        t = head + ("." + digits[:6].ljust(6, "0") if digits else "") + rest
    try:
        d = datetime.datetime.fromisoformat(t)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    delta = d - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def fmt_ts(us):
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Store:
    """The objects of the file, sorted by date_added; reloaded when the file changes."""

    def __init__(self, path):
        self.path = path
        self.sig = None
        self.keys = []  # date_added in microseconds, sorted
        self.objs = []  # serialised objects (JSON text), same order
        self.lock = threading.Lock()

    def refresh(self):
        st = os.stat(self.path)
        sig = (st.st_mtime_ns, st.st_size)
        with self.lock:
            if sig == self.sig:
                return
            with open(self.path, "rb") as f:
                doc = json.load(f)
            if isinstance(doc, dict):
                doc = doc.get("objects", [])
            now = int(time.time() * 1000000)
            rows = []
            for i, o in enumerate(doc):
                if not isinstance(o, dict):
                    continue
                o = dict(o)
                k = parse_ts(o.pop("x_taxii_date_added", None))
                if k is None:
                    k = parse_ts(o.get("modified")) or parse_ts(o.get("created")) or now
                rows.append((k, i, o))
            rows.sort(key=lambda r: (r[0], r[1]))
            self.keys = [r[0] for r in rows]
            self.objs = [(r[2].get("id"), r[2].get("type"),
                          json.dumps(r[2], separators=(",", ":"))) for r in rows]
            self.sig = sig

    def page(self, after, offset, limit, ids, types):
        """Objects with date_added > after, filtered, from offset: (rows, keys, total)."""
        with self.lock:
            start = bisect.bisect_right(self.keys, after) if after is not None else 0
            sel = [j for j in range(start, len(self.objs))
                   if (not ids or self.objs[j][0] in ids) and
                   (not types or self.objs[j][1] in types)]
            total = len(sel)
            part = sel[offset:offset + limit]
            return [self.objs[j][2] for j in part], [self.keys[j] for j in part], total


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vigie-test-taxii/1.0"

    def log_message(self, fmt, *args):  # quiet: tests read our stdout for the port only
        if self.server.opts.verbose:
            sys.stderr.write("taxii_server: " + (fmt % args) + "\n")

    # ------------------------------------------------------------ responses
    def send_body(self, status, body, headers=None, ctype=TAXII_CT):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, doc, headers=None):
        self.send_body(status, json.dumps(doc, separators=(",", ":")), headers)

    def error(self, status, title, description, headers=None):
        self.send_json(status, {"title": title, "description": description,
                                "http_status": str(status)}, headers)

    # ------------------------------------------------------------ checks
    def authorised(self):
        o = self.server.opts
        if not o.user and not o.token:
            return True
        h = self.headers.get("Authorization", "")
        if o.token and h == "Bearer " + o.token:
            return True
        if o.user and h.startswith("Basic "):
            try:
                got = base64.b64decode(h[6:].strip()).decode("utf-8")
            except Exception:
                return False
            return got == o.user + ":" + (o.password or "")
        return False

    def acceptable(self):
        acc = self.headers.get("Accept")
        if not acc:
            return True
        acc = acc.replace(" ", "").lower()
        return "application/taxii+json" in acc or "*/*" in acc or "application/*" in acc

    def collection_doc(self, cid):
        return {"id": cid, "title": "Vigie test collection " + cid,
                "can_read": cid != LOCKED, "can_write": False,
                "media_types": ["application/stix+json;version=2.1"]}

    # ------------------------------------------------------------ routing
    def do_GET(self):
        try:
            self.route()
        except BrokenPipeError:
            pass

    def route(self):
        u = urlsplit(self.path)
        parts = [p for p in u.path.split("/") if p]
        if not self.authorised():
            self.error(401, "Unauthorized", "missing or wrong credentials",
                       {"WWW-Authenticate": 'Basic realm="taxii"'})
            return
        if not self.acceptable():
            self.error(406, "Not Acceptable", "this server speaks " + TAXII_CT)
            return
        opts = self.server.opts
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        if parts == ["taxii2"]:
            self.send_json(200, {"title": "Vigie test TAXII server",
                                 "default": base + "/api1/", "api_roots": [base + "/api1/"]})
        elif parts == ["api1"]:
            self.send_json(200, {"title": "api1", "versions": [TAXII_CT],
                                 "max_content_length": 256 * 1024 * 1024})
        elif parts == ["api1", "collections"]:
            self.send_json(200, {"collections": [self.collection_doc(opts.collection),
                                                 self.collection_doc(LOCKED)]})
        elif len(parts) >= 3 and parts[:2] == ["api1", "collections"]:
            cid = parts[2]
            if cid not in (opts.collection, LOCKED):
                self.error(404, "Collection not found", "no collection '%s'" % cid)
            elif cid == LOCKED and len(parts) > 3:
                self.error(403, "Forbidden", "collection '%s' cannot be read" % cid)
            elif len(parts) == 3:
                self.send_json(200, self.collection_doc(cid))
            elif parts[3:] == ["objects"]:
                self.objects(parse_qs(u.query, keep_blank_values=True))
            else:
                self.error(404, "Not found", "no such endpoint")
        else:
            self.error(404, "Not found", "no such endpoint")

    def objects(self, q):
        srv = self.server
        srv.object_requests += 1
        if srv.opts.delay:
            time.sleep(srv.opts.delay)
        if srv.opts.bad_page and srv.object_requests == srv.opts.bad_page:
            self.send_body(200, "<html>this is not JSON</html>")
            return
        after = None
        if "added_after" in q and q["added_after"][0]:
            after = parse_ts(q["added_after"][0])
            if after is None:
                self.error(400, "Bad added_after", "cannot parse '%s'" % q["added_after"][0])
                return
        try:
            limit = int(q.get("limit", ["100"])[0])
            offset = int(q.get("next", ["0"])[0] or "0")
        except ValueError:
            self.error(400, "Bad request", "limit and next must be integers")
            return
        limit = max(1, min(limit, 10000))
        ids = set(q.get("match[id]", [""])[0].split(",")) - {""}
        types = set(q.get("match[type]", [""])[0].split(",")) - {""}
        srv.store.refresh()
        rows, keys, total = srv.store.page(after, offset, limit, ids, types)
        more = offset + len(rows) < total
        hdr = {}
        if keys:
            hdr["X-TAXII-Date-Added-First"] = fmt_ts(keys[0])
            hdr["X-TAXII-Date-Added-Last"] = fmt_ts(keys[-1])
        body = '{"more":%s' % ("true" if more else "false")
        if more and not srv.opts.no_next:
            body += ',"next":%s' % json.dumps(str(offset + len(rows)))
        if rows:
            body += ',"objects":[' + ",".join(rows) + "]"
        body += "}"
        self.send_body(200, body, hdr)


def main():
    ap = argparse.ArgumentParser(description="small TAXII 2.1 server for tests")
    ap.add_argument("objects", help="JSON file: bundle, envelope or array of STIX objects")
    ap.add_argument("--collection", default="indicators")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--token")
    ap.add_argument("--no-next", action="store_true")
    ap.add_argument("--bad-page", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--exit-on-stdin-eof", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()

    srv = HTTPServer(("127.0.0.1", 0), Handler)
    srv.opts = opts
    srv.store = Store(opts.objects)
    srv.store.refresh()
    srv.object_requests = 0

    def watchdog():
        time.sleep(opts.max_seconds)
        os._exit(0)

    def stdin_watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    if opts.exit_on_stdin_eof:
        threading.Thread(target=stdin_watch, daemon=True).start()
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
