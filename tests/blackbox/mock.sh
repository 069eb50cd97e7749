#!/usr/bin/env bash
# The mock upstream itself: the other black-box tests and the benchmark rely
# on it behaving exactly as documented, so its endpoints, failure modes,
# recording and counters are tested here directly (no hafen needed).
. "$top_srcdir/tests/blackbox/lib.sh"
[ -x "$MOCK" ] || bb_skip_all "no $MOCK"
command -v curl >/dev/null || bb_skip_all "curl is not installed"

bb_start_mock up --events 4 || { echo "Bail out! mock upstream did not start"; exit 1; }
U=http://127.0.0.1:$up_PORT

post() { # post PATH JSON: body on stdout, status in $BB_DIR/code
	curl -sS --max-time 5 -o "$BB_DIR/body" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H 'Authorization: Bearer top-secret-key' --data-binary "$2" "$U$1" >"$BB_DIR/code" 2>"$BB_DIR/curl.err"
	local rc=$?
	cat "$BB_DIR/body" 2>/dev/null
	return $rc
}

post /v1/chat/completions '{"model":"m1","messages":[{"role":"user","content":"Grüße \"dich\"\n"}]}' >"$BB_DIR/c.json"
bb_is "$(bb_code)" 200 "chat: 200"
bb_ok "chat: OpenAI shape, model echoed, last user message echoed" bb_json_true "$BB_DIR/c.json" \
	'j["object"] == "chat.completion" and j["model"] == "m1" and j["choices"][0]["message"]["content"] == "Grüße \"dich\"\n" and j["usage"]["total_tokens"] == j["usage"]["prompt_tokens"] + j["usage"]["completion_tokens"] and j["id"] and j["created"] > 0'

post /v1/chat/completions '{"model":"m1","messages":[{"role":"user","content":"x"}],"mock":{"reply":"fixed answer"}}' >"$BB_DIR/c.json"
bb_is "$(bb_json "$BB_DIR/c.json" 'j["choices"][0]["message"]["content"]')" "fixed answer" "chat: mock.reply overrides the echo"

curl -sS -N --max-time 5 -D "$BB_DIR/sh" -H 'Content-Type: application/json' \
	--data-binary '{"model":"m1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Äpfel und Birnen, 12 Stück"}],"mock":{"events":5}}' \
	"$U/v1/chat/completions" >"$BB_DIR/s.txt"
bb_ok "stream: chunked text/event-stream" bash -c "grep -qi '^transfer-encoding: chunked' '$BB_DIR/sh' && grep -qi '^content-type: text/event-stream' '$BB_DIR/sh'"
"$PYTHON3" - "$BB_DIR/s.txt" >"$BB_DIR/s.json" <<'EOF'
import json, sys
events = [l[6:] for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l.startswith("data: ")]
chunks = [json.loads(e) for e in events if e != "[DONE]"]
print(json.dumps({"n": len(chunks), "last": events[-1],
                  "text": "".join(c["choices"][0]["delta"].get("content", "") for c in chunks),
                  "objects": sorted(set(c["object"] for c in chunks)),
                  "finish": chunks[-1]["choices"][0]["finish_reason"],
                  "usage": chunks[-1].get("usage")}))
EOF
bb_is "$(bb_json "$BB_DIR/s.json" 'j["n"]')" 6 "stream: 5 content events and a finish event"
bb_is "$(bb_json "$BB_DIR/s.json" 'j["text"]')" "Äpfel und Birnen, 12 Stück" "stream: UTF-8 content split over events arrives intact"
bb_ok "stream: chunk objects, finish_reason stop, usage, [DONE] last" bb_json_true "$BB_DIR/s.json" \
	'j["objects"] == ["chat.completion.chunk"] and j["finish"] == "stop" and j["usage"]["completion_tokens"] == 5 and j["last"] == "[DONE]"'

post /v1/completions '{"model":"m2","prompt":"lorem ipsum"}' >"$BB_DIR/x.json"
bb_ok "completions: text_completion echoing the prompt" bb_json_true "$BB_DIR/x.json" \
	'j["object"] == "text_completion" and j["choices"][0]["text"] == "lorem ipsum" and j["model"] == "m2"'
post /v1/embeddings '{"model":"e","input":["a","b","a"]}' >"$BB_DIR/e.json"
bb_ok "embeddings: one vector per input, equal inputs give equal vectors" bb_json_true "$BB_DIR/e.json" \
	'len(j["data"]) == 3 and j["data"][0]["embedding"] == j["data"][2]["embedding"] != j["data"][1]["embedding"]'
