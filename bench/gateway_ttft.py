#!/usr/bin/env python3
"""Time to first token through a proxy, for bench/gateway.sh.

Sends N streaming chat completions one after another on one keep-alive
connection (TLS or plain) and measures, per request, the time from sending
it to the arrival of the first SSE "data:" event, and to the end of the
stream. Prints one JSON object with medians and p99 in microseconds. The
client's own cost is the same for every target, so differences between
targets measured in the same run are the proxies' cost."""
import argparse
import json
import socket
import ssl
import statistics
import sys
import time


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca")
    ap.add_argument("--key", default="bench")
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--events", type=int, default=8)
    ap.add_argument("--delay-ms", type=int, default=2)
    args = ap.parse_args()

    body = json.dumps({
        "model": "mock-model", "stream": True,
        "messages": [{"role": "user", "content": "Summarise the minutes of the Tuesday meeting."}],
        "mock": {"events": args.events, "delay_ms": args.delay_ms},
    }).encode()
    req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
           "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
           "Content-Length: %d\r\n\r\n" % (args.key, len(body))).encode() + body

    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if args.ca:
        ctx = ssl.create_default_context(cafile=args.ca)
        sock = ctx.wrap_socket(sock, server_hostname="localhost")

    ttft, total = [], []
    for i in range(args.n):
        buf = b""
        t0 = time.perf_counter()
        sock.sendall(req)
        first = None
        # the stream ends with the chunked terminator after "data: [DONE]"
        while not buf.endswith(b"0\r\n\r\n") or b"[DONE]" not in buf:
            data = sock.recv(65536)
            if not data:
                print("connection closed after %d requests" % i, file=sys.stderr)
                sys.exit(1)
            buf += data
            if first is None and b"data:" in buf:
                first = time.perf_counter()
        end = time.perf_counter()
        if not buf.startswith(b"HTTP/1.1 200"):
            print("unexpected answer: %r" % buf[:200], file=sys.stderr)
            sys.exit(1)
        if i >= 10:  # warm-up
            ttft.append((first - t0) * 1e6)
            total.append((end - t0) * 1e6)
    print(json.dumps({
        "n": len(ttft),
        "ttft_p50_us": statistics.median(ttft), "ttft_p99_us": percentile(ttft, 99),
        "total_p50_us": statistics.median(total),
    }))


if __name__ == "__main__":
    main()
