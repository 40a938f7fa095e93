"""Independent judge: a local webhook receiver that checks signatures the way the
Standard Webhooks specification (https://www.standardwebhooks.com/) describes them.
It is written from the spec with the Python standard library only, independently of
the Swift implementation, so our sender is checked by code that shares none of its logic.

Spec points it relies on:
  * headers `webhook-id`, `webhook-timestamp` (integer seconds since the epoch) and
    `webhook-signature` (space-separated entries `v1,<base64 HMAC-SHA256>`; a sender
    rotating secrets sends one entry per secret, unknown versions are ignored);
  * signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`;
  * a secret is `whsec_<base64>`; the HMAC key is the base64-decoded bytes after the prefix.

Server mode:

    webhook_receiver.py --record FILE [--script SPEC] [--secret whsec_...]...

  Binds 127.0.0.1 on an OS-chosen port, prints exactly one line `listening <port>` to
  stdout, then serves until SIGTERM/SIGINT (exit 0). Every POST (any path) appends one
  JSON line to FILE, flushed at once, *before* the response is sent:
    path, received_at, webhook_id, webhook_timestamp, webhook_signature, body,
    signature_valid, valid_with, status
  `--secret` may be repeated: the signature is valid when any `v1,` entry matches the
  signature computed with any secret; `valid_with` lists the (0-based) indexes of the
  secrets that matched. Without a secret, or without the header, it is false.

  --script SPEC: comma-separated responses, taken in order *per request path*
  (the path without its query string); the last entry repeats for ever. Each entry is
  `CODE` or `CODE:SECONDS`, the latter adding `Retry-After: SECONDS`. Example:
      --script "500,429:2,200"   1st request 500, 2nd 429 + Retry-After: 2, then 200s
      --script "503:1,410"       1st 503 + Retry-After: 1, then 410 for ever
  Default "200". 2xx answers carry {"ok":true}, others {"error":"scripted"}.
  Methods other than POST get 405 and are not recorded.

Verification mode (no server):

    webhook_receiver.py verify --secret whsec_... [--secret ...] --id ID \
        --timestamp TS --signature "v1,... [v1,...]" --body-file PATH

  prints `valid` and exits 0, or prints `invalid` and exits 1.
"""
import argparse
import base64
import binascii
import hashlib
import hmac
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"


# --- Standard Webhooks signing -------------------------------------------------------

def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret: the decoded bytes after the prefix."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"secret must start with {SECRET_PREFIX!r}")
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except binascii.Error as error:
        raise ValueError(f"secret is not valid base64: {error}") from None


def expected_signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    content = msg_id.encode("utf-8") + b"." + timestamp.encode("utf-8") + b"." + body
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode("ascii")


def matching_secrets(keys, msg_id, timestamp, signature_header, body) -> list:
    """Indexes of the keys for which some `v1,` entry of the header is the expected signature."""
    if not keys or msg_id is None or timestamp is None or signature_header is None:
        return []
    provided = []
    for entry in signature_header.split():
        version, sep, value = entry.partition(",")
        if sep and version == "v1":
            provided.append(value.encode("ascii", "replace"))
    matched = []
    for index, key in enumerate(keys):
        expected = expected_signature(key, msg_id, timestamp, body).encode("ascii")
        # Compare against every entry (no early exit) with a constant-time comparison.
        hits = [hmac.compare_digest(expected, value) for value in provided]
        if any(hits):
            matched.append(index)
    return matched


def parse_secrets(parser: argparse.ArgumentParser, secrets) -> list:
    keys = []
    for secret in secrets or []:
        try:
            keys.append(secret_key(secret))
        except ValueError as error:
            parser.error(str(error))
    return keys


# --- Response script -----------------------------------------------------------------

