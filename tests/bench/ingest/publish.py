#!/usr/bin/env python3
"""Publishes N audit events (MassTransit JSON envelopes) to RabbitMQ, for tests/bench/ingest.sh: one AuditEventRecorded
message per event, or, with --events-per-message K > 1, AuditEventsRecorded messages of K events each (the last one
holds the rest), as gateways publish them with Audit:MaxEventsPerMessage.

A minimal AMQP 0-9-1 client using only the standard library (no pika offline): PLAIN login, one channel, publisher
confirms. Every message is persistent, content type application/vnd.masstransit+json, published to the exchange
MassTransit names after the message type (MdvGateway.Contracts:AuditEventRecorded or :AuditEventsRecorded). Exits
non-zero unless the broker confirmed (acked) every message; prints the number of messages.

usage: publish.py --vhost V --count N [--events-per-message K] [--host 127.0.0.1] [--port 5672] [--user guest] [--password guest]
"""
import argparse
import datetime
import json
import socket
import struct
import sys
import uuid

EXCHANGE = "MdvGateway.Contracts:AuditEventRecorded"
MESSAGE_TYPE = "urn:message:MdvGateway.Contracts:AuditEventRecorded"
BATCH_EXCHANGE = "MdvGateway.Contracts:AuditEventsRecorded"
BATCH_MESSAGE_TYPE = "urn:message:MdvGateway.Contracts:AuditEventsRecorded"
FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT, FRAME_END = 1, 2, 3, 8, 0xCE
WINDOW = 2000  # unconfirmed messages allowed in flight


def shortstr(s):
    b = s.encode()
    return struct.pack("B", len(b)) + b


def longstr(b):
    return struct.pack(">I", len(b)) + b


class Amqp:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.out = []
        self.frame_max = 131072

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("connection closed by the broker")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_frame(self):
        ftype, channel, size = struct.unpack(">BHI", self._read(7))
        payload = self._read(size)
        if self._read(1)[0] != FRAME_END:
            raise RuntimeError("bad frame end")
        return ftype, channel, payload

    def read_method(self):
        while True:
            ftype, channel, payload = self.read_frame()
            if ftype == FRAME_HEARTBEAT:
                continue
            if ftype != FRAME_METHOD:
                continue
            cls, meth = struct.unpack(">HH", payload[:4])
            args = payload[4:]
            if (cls, meth) in ((10, 50), (20, 40)):  # connection.close / channel.close
                code = struct.unpack(">H", args[:2])[0]
                text = args[3:3 + args[2]].decode(errors="replace")
                raise RuntimeError(f"broker closed {'connection' if cls == 10 else 'channel'}: {code} {text}")
            return channel, cls, meth, args

    def frame(self, ftype, channel, payload):
        self.out.append(struct.pack(">BHI", ftype, channel, len(payload)) + payload + bytes([FRAME_END]))

    def method(self, channel, cls, meth, args=b""):
        self.frame(FRAME_METHOD, channel, struct.pack(">HH", cls, meth) + args)

    def flush(self):
        if self.out:
            self.sock.sendall(b"".join(self.out))
            self.out = []

    def expect(self, cls, meth):
        _, c, m, args = self.read_method()
        if (c, m) != (cls, meth):
            raise RuntimeError(f"expected method {cls}.{meth}, got {c}.{m}")
        return args


def event(now, i):
    occurred = now.isoformat().replace("+00:00", "Z")
    return {
        "eventId": str(uuid.uuid4()),
        "occurredAt": occurred,
        "eventType": "rate_limit.exceeded",
        # 198.18.0.0/15 is reserved for benchmarking (RFC 2544): never a real client.
        "clientIp": f"198.18.{(i >> 8) & 0xFF}.{i & 0xFF}" if i < 65536 else f"198.19.{(i >> 8) & 0xFF}.{i & 0xFF}",
        "routeId": "bench",
        "policy": "bench-ingest",
        "actor": "bench-ingest",
        "details": {"count": 3 + i % 7, "firstAt": occurred, "lastAt": occurred, "limit": 1, "window": 60},
    }


