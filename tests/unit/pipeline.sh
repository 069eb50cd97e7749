#!/bin/sh
# Pipelined requests on one kept-alive connection, refusals among them:
# every request is answered, in order, and a refusal does not stall or
# repeat (regression: a refused head used to stay in the input buffer).
set -u
hafen="$top_builddir/gateway/hafen"
mock="$top_builddir/tests/mock-upstream"
if [ ! -x "$mock" ]; then
	echo "1..0 # SKIP no mock upstream"
	exit 0
fi
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
"$mock" --quiet --port-file "$tmp/up.port" >"$tmp/up.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 1 100); do [ -s "$tmp/up.port" ] && break; sleep 0.05; done
port=$("$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# key "k1": sha256 below
cat >"$tmp/hafen.json" <<JSON
{"listeners": [{"address": "127.0.0.1", "port": $port, "plain": true}],
 "admin": {"port": 0},
 "upstreams": [{"name": "engine", "url": "http://127.0.0.1:$(cat "$tmp/up.port")"}],
 "keys": [{"name": "t", "tenant": "t", "purpose": "chat",
           "sha256": "$(printf k1 | openssl dgst -sha256 -r | cut -d' ' -f1)"}],
 "access_log": "off"}
JSON
"$hafen" -c "$tmp/hafen.json" 2>"$tmp/hafen.log" &
pids="$pids $!"
"$PYTHON3" - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        time.sleep(0.05)
body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
reqs = [
    b"GET /v1/models HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k1\r\nX-Request-Id: r1\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer nope\r\nX-Request-Id: r2\r\n\r\n",
    b"GET /v1/nothing HTTP/1.1\r\nHost: a\r\nX-Request-Id: r3\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k1\r\nX-Request-Id: r4\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(body), body),
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k1\r\nX-Request-Id: r5\r\n"
    b"Content-Length: 7\r\n\r\n{\"a\":1}",
    b"GET /v1/models HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k1\r\nX-Request-Id: r6\r\nConnection: close\r\n\r\n",
]
s.sendall(b"".join(reqs))
s.settimeout(5)
data = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except socket.timeout:
    pass
# Walk the responses using Content-Length.
got = []
while data:
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    h = {l.split(b":", 1)[0].lower(): l.split(b":", 1)[1].strip() for l in lines[1:]}
    n = int(h.get(b"content-length", b"0"))
    got.append((status, h.get(b"x-request-id", b"").decode()))
    data = rest[n:]
want = [(200, "r1"), (401, "r2"), (404, "r3"), (200, "r4"), (400, "r5"), (200, "r6")]
print("1..%d" % (len(want) + 1))
for i, w in enumerate(want):
    g = got[i] if i < len(got) else None
    print("%sok %d - pipelined response %d is %s" % ("" if g == w else "not ", i + 1, i + 1, w))
    if g != w:
        print("# got %r" % (g,))
print("%sok %d - exactly %d responses, then the close" % ("" if len(got) == len(want) else "not ", len(want) + 1, len(want)))
PY