def parse_script(spec: str) -> list:
    """`"500,429:2,200"` -> [(500, None), (429, "2"), (200, None)]."""
    steps = []
    for raw in spec.split(","):
        entry = raw.strip()
        code_text, sep, retry_after = entry.partition(":")
        code_text, retry_after = code_text.strip(), retry_after.strip()
        if not code_text.isdigit() or not 200 <= int(code_text) <= 599:
            raise ValueError(f"bad status {code_text!r} in script entry {entry!r}")
        if sep and not retry_after.isdigit():
            raise ValueError(f"bad Retry-After seconds {retry_after!r} in script entry {entry!r}")
        steps.append((int(code_text), retry_after if sep else None))
    if not steps:
        raise ValueError("empty script")
    return steps


class Receiver:
    def __init__(self, record_path: str, steps: list, keys: list):
        self.steps = steps
        self.keys = keys
        self.counts = {}
        self.lock = threading.Lock()
        self.record = open(record_path, "a", encoding="utf-8")

    def next_step(self, path: str):
        with self.lock:
            n = self.counts.get(path, 0)
            self.counts[path] = n + 1
        return self.steps[min(n, len(self.steps) - 1)]

    def write(self, line: dict) -> None:
        text = json.dumps(line, ensure_ascii=False) + "\n"
        with self.lock:
            self.record.write(text)
            self.record.flush()


def make_handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length

        def read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def respond(self, status: int, payload: bytes, retry_after=None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

        def do_POST(self):
            received_at = time.time()
            body = self.read_body()
            msg_id = self.headers.get("webhook-id")
            timestamp = self.headers.get("webhook-timestamp")
            signature = self.headers.get("webhook-signature")
            valid_with = matching_secrets(receiver.keys, msg_id, timestamp, signature, body)
            status, retry_after = receiver.next_step(urlsplit(self.path).path)
            receiver.write({
                "path": self.path,
                "received_at": received_at,
                "webhook_id": msg_id,
                "webhook_timestamp": timestamp,
                "webhook_signature": signature,
                "body": body.decode("utf-8", errors="replace"),
                "signature_valid": bool(valid_with),
                "valid_with": valid_with,
                "status": status,
            })
            payload = b'{"ok":true}' if 200 <= status < 300 else b'{"error":"scripted"}'
            self.respond(status, payload, retry_after)

        def refuse(self):
            if self.headers.get("Content-Length"):
                self.rfile.read(int(self.headers["Content-Length"]))
            self.respond(405, b'{"error":"method not allowed"}')

        do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = refuse

        def log_message(self, format, *args):  # stdout/stderr stay quiet
            pass

    return Handler


def serve(argv) -> int:
    parser = argparse.ArgumentParser(
        description="Standard Webhooks receiver (server mode). "
                    "Use `verify` as first argument for verification mode.")
    parser.add_argument("--record", required=True, help="JSONL file to append one line per request to")
    parser.add_argument("--script", default="200", help='e.g. "500,429:2,200" (per path, last repeats)')
    parser.add_argument("--secret", action="append", default=[], help="whsec_<base64>; repeatable")
    args = parser.parse_args(argv)
    try:
        steps = parse_script(args.script)
    except ValueError as error:
        parser.error(str(error))
    keys = parse_secrets(parser, args.secret)

    receiver = Receiver(args.record, steps, keys)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"listening {server.server_address[1]}", flush=True)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    receiver.record.close()
    return 0


def verify(argv) -> int:
    parser = argparse.ArgumentParser(prog="webhook_receiver.py verify",
                                     description="Check one Standard Webhooks signature.")
    parser.add_argument("--secret", action="append", required=True, help="whsec_<base64>; repeatable")
    parser.add_argument("--id", required=True, help="webhook-id header value")
    parser.add_argument("--timestamp", required=True, help="webhook-timestamp header value")
    parser.add_argument("--signature", required=True, help='webhook-signature header value, "v1,... v1,..."')
    parser.add_argument("--body-file", required=True, help="file holding the exact raw body")
    args = parser.parse_args(argv)
    keys = parse_secrets(parser, args.secret)
    with open(args.body_file, "rb") as handle:
        body = handle.read()
    valid = bool(matching_secrets(keys, args.id, args.timestamp, args.signature, body))
    print("valid" if valid else "invalid", flush=True)
    return 0 if valid else 1


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "verify":
        return verify(sys.argv[2:])
    return serve(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
