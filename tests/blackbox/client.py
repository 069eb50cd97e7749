#!/usr/bin/env python3
"""Test client for the black-box tests: things curl cannot tell us.

  client.py stream --port P --ca CA --key KEY --body JSON|@FILE [--close-after N]
      POST a streaming request over TLS, decode the chunked SSE answer and
      print one JSON object: status, headers, each event's data with the time
      (seconds after the request was sent) it arrived, whether "data: [DONE]"
      came, whether the chunked body was terminated, and any error.
  client.py split --port P --ca CA --key KEY --signal-pid PID
      Send the first half of a request's header, deliver SIGTERM to PID,
      wait --wait seconds, send the rest and print the response (status,
      headers, body) as JSON: what a request caught by a drain sees.
  client.py upload --port P --ca CA --key KEY --size N [--wait S]
      Send a request's header announcing an N-byte body, wait S seconds (the
      server refuses it meanwhile), send the body without reading, then read
      the response: a server that closes at once resets the upload.
  client.py raw --port P --ca CA --body @FILE [--timeout S]
      Send FILE's bytes as they are, read until the server closes (or the
      timeout) and write what came back to stdout, raw.
  client.py hold --port P --ca CA --count N --ready FILE [--limit S]
      Open N TLS connections, create FILE, keep them open (idle) for S s.
  client.py slow --port P --ca CA [--interval S] [--limit S]
      Send a request's header one byte per interval (slowloris) and print when
      the server closed the connection.

Only the standard library: it runs with any python3."""
import argparse
import json
import os
import signal
import socket
import ssl
import sys
import time


def connect(args):
    ctx = ssl.create_default_context(cafile=args.ca)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.cert_key)
    raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname=args.server_name)


class Reader:
    """Buffered reads over a socket; EOF raises EOFError."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def cmd_stream(args):
    result = {"status": None, "headers": {}, "events": [], "done": False,
              "complete": False, "error": None}
    body = args.body.encode()
    if args.body.startswith("@"):
        with open(args.body[1:], "rb") as f:
            body = f.read()
    req = ("POST %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
           "Content-Length: %d\r\n\r\n" % (args.path, args.key, len(body))).encode() + body
    try:
        sock = connect(args)
        t0 = time.monotonic()
        sock.sendall(req)
        r = Reader(sock)
        read_head(r, result)
        chunked = "chunked" in result["headers"].get("transfer-encoding", "").lower()
        pending = b""
        while True:
            if chunked:
                size = int(r.line().split(b";")[0], 16)
                if size == 0:
                    r.line()
                    result["complete"] = True
                    break
                data = r.exact(size)
                r.exact(2)
            elif "content-length" in result["headers"]:
                data = r.exact(int(result["headers"]["content-length"]))
                result["complete"] = True
            else:
                try:
                    r.fill()
                    data, r.buf = r.buf, b""
                except EOFError:
                    result["complete"] = True
                    break
            now = time.monotonic() - t0
            pending += data
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                for line in event.split(b"\n"):
                    if line.startswith(b"data:"):
                        payload = line[5:].strip().decode("utf-8", "replace")
                        if payload == "[DONE]":
                            result["done"] = True
                        else:
                            result["events"].append({"t": now, "data": payload})
            if args.close_after and len(result["events"]) >= args.close_after:
                result["error"] = "closed by client"
                sock.close()
                break
            if result["complete"] and not chunked:
                if pending.strip():
                    result["body"] = pending.decode("utf-8", "replace")
                break
    except (OSError, EOFError, ValueError, IndexError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    result["t_end"] = time.monotonic() - t0 if "t0" in locals() else None
    json.dump(result, sys.stdout)
    print()


def cmd_slow(args):
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
            b"X-Slow: " + b"a" * 4096 + b"\r\n\r\n")
    result = {"closed_after": None, "sent": 0, "response": None, "error": None}
    t0 = time.monotonic()
    try:
        sock = connect(args)
        t0 = time.monotonic()
        sock.settimeout(args.interval)
        for b in head:
            if time.monotonic() - t0 > args.limit:
                result["error"] = "still open after %.1f s" % args.limit
                break
            try:
                sock.sendall(bytes([b]))
                result["sent"] += 1
            except OSError:
                result["closed_after"] = time.monotonic() - t0
                break
            try:
                data = sock.recv(4096)
                if not data:
                    result["closed_after"] = time.monotonic() - t0
                    break
                if result["response"] is None:
                    result["response"] = data.split(b"\r\n", 1)[0].decode("latin-1")
            except socket.timeout:
                pass
            except (OSError, ssl.SSLError):
                result["closed_after"] = time.monotonic() - t0
                break
    except OSError as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    json.dump(result, sys.stdout)
    print()


def cmd_split(args):
    body = b'{"model":"m","messages":[{"role":"user","content":"late"}]}'
    req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
           "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
           "Content-Length: %d\r\n\r\n" % (args.key, len(body))).encode() + body
    result = {"status": None, "headers": {}, "body": None, "error": None}
    try:
        sock = connect(args)
        sock.sendall(req[:20])
        time.sleep(0.1)
        os.kill(args.signal_pid, signal.SIGTERM)
        time.sleep(args.wait)
        sock.sendall(req[20:])
        read_response(sock, result)
    except (OSError, EOFError, ValueError, IndexError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    json.dump(result, sys.stdout)
    print()


def read_head(r, result):
    """A response's status line and headers into result's status and headers."""
    result["status"] = int(r.line().decode("latin-1").split(" ")[1])
    while True:
        h = r.line().decode("latin-1")
        if not h:
            break
        name, _, value = h.partition(":")
        result["headers"][name.strip().lower()] = value.strip()


def read_response(sock, result):
    """A response with a Content-Length body into result's status, headers, body."""
    r = Reader(sock)
    read_head(r, result)
    n = int(result["headers"].get("content-length", "0"))
    result["body"] = r.exact(n).decode("utf-8", "replace")