def envelope(vhost, now, first, count, batched):
    occurred = now.isoformat().replace("+00:00", "Z")
    if batched:
        exchange, message_type = BATCH_EXCHANGE, BATCH_MESSAGE_TYPE
        message = {"eventId": str(uuid.uuid4()), "occurredAt": occurred,
                   "events": [event(now, i) for i in range(first, first + count)]}
    else:
        exchange, message_type = EXCHANGE, MESSAGE_TYPE
        message = event(now, first)
    return exchange, {
        "messageId": str(uuid.uuid4()),
        "conversationId": str(uuid.uuid4()),
        "sourceAddress": f"rabbitmq://127.0.0.1/{vhost}/bench_ingest_publisher",
        "destinationAddress": f"rabbitmq://127.0.0.1/{vhost}/{exchange}",
        "messageType": [message_type],
        "message": message,
        "sentTime": occurred,
        "headers": {},
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vhost", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--events-per-message", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5672)
    p.add_argument("--user", default="guest")
    p.add_argument("--password", default="guest")
    a = p.parse_args()

    c = Amqp(a.host, a.port)
    c.sock.sendall(b"AMQP\x00\x00\x09\x01")
    c.expect(10, 10)  # connection.start
    auth = b"\x00" + a.user.encode() + b"\x00" + a.password.encode()
    c.method(0, 10, 11, longstr(b"") + shortstr("PLAIN") + longstr(auth) + shortstr("en_US"))
    c.flush()
    tune = c.expect(10, 30)
    channel_max, frame_max, _heartbeat = struct.unpack(">HIH", tune[:8])
    c.frame_max = frame_max or 131072
    c.method(0, 10, 31, struct.pack(">HIH", channel_max, c.frame_max, 0))  # tune-ok, no heartbeats
    c.method(0, 10, 40, shortstr(a.vhost) + shortstr("") + b"\x00")  # connection.open
    c.flush()
    c.expect(10, 41)
    c.method(1, 20, 10, shortstr(""))  # channel.open
    c.flush()
    c.expect(20, 11)
    c.method(1, 85, 10, b"\x00")  # confirm.select
    c.flush()
    c.expect(85, 11)

    now = datetime.datetime.now(datetime.timezone.utc)
    acked = 0
    nacked = 0
    max_body = c.frame_max - 8

    def drain(until):
        nonlocal acked, nacked
        while acked < until:
            _, cls, meth, args = c.read_method()
            if cls == 60 and meth in (80, 120):  # basic.ack / basic.nack
                tag, flags = struct.unpack(">QB", args[:9])
                if meth == 120:
                    nacked += 1
                acked = tag if flags & 1 else max(acked, tag)

    per_message = max(1, a.events_per_message)
    batched = per_message > 1
    messages = (a.count + per_message - 1) // per_message
    window = WINDOW if not batched else max(8, WINDOW // per_message)
    for m in range(messages):
        first = m * per_message
        exchange, env = envelope(a.vhost, now, first, min(per_message, a.count - first), batched)
        body = json.dumps(env, separators=(",", ":")).encode()
        c.method(1, 60, 40, struct.pack(">H", 0) + shortstr(exchange) + shortstr("") + b"\x00")
        # content-type, delivery-mode, message-id
        props = shortstr("application/vnd.masstransit+json") + b"\x02" + shortstr(env["messageId"])
        c.frame(FRAME_HEADER, 1, struct.pack(">HHQH", 60, 0, len(body), 0x8000 | 0x1000 | 0x0080) + props)
        for off in range(0, len(body), max_body):
            c.frame(FRAME_BODY, 1, body[off:off + max_body])
        sent = m + 1
        if sent % 200 == 0 or batched:
            c.flush()
            if sent - acked > window:
                drain(sent - window // 2)
    c.flush()
    drain(messages)
    c.method(0, 10, 50, struct.pack(">H", 200) + shortstr("bye") + struct.pack(">HH", 0, 0))
    c.flush()
    try:
        c.expect(10, 51)
    except Exception:
        pass
    c.sock.close()
    if nacked:
        print(f"publish: {nacked} message(s) nacked by the broker", file=sys.stderr)
        return 1
    print(messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