curl -sS --max-time 5 "$U/v1/models" >"$BB_DIR/m.json"
bb_ok "models: a list" bb_json_true "$BB_DIR/m.json" 'j["object"] == "list" and j["data"][0]["object"] == "model"'

bb_is "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/nothing")" 404 "unknown path: 404"
bb_is "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/chat/completions")" 405 "GET on chat: 405"
post /v1/chat/completions '{"messages": [' >/dev/null
bb_is "$(bb_code)" 400 "malformed JSON: 400"
post /v1/chat/completions '{"messages":[],"mock":{"fail":"explode"}}' >/dev/null
bb_is "$(bb_code)" 400 "unknown failure mode: 400"

# failure modes
post /v1/chat/completions '{"messages":[],"mock":{"fail":"status_503"}}' >"$BB_DIR/f.json"
bb_is "$(bb_code)" 503 "fail status_503: 503"
bb_ok "fail status_503: error body" bb_is_openai_error "$BB_DIR/f.json"
post /v1/chat/completions '{"messages":[],"mock":{"fail":"status_500"}}' >/dev/null
bb_is "$(bb_code)" 500 "fail status_500: 500"
post /v1/chat/completions '{"messages":[],"mock":{"fail":"invalid_json"}}' >"$BB_DIR/f.json"
bb_ok "fail invalid_json: 200 with a body that is not JSON" bb_not bb_json "$BB_DIR/f.json" 'j' 2>/dev/null
post /v1/chat/completions '{"messages":[],"mock":{"fail":"close_immediately"}}' >/dev/null
bb_is "$?$(bb_code)" 52000 "fail close_immediately: connection closed, no answer (curl 52)"
curl -sS -N --max-time 5 --data-binary '{"stream":true,"messages":[{"role":"user","content":"a b c d"}],"mock":{"fail":"close_mid_stream","events":4}}' \
	"$U/v1/chat/completions" >"$BB_DIR/mid.txt" 2>/dev/null
rc=$?
bb_ok "fail close_mid_stream: 2 of 4 events, no [DONE], unterminated body (curl 18, got $rc)" \
	bash -c "[ $rc = 18 ] && [ \$(grep -c '^data: {' '$BB_DIR/mid.txt') = 2 ] && ! grep -q DONE '$BB_DIR/mid.txt'"
t0=$(date +%s%N)
curl -sS --max-time 1 --data-binary '{"messages":[],"mock":{"fail":"stall_headers"}}' "$U/v1/chat/completions" >/dev/null 2>&1
rc=$?
bb_is "$rc" 28 "fail stall_headers: no answer within 1 s (curl timeout)"
curl -sS -N --max-time 1 --data-binary '{"stream":true,"messages":[{"role":"user","content":"a b"}],"mock":{"fail":"stall"}}' \
	"$U/v1/chat/completions" >"$BB_DIR/stall.txt" 2>/dev/null
rc=$?
bb_ok "fail stall: one event, then silence (curl timeout)" \
	bash -c "[ $rc = 28 ] && [ \$(grep -c '^data: {' '$BB_DIR/stall.txt') = 1 ]"

# timing: delay_ms spaces the events; the first comes at once
curl -sS -N --max-time 5 -o /dev/null -w '%{time_starttransfer} %{time_total}' \
	--data-binary '{"stream":true,"messages":[{"role":"user","content":"a b c"}],"mock":{"events":3,"delay_ms":200}}' \
	"$U/v1/chat/completions" >"$BB_DIR/t.txt"
bb_ok "delay_ms: first byte at once, the stream takes events x delay ($(cat "$BB_DIR/t.txt"))" \
	"$PYTHON3" -c "import sys; a, b = map(float, open('$BB_DIR/t.txt').read().split()); sys.exit(0 if a < 0.4 and 0.55 < b < 3 else 1)"

# split_ms: every event cut in two HTTP chunks, the halves 150 ms apart
"$PYTHON3" - "$up_PORT" >"$BB_DIR/split.json" <<'EOF'
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
body = b'{"stream":true,"messages":[{"role":"user","content":"eins zwei drei"}],"mock":{"events":3,"split_ms":150}}'
s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
t0, data = time.monotonic(), b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
body = data.split(b"\r\n\r\n", 1)[1]
chunks = []
while True:
    size, rest = body.split(b"\r\n", 1)
    n = int(size, 16)
    if n == 0:
        break
    chunks.append(rest[:n])
    body = rest[n + 2:]