def cmd_upload(args):
    body = b"a" * args.size
    head = ("POST %s HTTP/1.1\r\nHost: localhost\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (args.path, args.key, len(body))).encode()
    result = {"status": None, "headers": {}, "body": None, "sent": 0, "error": None}
    try:
        sock = connect(args)
        sock.sendall(head)
        time.sleep(args.wait)
        for i in range(0, len(body), 65536):
            sock.sendall(body[i:i + 65536])
            result["sent"] = i + len(body[i:i + 65536])
        read_response(sock, result)
    except (OSError, EOFError, ValueError, IndexError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    json.dump(result, sys.stdout)
    print()


def cmd_raw(args):
    with open(args.body[1:], "rb") as f:
        data = f.read()
    out = b""
    try:
        sock = connect(args)
        sock.sendall(data)
        while True:
            d = sock.recv(65536)
            if not d:
                break
            out += d
    except (OSError, ssl.SSLError):
        pass
    sys.stdout.buffer.write(out)


def cmd_hold(args):
    socks = [connect(args) for _ in range(args.count)]
    with open(args.ready, "w") as f:
        f.write("%d\n" % len(socks))
    time.sleep(args.limit)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["stream", "slow", "split", "raw", "hold", "upload"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--server-name", default="localhost")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert")
    p.add_argument("--cert-key")
    p.add_argument("--key", default="")
    p.add_argument("--path", default="/v1/chat/completions")
    p.add_argument("--body", default="{}")
    p.add_argument("--close-after", type=int, default=0)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--limit", type=float, default=10)
    p.add_argument("--signal-pid", type=int)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--ready")
    p.add_argument("--wait", type=float, default=0.3)
    p.add_argument("--size", type=int, default=0)
    args = p.parse_args()
    {"stream": cmd_stream, "slow": cmd_slow, "split": cmd_split, "raw": cmd_raw, "hold": cmd_hold,
     "upload": cmd_upload}[args.mode](args)


if __name__ == "__main__":
    main()
