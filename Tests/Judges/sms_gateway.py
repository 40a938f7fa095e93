"""Independent judge: a Twilio-compatible SMS gateway stub (Programmable Messaging
"Create a Message" resource), written from Twilio's public API documentation with the
Python standard library only, so our SMS sender is checked by code that shares none of its
logic.

    sms_gateway.py --record FILE [--account-sid SID --auth-token TOKEN]

Binds 127.0.0.1 on an OS-chosen port, prints exactly one line `listening <port>` to stdout
(flushed), then serves until SIGTERM/SIGINT and exits 0. Point the sender's API base URL at
`http://127.0.0.1:<port>`.

The one resource:

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json
    Content-Type: application/x-www-form-urlencoded
    To=+15551234567&From=+15557654321&Body=...      (or MessagingServiceSid=MG... for From)

Checks, in the order Twilio applies them; each failure answers Twilio's error JSON
`{"code", "message", "more_info", "status"}` with that HTTP status:
  * with --account-sid/--auth-token: HTTP Basic credentials must be SID:TOKEN
      -> else 401, code 20003 "Authenticate" (+ `WWW-Authenticate: Basic realm="Twilio API"`);
    and the path's AccountSid must be SID -> else 401, code 20003 as well.
    Without them any credentials (or none) and any AccountSid are accepted.
  * `To` present                          -> else 400, code 21604
  * `To` is E.164: `+` then 2-15 digits   -> else 400, code 21211
  * `From` or `MessagingServiceSid` present (non-empty) -> else 400, code 21603
  * `Body` present and non-empty          -> else 400, code 21602
  * `Body` at most 1600 characters        -> else 400, code 21617
The form is read only from an `application/x-www-form-urlencoded` body (Twilio ignores a JSON
body, so such a request fails the `To` check). Any other method or path answers 404, code
20404 (405 for another method on the Messages path, as Twilio does).

Success answers 201 with a Twilio-like Message resource: sid ("SM" + 32 lowercase hex),
account_sid, api_version, to, from (null when only MessagingServiceSid was given),
messaging_service_sid, body, status "queued", direction "outbound-api", num_segments and
num_media (strings, as Twilio sends them; segments per GSM-7 160/153 or UCS-2 70/67
characters), date_created/date_updated (RFC 2822, as Twilio), date_sent null, price null,
price_unit "USD", error_code/error_message null, uri and subresource_uris.

Every request (any method and path) appends one JSON line to FILE, flushed *before* the
response is sent:
  received_at  float, seconds since the epoch
  method, path the request line's method and path (query string included)
  content_type the request's Content-Type, or null
  auth_ok      true when the Basic credentials matched (always true without --auth-token)
  auth_sid     the username of the Basic credentials sent, or null (the password is not kept)
  form         the decoded form fields: name -> value (a list when a name repeats)
  status       the HTTP status answered
  error_code   Twilio error code answered, or null
  sid          the new message's sid on success, else null
  response     the JSON body answered
"""
import argparse
import base64
import binascii
import hmac
import json
import math
import re
import secrets
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
E164 = re.compile(r"^\+[0-9]{2,15}$")
MAX_BODY = 1600

# GSM 03.38 basic character set, and the extension table (each costs two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def num_segments(body: str) -> int:
    """SMS segments: GSM-7 160 septets alone or 153 per part; else UCS-2 70 alone or 67."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in body):
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def twilio_error(code: int, status: int, message: str) -> dict:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def basic_credentials(header):
    """(username, password) of an `Authorization: Basic ...` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class Gateway:
    def __init__(self, record_path: str, account_sid, auth_token):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.lock = threading.Lock()
        self.record = open(record_path, "a", encoding="utf-8")

    def auth_ok(self, credentials) -> bool:
        if self.auth_token is None:
            return True
        if credentials is None:
            return False
        user, password = credentials
        ok_user = hmac.compare_digest(user.encode("utf-8"), self.account_sid.encode("utf-8"))
        ok_token = hmac.compare_digest(password.encode("utf-8"), self.auth_token.encode("utf-8"))
        return ok_user and ok_token

    def write(self, line: dict) -> None:
        text = json.dumps(line, ensure_ascii=False) + "\n"
        with self.lock:
            self.record.write(text)
            self.record.flush()


