#!/usr/bin/env python3
"""The fan-out benchmark's webhook receiver and its Prometheus Alertmanager peer.

The alert fan-out benchmark compares our service with Alertmanager on the same alert
volume, in the same run, against the same webhook receiver. This file provides both
pieces. It uses only the standard library (asyncio); nothing to pin.

receiver
    fanout_peer.py receiver --expect N --timeout SECONDS [--field ingested_at]

    A webhook sink on 127.0.0.1 (port 0). It prints `listening <port>` on stdout, answers
    every request `200 {}` at once (HTTP/1.1 keep-alive, pipelining, chunked bodies and
    `Expect: 100-continue` handled by hand on an asyncio.Protocol), then parses the POSTed
    JSON and counts *alerts*, not requests, each distinct alert once: an alert whose
    `delivery_id` (ours) or `fingerprint` (Alertmanager's) was already seen is counted in
    `duplicates` instead (both senders are at-least-once); alerts with neither are all
    counted. Both payloads carry an `alerts` list:

      ours:          {"type": "coalition.notification.v1",
                      "alerts": [{..., "incident": {"ingested_at": "2026-11-22T02:00:00.123Z"}}]}
      Alertmanager:  {"alerts": [{"annotations": {"sent_at": "1795312800.123456"}, ...}], ...}

    An alert's origin time is the first of: alert.incident[FIELD], alert[FIELD],
    alert.annotations[FIELD], alert.annotations.sent_at. A number or numeric string is epoch
    seconds; any other string is RFC 3339 (milliseconds or more, `Z` or an offset). Latency
    = receipt time (time.time() when the request's last byte was read) - origin. Alerts
    without a usable origin are counted (`no_origin`) but have no latency.

    When N alerts have arrived, the timeout passes, or SIGTERM/SIGINT arrives, it prints
    one JSON line and exits 0:

      {"alerts": A, "requests": Q, "seconds": first-to-last receipt span,
       "alerts_per_second": A / seconds, "latency_ms": {"p50", "p90", "p99", "max"},
       "latency_by_window": [{"start_s", "alerts", "p50", "p90", "p99", "max"}, ...]
           (the same figures for each 10 s of origin time, from the first origin),
       "timed_out": bool, "terminated": bool (stopped by a signal), "expect": N,
       "no_origin": alerts without an origin, "duplicates": repeats not counted,
       "bad_requests": unparseable POST bodies,
       "connections": TCP connections accepted}

    `alerts_per_second` is null while the span is 0 (fewer than two receipts at distinct
    instants); the latency figures are null when no alert had an origin. Percentiles are
    nearest-rank. Latencies are signed: a negative one means the sender's clock or
    timestamp is ahead of the receipt.

alertmanager
    fanout_peer.py alertmanager --binary /usr/bin/prometheus-alertmanager --rate R
        --seconds S --recipients K [--group-wait 0s] [--timeout 120]

    Starts the receiver above as a child process, and Alertmanager (storage in a temporary
    directory, clustering off, web on 127.0.0.1:<free port>) with one route to that
    receiver: group_by [recipient, incident], group_wait = --group-wait, group_interval 1s
    (--group-interval),
    repeat_interval 24h, send_resolved false, max_alerts 0. It then posts R alerts a second
    for S seconds to POST /api/v2/alerts, one batch per 100 ms tick (each alert:
    alertname=incident, a unique incident label, recipient = incident number mod K,
    annotation sent_at = time.time() when its batch is serialised and sent; startsAt now,
    endsAt now + 1 h), so R*S notifications of one alert each are expected. A batch that
    is due while --post-concurrency posts are still in flight waits (the lag is reported);
    the schedule catches up afterwards, so the full R*S is still sent unless the posting
    deadline (S + --timeout seconds) passes. After the last post it waits up to --timeout
    seconds for the receiver to have seen every alert, reads Alertmanager's VmRSS, stops
    everything and prints one JSON line:

      {"peer": "alertmanager 0.25", "posted": n, "alerts": received,
       "alerts_per_second": receiver's rate, "latency_ms": {...}, "latency_by_window": [...], "rss_mb": VmRSS,
       "timed_out": received < R*S, "posted_per_second": n / posting window, ...details}

    posted_per_second divides by first send to last acknowledgement plus one tick, so it
    is R when the poster kept up. Details: post_ms (POST round trips), post_max_lag_ms
    (worst lateness of a tick), post_failed, peak_rss_mb (VmHWM), alertmanager_cpu_seconds
    (utime+stime during the run), webhook_requests/webhook_connections, receive_seconds,
    startup_seconds, elapsed_seconds (end to end). Exit status 0 when everything arrived,
    1 when it timed out, 2 on any other failure (Alertmanager not starting, receiver
    dying; a JSON line with "error" is still printed). Options beyond the benchmark's:
    --group-interval (default 1s), --post-concurrency (default 4), --log-level (warn).

    Caveats. Latency is from the moment the batch was stamped and sent, so time Alertmanager
    takes to accept the POST counts; the poster's own lateness does not (see the post_*
    fields). Each incident makes its own aggregation group (one goroutine each) that
    stays alive while the alert fires (endsAt = now + 1 h), and with group_interval 1s
    every live group runs the notification pipeline once a second (deduplicated by the
    notification log, so nothing is re-sent): after t seconds at R/s that is R*t
    pipeline runs a second on top of the new alerts. On a 2-core machine this dominates
    Alertmanager's CPU and its tail latency, and grows with --seconds; --group-interval 5m
    shows the difference. The first notification of a group is not delayed by
    group_interval (group_wait 0s flushes a new group at once).

    .local/venv/bin/python Benchmarks/Fanout/fanout_peer.py alertmanager \
        --binary /usr/bin/prometheus-alertmanager --rate 1000 --seconds 20 --recipients 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

HOST = "127.0.0.1"
TICK_SECONDS = 0.1
REQUEST_TIMEOUT = 30.0  # bound on one POST /api/v2/alerts
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024

RESPONSE_KEEP = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
RESPONSE_CLOSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\n{}"
)
RESPONSE_BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty list."""
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(latencies_ms: list[float]) -> dict[str, float | None]:
    if not latencies_ms:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    values = sorted(latencies_ms)
    return {
        "p50": round(percentile(values, 50), 3),
        "p90": round(percentile(values, 90), 3),
        "p99": round(percentile(values, 99), 3),
        "max": round(values[-1], 3),
    }


