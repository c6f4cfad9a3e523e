#!/usr/bin/python3
"""A loopback SMTP server for Tandem's notification tests (Debian's python3-aiosmtpd).

Every message it accepts is written to --dir as msg-NNNN.json ({"mail_from", "rcpt_tos",
"data"}), renamed into place so a reader never sees half a file. With --auth USER:PASSWORD the
server requires AUTH (PLAIN or LOGIN, allowed without TLS on loopback) and refuses any other
credentials with 535. With --tls CERT,KEY it requires STARTTLS before any mail (refusing MAIL
in plain text); with --smtps CERT,KEY it speaks TLS from the first byte. Each message records
whether it came over TLS ("tls"). Prints "ready PORT" once it listens; stops on SIGTERM or SIGINT.
"""
import argparse
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        content = envelope.content
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        doc = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "data": content,
               "tls": server.transport.get_extra_info("ssl_object") is not None}
        tmp = os.path.join(self.folder, ".msg-%04d.tmp" % n)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.rename(tmp, os.path.join(self.folder, "msg-%04d.json" % n))
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--auth", default="", help="USER:PASSWORD the server requires")
    ap.add_argument("--tls", default="", help="CERT,KEY: require STARTTLS")
    ap.add_argument("--smtps", default="", help="CERT,KEY: TLS from the start")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    params = {}
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        params = {"authenticator": authenticator, "auth_required": True,
                  "auth_require_tls": False}

    def context(pair):
        cert, _, key = pair.partition(",")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        return ctx

    if args.tls:
        params.update({"tls_context": context(args.tls), "require_starttls": True})
    if args.smtps:
        params["ssl_context"] = context(args.smtps)
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=args.port, **params)
    controller.start()
    print("ready %d" % args.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
