"""Independent judge: a real SMTP server (aiosmtpd) that records every message it accepts.

It shares no code with the Swift mailer: the SMTP dialogue is aiosmtpd's, and each message
is parsed with the Python standard library's `email` package (policy=email.policy.default),
so what our sender puts on the wire is read back by an unrelated MIME implementation.

    smtp_receiver.py --record FILE [--require-auth USER:PASSWORD]

Binds 127.0.0.1 on an OS-chosen port, prints exactly one line `listening <port>` to stdout
(flushed), then serves until SIGTERM/SIGINT and exits 0.

Authentication:
  * without --require-auth: no AUTH is offered and none is needed (a client that insists on
    AUTH will find no AUTH in the EHLO answer);
  * with --require-auth USER:PASSWORD (split at the first colon): EHLO offers
    `AUTH LOGIN PLAIN`, MAIL before a successful AUTH is refused with `530 5.7.0`, and wrong
    credentials get `535 5.7.8`. AUTH is allowed over the plain connection
    (`auth_require_tls=False`).
  * STARTTLS is not offered: this machine has no certificates for it, and the judge checks
    the message, not the transport. A client configured to require STARTTLS will fail here.

SMTPUTF8 is offered. Messages up to 32 MiB are accepted.

Every accepted message appends one JSON line to FILE, flushed *before* the `250` answer to
the final `.` of DATA, so a test can read the record as soon as the client returns:

  received_at   float, seconds since the epoch
  auth_user     login that authenticated on this connection, or null
  mail_from     envelope sender (MAIL FROM)
  rcpt_tos      envelope recipients (RCPT TO), in order
  subject, from, to, date, message_id
                the header values (RFC 2047 encoded words decoded), or null when absent
  text          the text/plain body (get_body(('plain',))) decoded to str, or null
  html          the text/html body (get_body(('html',))) decoded to str, or null
  attachments   every other leaf part, in order: {filename (Content-Disposition filename,
                else Content-Type name, else null), content_type (the full Content-Type
                value exactly as sent (unfolded), parameters and their quoting included,
                e.g. `text/calendar;
                method=REQUEST; charset="utf-8"; name="invite.ics"`), mime_type (e.g.
                `text/calendar`), content_type_params (the parameters, names lowercased,
                values unquoted: {"method": "REQUEST", ...}),
                disposition (`attachment`, `inline` or null), transfer_encoding,
                content (the decoded bytes as UTF-8 text, undecodable bytes replaced),
                size and sha256 (hex) of the decoded bytes}
  headers       every top-level header: name (as sent) -> value as the stdlib reads it
                (RFC 2047 words decoded; structured headers such as Content-Type are
                re-rendered, e.g. parameter values quoted); a header that occurs more than
                once (e.g. Received) maps to a list of its values in order
  raw_headers   every top-level header as [name, value exactly as sent, unfolded], in order
  raw_size      size in bytes of the message as received in DATA
  parse_error   present only when the stdlib parser raised; the fields above are then
                filled as far as parsing got
"""
import argparse
import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import logging
import re
import signal
import sys
import threading
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

DATA_SIZE_LIMIT = 32 * 1024 * 1024


# --- Message parsing (stdlib email) ---------------------------------------------------------

def header_text(message, name):
    value = message.get(name)
    return None if value is None else str(value)


def unfold(value: str) -> str:
    """RFC 5322 unfolding: drop the line breaks of folded header lines, keep the rest."""
    return re.sub(r"\r?\n(?=[ \t])", "", value).strip()


def raw_header(part, name):
    """A header's value exactly as sent (unfolded), or None."""
    for key, value in part.raw_items():
        if key.lower() == name.lower():
            return unfold(str(value))
    return None


def all_headers(message) -> dict:
    headers = {}
    for name, value in message.items():
        existing = next((key for key in headers if key.lower() == name.lower()), None)
        if existing is None:
            headers[name] = str(value)
        elif isinstance(headers[existing], list):
            headers[existing].append(str(value))
        else:
            headers[existing] = [headers[existing], str(value)]
    return headers


def decoded_bytes(part) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if payload is not None else b""


def body_text(part):
    if part is None:
        return None
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, KeyError):
        pass
    charset = part.get_content_charset() or "utf-8"
    try:
        return decoded_bytes(part).decode(charset, errors="replace")
    except LookupError:
        return decoded_bytes(part).decode("utf-8", errors="replace")