def form_fields(content_type, body: bytes) -> dict:
    if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return {}
    form = {}
    for name, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        if name not in form:
            form[name] = value
        elif isinstance(form[name], list):
            form[name].append(value)
        else:
            form[name] = [form[name], value]
    return form


def single(form: dict, name: str):
    value = form.get(name)
    return value[-1] if isinstance(value, list) else value


def create_message(gateway: Gateway, account_sid: str, form: dict):
    """(status, payload, error_code, sid) for a POST to the Messages resource."""
    to = single(form, "To")
    sender = single(form, "From")
    service = single(form, "MessagingServiceSid")
    body = single(form, "Body")
    if not to:
        return 400, twilio_error(21604, 400, "A 'To' phone number is required."), 21604, None
    if not E164.match(to):
        return 400, twilio_error(21211, 400, f"Invalid 'To' Phone Number: {to}"), 21211, None
    if not sender and not service:
        return 400, twilio_error(21603, 400, "A 'From' phone number is required."), 21603, None
    if not body:
        return 400, twilio_error(21602, 400, "Message body is required."), 21602, None
    if len(body) > MAX_BODY:
        return (400, twilio_error(21617, 400,
                                  "The concatenated message body exceeds the 1600 character limit."),
                21617, None)
    sid = "SM" + secrets.token_hex(16)
    now = format_datetime(datetime.now(timezone.utc).replace(microsecond=0))  # RFC 2822, e.g. "Thu, 30 Jul 2015 20:12:31 +0000"
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
    resource = {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender or None,
        "messaging_service_sid": service or None,
        "num_media": "0",
        "num_segments": str(num_segments(body)),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": uri[:-len(".json")] + "/Media.json"},
        "to": to,
        "uri": uri,
    }
    return 201, resource, None, sid


def make_handler(gateway: Gateway):
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

        def handle_any(self):
            received_at = time.time()
            body = self.read_body()
            content_type = self.headers.get("Content-Type")
            credentials = basic_credentials(self.headers.get("Authorization"))
            auth_ok = gateway.auth_ok(credentials)
            form = form_fields(content_type, body)
            path = urlsplit(self.path).path
            match = MESSAGES_PATH.match(path)
            error_code, sid, extra = None, None, {}

            if match is None:
                status = 404
                payload = twilio_error(20404, 404, f"The requested resource {path} was not found")
            elif self.command != "POST":
                status = 405
                payload = twilio_error(20004, 405, "Method not allowed")
            elif not auth_ok or (gateway.account_sid is not None
                                 and match.group(1) != gateway.account_sid):
                status = 401
                payload = twilio_error(20003, 401, "Authenticate")
                extra["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            else:
                status, payload, error_code, sid = create_message(gateway, match.group(1), form)
            if error_code is None and status >= 400:
                error_code = payload["code"]

            gateway.write({
                "received_at": received_at,
                "method": self.command,
                "path": self.path,
                "content_type": content_type,
                "auth_ok": auth_ok,
                "auth_sid": credentials[0] if credentials else None,
                "form": form,
                "status": status,
                "error_code": error_code,
                "sid": sid,
                "response": payload,
            })
            self.respond(status, payload, extra)

        def respond(self, status: int, payload: dict, extra: dict) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()

        do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

        def log_message(self, format, *args):  # stdout/stderr stay quiet
            pass

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description="Twilio-compatible SMS gateway stub.")
    parser.add_argument("--record", required=True, help="JSONL file to append one line per request to")
    parser.add_argument("--account-sid", help="expected AccountSid (Basic username and path)")
    parser.add_argument("--auth-token", help="expected auth token (Basic password)")
    args = parser.parse_args()
    if (args.account_sid is None) != (args.auth_token is None):
        parser.error("--account-sid and --auth-token go together")

    gateway = Gateway(args.record, args.account_sid, args.auth_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(gateway))
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
    gateway.record.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