text = b"".join(chunks).decode()
events = [json.loads(l[6:]) for l in text.split("\n") if l.startswith("data: {")]
print(json.dumps({"chunks": len(chunks), "t": time.monotonic() - t0,
                  "half_events": sum(1 for c in chunks if b"\n\n" not in c),
                  "text": "".join(e["choices"][0]["delta"].get("content", "") for e in events)}))
EOF
bb_ok "split_ms: each content event arrives in two chunks, the halves apart in time" bb_json_true "$BB_DIR/split.json" \
	'j["chunks"] == 7 and j["half_events"] == 3 and j["t"] >= 0.4'
bb_is "$(bb_json "$BB_DIR/split.json" 'j["text"]')" "eins zwei drei" "split_ms: the content is whole once reassembled"

# client goes away mid-stream: counted as cancelled
before=$(bb_mock_stat up streams_cancelled)
curl -sS -N --max-time 0.5 --data-binary '{"stream":true,"messages":[{"role":"user","content":"a"}],"mock":{"events":50,"delay_ms":50}}' \
	"$U/v1/chat/completions" >/dev/null 2>&1
sleep 0.2
bb_is "$(bb_mock_stat up streams_cancelled)" $((before + 1)) "a client leaving mid-stream is counted in streams_cancelled"

# keep-alive and pipelining
curl -sv --max-time 5 "$U/v1/models" "$U/v1/models" >/dev/null 2>"$BB_DIR/ka.err"
bb_ok "keep-alive: the connection is re-used" grep -q 'Re-using existing connection' "$BB_DIR/ka.err"
"$PYTHON3" - "$up_PORT" >"$BB_DIR/pipe.txt" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
body = b'{"messages":[{"role":"user","content":"p"}]}'
req = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
s.sendall(req * 3 + b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(data.count(b"HTTP/1.1 200 OK"))
EOF
bb_is "$(cat "$BB_DIR/pipe.txt")" 4 "pipelined requests are all answered, then Connection: close is honoured"

# chunked request body
curl -sS --max-time 5 -H 'Transfer-Encoding: chunked' --data-binary '{"messages":[{"role":"user","content":"chunked body"}]}' \
	"$U/v1/chat/completions" >"$BB_DIR/ch.json"
bb_is "$(bb_json "$BB_DIR/ch.json" 'j["choices"][0]["message"]["content"]')" "chunked body" "a chunked request body is read"

# recording (the stats request is itself recorded and counted)
curl -sS --max-time 5 "$U/__mock/stats" >"$BB_DIR/st.json"
"$PYTHON3" - "$up_RECORD" >"$BB_DIR/rec.json" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
print(json.dumps({"n": len(lines), "first": lines[0]}))
EOF
bb_is "$(bb_json "$BB_DIR/rec.json" 'j["n"]')" "$(bb_json "$BB_DIR/st.json" 'j["requests"]')" \
	"record: one line per request (as many as the requests counter)"
bb_ok "record: method, path, headers and body of each request" bb_json_true "$BB_DIR/rec.json" \
	'j["first"]["method"] == "POST" and j["first"]["path"] == "/v1/chat/completions" and "Gr" in j["first"]["body"] and j["first"]["headers"]["content-type"] == "application/json"'
bb_ok "record: the Authorization value is not recorded" bash -c "! grep -q top-secret-key '$up_RECORD' && grep -q '\"authorization\": *\"\\[redacted\\]\"' '$up_RECORD'"

# stats
bb_ok "stats: counters for requests and streams" bb_json_true "$BB_DIR/st.json" \
	'j["requests"] >= 20 and j["streams_started"] >= 4 and j["streams_completed"] >= 2 and j["failures_injected"] >= 6'

# TLS
bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_start_mock tup --tls-cert "$SERVER_CERT" --tls-key "$SERVER_KEY" || { echo "Bail out! TLS mock did not start"; exit 1; }
$CLIENT stream --port "$tup_PORT" --ca "$CA" --key k \
	--body '{"stream":true,"messages":[{"role":"user","content":"over tls"}],"mock":{"events":2}}' >"$BB_DIR/ts.json"
bb_ok "TLS: a stream over HTTPS, verified against the CA" bb_json_true "$BB_DIR/ts.json" \
	'j["status"] == 200 and j["done"] and j["complete"] and "".join(json.loads(e["data"])["choices"][0]["delta"].get("content", "") for e in j["events"]) == "over tls"'

kill -TERM "$up_PID"
wait "$up_PID"
bb_is "$?" 0 "SIGTERM: the mock exits 0"

bb_done
