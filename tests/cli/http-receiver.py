#!/usr/bin/env python3
"""A small HTTP receiver for the notification tests: it stands in for a webhook.

It listens on 127.0.0.1 on a free port, writes that port to PORT_FILE once it is
listening, and appends every request it gets to LOG as one JSON line:
{"method", "path", "headers": {name: value}, "body"}, written before it answers, so a
request whose answer is delayed or never read is still on record.

  http-receiver.py PORT_FILE LOG [--fail N] [--status CODE] [--delay SECONDS]
                   [--retry-after SECONDS] [--tls CERT KEY]

--fail N --status CODE  answer the first N requests with CODE (default 500) and a body
                        that quotes the request line, then 200
--delay SECONDS         wait this long before each answer (to provoke client timeouts)
--retry-after SECONDS   send a Retry-After header with the failing answers
--tls CERT KEY          speak HTTPS with this certificate and key (PEM files)

A 3xx status comes with a Location header pointing elsewhere on this receiver. It exits
with 0 on SIGTERM, and by itself when the process that started it is gone.
Standard library only.
"""

import argparse
import http.server
import json
import os
import signal
import ssl
import sys
import threading
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port_file")
    parser.add_argument("log")
    parser.add_argument("--fail", type=int, default=0, metavar="N")
    parser.add_argument("--status", type=int, default=500, metavar="CODE")
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--retry-after", type=int, default=None, metavar="SECONDS")
    parser.add_argument("--tls", nargs=2, default=None, metavar=("CERT", "KEY"))
    args = parser.parse_args()

    lock = threading.Lock()
    seen = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_request(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            with lock:
                seen[0] += 1
                number = seen[0]
                record = {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", errors="replace"),
                }
                with open(args.log, "a", encoding="utf-8") as log:
                    log.write(json.dumps(record) + "\n")
            if args.delay > 0:
                time.sleep(args.delay)
            failing = number <= args.fail
            status = args.status if failing else 200
            # A failing answer quotes the request line, as some servers do: what a client
            # shows of it must not leak the URL's secret parts.
            if failing:
                reply = ("failing as told: %s %s\n" % (self.command, self.path)).encode()
            else:
                reply = b"ok\n"
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                if failing and args.retry_after is not None:
                    self.send_header("Retry-After", str(args.retry_after))
                if 300 <= status < 400:
                    self.send_header("Location", "/moved" + self.path)
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        do_POST = do_GET = do_PUT = handle_request

        def log_message(self, format, *args):
            pass  # the log file is the record; stderr stays quiet

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        # A client that refuses the certificate fails the handshake in accept(): an OSError
        # that the server ignores, with nothing logged (no request was made).
        server.socket = context.wrap_socket(server.socket, server_side=True)

    # Written whole (rename) only once the socket listens: a reader never sees half a port.
    temp = args.port_file + ".tmp"
    with open(temp, "w", encoding="ascii") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(temp, args.port_file)

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return: call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(1)
        server.shutdown()

    threading.Thread(target=watch_parent, daemon=True).start()

    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