WINDOW_SECONDS = 10.0


def latency_windows(by_origin: list[tuple[float, float]]) -> list[dict[str, float | int | None]]:
    """Latency of the alerts that originated in each WINDOW_SECONDS, from the first origin:
    flat figures mean the sender keeps up; growing ones mean its queue grows."""
    if not by_origin:
        return []
    first = min(origin for origin, _ in by_origin)
    buckets: dict[int, list[float]] = {}
    for origin, latency in by_origin:
        buckets.setdefault(int((origin - first) // WINDOW_SECONDS), []).append(latency)
    return [
        {"start_s": int(index * WINDOW_SECONDS), "alerts": len(values), **latency_summary(values)}
        for index, values in sorted(buckets.items())
    ]


# --------------------------------------------------------------------------------------
# receiver
# --------------------------------------------------------------------------------------


def parse_origin(value: Any) -> float | None:
    """Epoch seconds of a number, a numeric string, or an RFC 3339 timestamp."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            # RFC 3339 allows lower-case t and z, which fromisoformat rejects.
            moment = datetime.fromisoformat(text.upper())
        except ValueError:
            return None
    if moment.tzinfo is None:  # not RFC 3339; read it as UTC rather than local time
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class ReceiverStats:
    def __init__(self, expect: int, field: str) -> None:
        self.expect = expect
        self.field = field
        self.alerts = 0
        self.requests = 0
        self.no_origin = 0
        self.bad_requests = 0
        self.connections = 0
        self.duplicates = 0
        self.seen: set[str | int] = set()
        self.first: float | None = None
        self.last: float | None = None
        self.latencies_ms: list[float] = []
        # (origin, latency) pairs, for the latency of each WINDOW_SECONDS of origin time.
        self.by_origin: list[tuple[float, float]] = []
        self.closed = False
        self.done = asyncio.Event()

    def origin(self, alert: Any) -> float | None:
        if not isinstance(alert, dict):
            return None
        field = self.field
        incident = alert.get("incident")
        if isinstance(incident, dict) and field in incident:
            return parse_origin(incident[field])
        if field in alert:
            return parse_origin(alert[field])
        annotations = alert.get("annotations")
        if isinstance(annotations, dict):
            if field in annotations:
                return parse_origin(annotations[field])
            if "sent_at" in annotations:
                return parse_origin(annotations["sent_at"])
        return None

    def record(self, body: bytes, received: float) -> None:
        if self.closed:
            return
        self.requests += 1
        if self.first is None:
            self.first = received
        self.last = received
        try:
            document = json.loads(body)
            alerts = document["alerts"]
            if not isinstance(alerts, list):
                raise TypeError("alerts is not a list")
        except Exception:  # noqa: BLE001 - any malformed body is just counted
            self.bad_requests += 1
            return
        append = self.latencies_ms.append
        append_origin = self.by_origin.append
        seen = self.seen
        for alert in alerts:
            # Both senders are at-least-once: a repeat of an alert already seen (same
            # delivery_id, ours, or fingerprint, Alertmanager's) is counted apart.
            if isinstance(alert, dict):
                key = alert.get("delivery_id") or alert.get("fingerprint")
                if isinstance(key, (str, int)):
                    if key in seen:
                        self.duplicates += 1
                        continue
                    seen.add(key)
            self.alerts += 1
            origin = self.origin(alert)
            if origin is None:
                self.no_origin += 1
            else:
                append((received - origin) * 1000.0)
                append_origin((origin, (received - origin) * 1000.0))
        if self.alerts >= self.expect:
            self.done.set()

    def summary(self, timed_out: bool, terminated: bool) -> dict[str, Any]:
        self.closed = True
        span = (self.last - self.first) if self.first is not None and self.last is not None else 0.0
        return {
            "alerts": self.alerts,
            "requests": self.requests,
            "seconds": round(span, 6),
            "alerts_per_second": round(self.alerts / span, 3) if span > 0 else None,
            "latency_ms": latency_summary(self.latencies_ms),
            "latency_by_window": latency_windows(self.by_origin),
            "timed_out": timed_out,
            "terminated": terminated,
            "expect": self.expect,
            "no_origin": self.no_origin,
            "duplicates": self.duplicates,
            "bad_requests": self.bad_requests,
            "connections": self.connections,
        }


class WebhookProtocol(asyncio.Protocol):
    """One connection: HTTP/1.1 requests parsed incrementally, answered 200 {} at once."""

    HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, TRAILER = range(5)

    def __init__(self, stats: ReceiverStats) -> None:
        self.stats = stats
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.state = self.HEAD
        self.length = 0
        self.chunks = bytearray()
        self.method = b""
        self.keep_alive = True
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.stats.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.transport = None

    def _reject(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.write(RESPONSE_BAD)
            self.transport.close()

    def _complete(self, body: bytes) -> None:
        received = time.time()
        transport = self.transport
        if transport is not None:
            transport.write(RESPONSE_KEEP if self.keep_alive else RESPONSE_CLOSE)
            if not self.keep_alive:
                self.closing = True
                transport.close()
        if self.method == b"POST":
            self.stats.record(body, received)
        self.state = self.HEAD

    def _start(self, head: bytes, more_buffered: bool) -> bool:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3:
            return False
        self.method, _, version = parts
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                return False
            headers[name.strip().lower()] = value.strip().lower()
        connection = headers.get(b"connection", b"")
        if version == b"HTTP/1.1":
            self.keep_alive = b"close" not in connection
        else:
            self.keep_alive = b"keep-alive" in connection
        if b"chunked" in headers.get(b"transfer-encoding", b""):
            self.chunks = bytearray()
            self.state = self.CHUNK_SIZE
        else:
            try:
                self.length = int(headers.get(b"content-length", b"0"))
            except ValueError:
                return False
            if self.length < 0 or self.length > MAX_BODY_BYTES:
                return False
            self.state = self.BODY
        if (
            headers.get(b"expect") == b"100-continue"
            and not more_buffered
            and self.transport is not None
            and (self.state != self.BODY or self.length > 0)
        ):
            self.transport.write(CONTINUE)
        return True

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        buffer = self.buffer
        buffer += data
        pos = 0
        while not self.closing:
            state = self.state
            if state == self.HEAD:
                # Tolerate the empty lines RFC 9112 allows before a request line.
                while buffer.startswith(b"\r\n", pos):
                    pos += 2
                end = buffer.find(b"\r\n\r\n", pos)
                if end < 0:
                    if len(buffer) - pos > MAX_HEAD_BYTES:
                        self._reject()
                    break
                head = bytes(buffer[pos:end])
                pos = end + 4
                if not self._start(head, len(buffer) > pos):
                    self._reject()
                    break
            elif state == self.BODY:
                if len(buffer) - pos < self.length:
                    break
                body = bytes(buffer[pos : pos + self.length])
                pos += self.length
                self._complete(body)
            elif state == self.CHUNK_SIZE:
                end = buffer.find(b"\r\n", pos)
                if end < 0:
                    break
                try:
                    size = int(bytes(buffer[pos:end]).split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self._reject()
                    break
                pos = end + 2
                if size < 0 or len(self.chunks) + size > MAX_BODY_BYTES:
                    self._reject()
                    break
                if size == 0:
                    self.state = self.TRAILER
                else:
                    self.length = size
                    self.state = self.CHUNK_DATA
            elif state == self.CHUNK_DATA:
                if len(buffer) - pos < self.length + 2:
                    break
                self.chunks += buffer[pos : pos + self.length]
                pos += self.length + 2
                self.state = self.CHUNK_SIZE
            else:  # TRAILER: header lines until an empty one
                end = buffer.find(b"\r\n", pos)
                if end < 0:
                    break
                empty = end == pos
                pos = end + 2
                if empty:
                    self._complete(bytes(self.chunks))
                    self.chunks = bytearray()
        if pos:
            del buffer[:pos]


async def run_receiver(expect: int, timeout: float, field: str, port: int = 0) -> int:
    loop = asyncio.get_running_loop()
    stats = ReceiverStats(expect, field)
    stop = asyncio.Event()
    reason = {"signal": False}

    def on_signal() -> None:
        reason["signal"] = True
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)

    server = await loop.create_server(
        lambda: WebhookProtocol(stats), HOST, port, backlog=1024, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"listening {bound}", flush=True)

    done_wait = asyncio.ensure_future(stats.done.wait())
    stop_wait = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait(
            {done_wait, stop_wait}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        done_wait.cancel()
        stop_wait.cancel()
    complete = stats.alerts >= expect
    timed_out = not complete and not reason["signal"]
    result = stats.summary(timed_out=timed_out, terminated=reason["signal"] and not complete)
    print(json.dumps(result), flush=True)
    server.close()
    return 0


# --------------------------------------------------------------------------------------
# minimal asyncio HTTP/1.1 client (keep-alive) for the Alertmanager API
# --------------------------------------------------------------------------------------


class HttpClient:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def _once(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if b"chunked" in headers.get(b"transfer-encoding", b""):
            payload = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
                if size == 0:
                    while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                payload += await self.reader.readexactly(size + 2)
                del payload[-2:]
            data = bytes(payload)
        else:
            data = await self.reader.readexactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection") == b"close":
            await self.close()
        return status, data

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """One request; a stale keep-alive connection is replaced and the request retried once."""
        try:
            return await self._once(method, path, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            await self.close()
            return await self._once(method, path, body)


# --------------------------------------------------------------------------------------
# alertmanager
# --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def proc_status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def alertmanager_version(binary: str) -> str:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
        match = re.search(r"version (\d+)\.(\d+)", out.stdout + out.stderr)
        if match:
            return f"alertmanager {match.group(1)}.{match.group(2)}"
    except (OSError, subprocess.SubprocessError):
        pass
    return "alertmanager"


def alertmanager_config(receiver_port: int, group_wait: str, group_interval: str) -> str:
    # JSON is valid YAML, so no YAML library is needed.
    config = {
        "route": {
            "receiver": "fanout-peer",
            "group_by": ["recipient", "incident"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": "24h",
        },
        "receivers": [
            {
                "name": "fanout-peer",
                "webhook_configs": [
                    {
                        "url": f"http://{HOST}:{receiver_port}/alertmanager",
                        "send_resolved": False,
                        "max_alerts": 0,
                    }
                ],
            }
        ],
    }
    return json.dumps(config, indent=2) + "\n"


async def stop_process(proc: asyncio.subprocess.Process, grace: float = 10.0) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def read_line(stream: asyncio.StreamReader, timeout: float) -> str:
    line = await asyncio.wait_for(stream.readline(), timeout)
    return line.decode("utf-8", "replace").strip()


def stderr_tail(path: str, limit: int = 2000) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-limit:]
    except OSError:
        return ""


class Poster:
    """Posts the schedule: tick i (0-based) brings the cumulative count to round(total*(i+1)/ticks)."""

    def __init__(self, port: int, rate: int, seconds: float, recipients: int, concurrency: int) -> None:
        self.port = port
        self.rate = rate
        self.ticks = max(1, math.ceil(seconds / TICK_SECONDS - 1e-9))
        self.total = round(rate * seconds)
        self.recipients = recipients
        self.concurrency = concurrency
        self.run_id = uuid.uuid4().hex[:8]
        self.posted = 0
        self.failed = 0
        self.requests = 0
        self.first_send: float | None = None
        self.last_ack: float | None = None
        self.post_ms: list[float] = []
        self.max_lag = 0.0
        self.errors: list[str] = []

    def batch(self, start: int, end: int) -> bytes:
        now = datetime.now(timezone.utc)
        starts_at = rfc3339(now)
        ends_at = rfc3339(now + timedelta(hours=1))
        sent_at = f"{time.time():.6f}"
        alerts = [
            {
                "labels": {
                    "alertname": "incident",
                    "incident": f"{self.run_id}-{n:08d}",
                    "recipient": f"recipient-{n % self.recipients:05d}",
                },
                "annotations": {"sent_at": sent_at},
                "startsAt": starts_at,
                "endsAt": ends_at,
            }
            for n in range(start, end)
        ]
        return json.dumps(alerts, separators=(",", ":")).encode()

    async def _post(self, pool: asyncio.Queue[HttpClient], start: int, end: int) -> None:
        client = await pool.get()
        try:
            began = time.time()
            body = self.batch(start, end)
            if self.first_send is None:
                self.first_send = began
            status, data = await asyncio.wait_for(
                client.request("POST", "/api/v2/alerts", body), REQUEST_TIMEOUT
            )
            acked = time.time()
            self.requests += 1
            self.post_ms.append((acked - began) * 1000.0)
            if status == 200:
                self.posted += end - start
                self.last_ack = acked
            else:
                self.failed += end - start
                if len(self.errors) < 5:
                    self.errors.append(f"HTTP {status}: {data[:200]!r}")
        except Exception as error:  # noqa: BLE001 - reported, never fatal to the run
            self.failed += end - start
            await client.close()
            if len(self.errors) < 5:
                self.errors.append(repr(error))
        finally:
            pool.put_nowait(client)

    async def run(self, deadline: float) -> None:
        pool: asyncio.Queue[HttpClient] = asyncio.Queue()
        for _ in range(self.concurrency):
            pool.put_nowait(HttpClient(HOST, self.port))
        tasks: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()
        origin = loop.time()
        sent = 0
        try:
            for tick in range(self.ticks):
                due = origin + tick * TICK_SECONDS
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                # Wait for a free connection here, so lateness shows up as lag.
                while pool.empty() and tasks:  # each post is bounded by REQUEST_TIMEOUT
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                self.max_lag = max(self.max_lag, loop.time() - due)
                if time.time() > deadline:
                    self.errors.append(f"posting deadline passed at tick {tick}/{self.ticks}")
                    break
                target = round(self.total * (tick + 1) / self.ticks)
                if target > sent:
                    task = asyncio.ensure_future(self._post(pool, sent, target))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    sent = target
                    await asyncio.sleep(0)  # let the post take its connection now
            if tasks:
                await asyncio.wait(tasks, timeout=max(1.0, deadline - time.time()))
        finally:
            for task in tasks:
                task.cancel()
            while not pool.empty():
                await pool.get_nowait().close()

    def summary(self) -> dict[str, Any]:
        # Each batch stands for one 100 ms tick, so the window is first send to last
        # acknowledgement plus one tick (exactly S seconds when the poster keeps up).
        span = (
            self.last_ack - self.first_send + TICK_SECONDS
            if self.first_send is not None and self.last_ack is not None
            else 0.0
        )
        return {
            "posted_per_second": round(self.posted / span, 3) if span > 0 else None,
            "post_seconds": round(span, 3),
            "post_requests": self.requests,
            "post_failed": self.failed,
            "post_ms": latency_summary(self.post_ms),
            "post_max_lag_ms": round(self.max_lag * 1000.0, 3),
        }


async def run_alertmanager(args: argparse.Namespace) -> int:
    started = time.time()
    expected = round(args.rate * args.seconds)
    peer = alertmanager_version(args.binary)
    result: dict[str, Any] = {
        "peer": peer,
        "posted": 0,
        "alerts": 0,
        "alerts_per_second": None,
        "latency_ms": latency_summary([]),
        "rss_mb": None,
        "timed_out": False,
        "rate": args.rate,
        "seconds": args.seconds,
        "recipients": args.recipients,
        "group_wait": args.group_wait,
        "group_interval": args.group_interval,
        "expected": expected,
    }
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, interrupted.set)

    tmpdir = tempfile.mkdtemp(prefix="fanout-peer-am-")
    receiver: asyncio.subprocess.Process | None = None
    manager: asyncio.subprocess.Process | None = None
    status = 2
    try:
        # The receiver's own timeout is only a backstop; this process decides when to stop it.
        backstop = args.seconds + args.timeout + 60
        receiver = await asyncio.create_subprocess_exec(
            sys.executable, os.path.abspath(__file__), "receiver",
            "--expect", str(expected), "--timeout", str(backstop),
            stdout=asyncio.subprocess.PIPE,
        )
        assert receiver.stdout is not None
        first = await read_line(receiver.stdout, 15)
        if not first.startswith("listening "):
            raise RuntimeError(f"receiver did not start: {first!r}")
        receiver_port = int(first.split()[1])

        config_path = os.path.join(tmpdir, "alertmanager.yml")
        with open(config_path, "w", encoding="utf-8") as handle:
            handle.write(alertmanager_config(receiver_port, args.group_wait, args.group_interval))
        am_port = free_port()
        am_log = os.path.join(tmpdir, "alertmanager.log")
        with open(am_log, "wb") as log_handle:
            manager = await asyncio.create_subprocess_exec(
                args.binary,
                f"--config.file={config_path}",
                f"--storage.path={os.path.join(tmpdir, 'data')}",
                f"--web.listen-address={HOST}:{am_port}",
                "--cluster.listen-address=",
                f"--log.level={args.log_level}",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_handle,
                stderr=log_handle,
            )
        probe = HttpClient(HOST, am_port)
        ready_deadline = time.time() + 30
        while True:
            if manager.returncode is not None:
                raise RuntimeError(f"alertmanager exited: {stderr_tail(am_log)}")
            try:
                code, _ = await asyncio.wait_for(probe.request("GET", "/-/ready"), 2.0)
                if code == 200:
                    break
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError):
                await probe.close()
            if time.time() > ready_deadline:
                raise RuntimeError(f"alertmanager not ready in 30 s: {stderr_tail(am_log)}")
            await asyncio.sleep(0.1)
        await probe.close()
        result["startup_seconds"] = round(time.time() - started, 3)
        cpu_before = proc_cpu_seconds(manager.pid) or 0.0

        poster = Poster(am_port, args.rate, args.seconds, args.recipients, args.post_concurrency)
        post_task = asyncio.ensure_future(poster.run(deadline=time.time() + args.seconds + args.timeout))
        interrupt_wait = asyncio.ensure_future(interrupted.wait())
        await asyncio.wait({post_task, interrupt_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not post_task.done():
            post_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await post_task
        else:
            post_task.result()
        result["posted"] = poster.posted
        result.update(poster.summary())
        if poster.errors:
            result["post_errors"] = poster.errors

        # Wait for the receiver to see everything that was accepted, bounded by --timeout.
        summary_line = ""
        if poster.posted > 0 and not interrupted.is_set():
            line_task = asyncio.ensure_future(read_line(receiver.stdout, args.timeout))
            await asyncio.wait({line_task, interrupt_wait}, return_when=asyncio.FIRST_COMPLETED)
            if line_task.done() and not line_task.cancelled() and line_task.exception() is None:
                summary_line = line_task.result()
            else:
                line_task.cancel()
        interrupt_wait.cancel()
        result["rss_mb"] = None
        rss_kb = proc_status_kb(manager.pid, "VmRSS")
        hwm_kb = proc_status_kb(manager.pid, "VmHWM")
        if rss_kb is not None:
            result["rss_mb"] = round(rss_kb / 1024.0, 1)
        if hwm_kb is not None:
            result["peak_rss_mb"] = round(hwm_kb / 1024.0, 1)
        cpu_after = proc_cpu_seconds(manager.pid)
        if cpu_after is not None:
            result["alertmanager_cpu_seconds"] = round(cpu_after - cpu_before, 2)
        if not summary_line:
            # Not everything arrived (or posting was short): stop the receiver for its tally.
            with contextlib.suppress(ProcessLookupError):
                receiver.send_signal(signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                summary_line = await read_line(receiver.stdout, 10)
        if not summary_line:
            raise RuntimeError("receiver printed no summary")
        received = json.loads(summary_line)
        result["alerts"] = received["alerts"]
        result["alerts_per_second"] = received["alerts_per_second"]
        result["latency_ms"] = received["latency_ms"]
        result["latency_by_window"] = received.get("latency_by_window", [])
        result["webhook_requests"] = received["requests"]
        result["webhook_connections"] = received["connections"]
        result["duplicates"] = received["duplicates"]
        result["receive_seconds"] = received["seconds"]
        result["timed_out"] = received["alerts"] < expected
        if interrupted.is_set():
            result["interrupted"] = True
        status = 1 if result["timed_out"] else 0
    except Exception as error:  # noqa: BLE001 - reported in the JSON line
        result["error"] = f"{type(error).__name__}: {error}"
        result["timed_out"] = result["alerts"] < expected
        status = 2
    finally:
        if manager is not None:
            await stop_process(manager)
        if receiver is not None:
            await stop_process(receiver, grace=5)
        shutil.rmtree(tmpdir, ignore_errors=True)
        result["elapsed_seconds"] = round(time.time() - started, 3)
        print(json.dumps(result), flush=True)
    return status


# --------------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError("must be a finite number > 0")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    rec = sub.add_parser("receiver", help="webhook receiver that counts alerts and latency")
    rec.add_argument("--expect", type=positive_int, required=True, help="alerts to wait for")
    rec.add_argument("--timeout", type=positive_float, required=True, help="seconds before giving up")
    rec.add_argument(
        "--field", default="ingested_at",
        help="origin timestamp field (alert.incident, alert, alert.annotations; "
        "falls back to annotations.sent_at); default ingested_at",
    )
    rec.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)

    am = sub.add_parser("alertmanager", help="run Alertmanager as the fan-out peer")
    am.add_argument("--binary", default="/usr/bin/prometheus-alertmanager")
    am.add_argument("--rate", type=positive_int, required=True, help="alerts posted per second")
    am.add_argument("--seconds", type=positive_float, required=True, help="seconds of posting")
    am.add_argument("--recipients", type=positive_int, required=True, help="distinct recipient labels")
    am.add_argument("--group-wait", default="0s", help="route group_wait (default 0s)")
    am.add_argument("--group-interval", default="1s",
                    help="route group_interval (default 1s; see the caveat in the docstring)")
    am.add_argument(
        "--timeout", type=positive_float, default=120.0,
        help="seconds to wait after posting for the last notification (default 120); "
        "posting itself is also cut off at --seconds + --timeout",
    )
    am.add_argument("--post-concurrency", type=positive_int, default=4,
                    help="posts in flight at most (default 4)")
    am.add_argument("--log-level", default="warn", choices=["debug", "info", "warn", "error"])

    args = parser.parse_args()
    if args.command == "receiver":
        return asyncio.run(run_receiver(args.expect, args.timeout, args.field, args.port))
    if not os.access(args.binary, os.X_OK):
        parser.error(f"--binary {args.binary} is not executable")
    return asyncio.run(run_alertmanager(args))


if __name__ == "__main__":
    sys.exit(main())