def content_type_params(part) -> dict:
    header = part.get("Content-Type")
    params = getattr(header, "params", None) or {}
    return {str(key).lower(): str(value) for key, value in params.items()}


def attachment_record(part) -> dict:
    data = decoded_bytes(part)
    disposition = part.get_content_disposition()
    filename = part.get_filename()  # Content-Disposition filename, else Content-Type name
    encoding = part.get("Content-Transfer-Encoding")
    return {
        "filename": filename,
        "content_type": raw_header(part, "Content-Type") or part.get_content_type(),
        "mime_type": part.get_content_type(),
        "content_type_params": content_type_params(part),
        "disposition": disposition,
        "transfer_encoding": None if encoding is None else str(encoding).strip().lower(),
        "content": data.decode("utf-8", errors="replace"),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def describe(raw: bytes) -> dict:
    record = {
        "subject": None, "from": None, "to": None, "date": None, "message_id": None,
        "text": None, "html": None, "attachments": [], "headers": {}, "raw_headers": [],
    }
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        record["headers"] = all_headers(message)
        record["raw_headers"] = [[name, unfold(str(value))] for name, value in message.raw_items()]
        record["subject"] = header_text(message, "Subject")
        record["from"] = header_text(message, "From")
        record["to"] = header_text(message, "To")
        record["date"] = header_text(message, "Date")
        record["message_id"] = header_text(message, "Message-ID")
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        record["text"] = body_text(text_part)
        record["html"] = body_text(html_part)
        bodies = [part for part in (text_part, html_part) if part is not None]
        for part in message.walk():
            if part.is_multipart() or any(part is body for body in bodies):
                continue
            record["attachments"].append(attachment_record(part))
    except Exception as error:  # record what we could; the test decides
        record["parse_error"] = f"{type(error).__name__}: {error}"
    return record


# --- SMTP server ----------------------------------------------------------------------------

class Recorder:
    """aiosmtpd handler: appends one JSON line per message, flushed before `250`."""

    def __init__(self, record_path: str):
        self.lock = threading.Lock()
        self.record = open(record_path, "a", encoding="utf-8")

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        auth_user = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", errors="replace")
        line = {
            "received_at": time.time(),
            "auth_user": auth_user,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
        }
        line.update(describe(raw))
        line["raw_size"] = len(raw)
        text = json.dumps(line, ensure_ascii=False) + "\n"
        with self.lock:
            self.record.write(text)
            self.record.flush()
        return "250 2.0.0 OK: message recorded"


def make_authenticator(user: bytes, password: bytes):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok_user = hmac.compare_digest(auth_data.login, user)
        ok_password = hmac.compare_digest(auth_data.password, password)
        if ok_user and ok_password:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)
    return authenticator


async def serve(args, credentials) -> int:
    loop = asyncio.get_running_loop()
    recorder = Recorder(args.record)
    options = {
        "hostname": "localhost",  # no getfqdn() lookup
        "data_size_limit": DATA_SIZE_LIMIT,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "loop": loop,
    }
    if credentials is not None:
        options.update(auth_required=True, auth_require_tls=False,
                       authenticator=make_authenticator(*credentials))

    server = await loop.create_server(lambda: SMTP(recorder, **options), host="127.0.0.1", port=0)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), timeout=5)
    except asyncio.TimeoutError:
        pass
    recorder.record.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Recording SMTP server (aiosmtpd).")
    parser.add_argument("--record", required=True, help="JSONL file to append one line per message to")
    parser.add_argument("--require-auth", metavar="USER:PASSWORD",
                        help="require AUTH PLAIN/LOGIN with these credentials")
    args = parser.parse_args()
    credentials = None
    if args.require_auth is not None:
        user, sep, password = args.require_auth.partition(":")
        if not sep or not user:
            parser.error("--require-auth takes USER:PASSWORD")
        credentials = (user.encode("utf-8"), password.encode("utf-8"))

    # aiosmtpd warns (stderr) about AUTH without TLS: that is the intended setup here.
    warnings.filterwarnings("ignore", module="aiosmtpd")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    return asyncio.run(serve(args, credentials))


if __name__ == "__main__":
    sys.exit(main())
