#!/usr/bin/env bash
# Black-box: every error status hafen answers with, upstream failures before
# and during a stream, client disconnects and slow clients.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries

bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up --events 4
UPSTREAM_URL=http://127.0.0.1:$up_PORT
# first_byte_timeout 1 s, header_timeout 1 s, max body 64 KiB (lib.sh defaults)
bb_start_hafen hafen || bb_diag "hafen failed to start: every test below fails"

upstream_chats() {
	bb_mock_stat up chat_completions
}

# expect_error NAME STATUS [bb_curl args]: status, OpenAI error shape, request id.
expect_error() {
	local name=$1 want=$2
	shift 2
	bb_curl "$@" >"$BB_DIR/err.json"
	bb_is "$(bb_code)" "$want" "$name: $want"
	bb_ok "$name: OpenAI-shaped error body" bb_is_openai_error "$BB_DIR/err.json"
	bb_ok "$name: X-Request-Id present" test -n "$(bb_header X-Request-Id)"
}

CHAT=$(bb_url /v1/chat/completions)
JSON=(-H 'Content-Type: application/json')
before=$(upstream_chats)

# ---- 400 ----
expect_error "malformed JSON" 400 "${JSON[@]}" --data-binary '{"model": "m", "messages": [' "$CHAT"
expect_error "model is a number" 400 "${JSON[@]}" --data-binary '{"model": 5, "messages": [{"role":"user","content":"hi"}]}' "$CHAT"
expect_error "messages is a string" 400 "${JSON[@]}" --data-binary '{"model": "m", "messages": "hi"}' "$CHAT"
expect_error "missing model" 400 "${JSON[@]}" --data-binary '{"messages": [{"role":"user","content":"hi"}]}' "$CHAT"
expect_error "missing messages" 400 "${JSON[@]}" --data-binary '{"model": "m"}' "$CHAT"
expect_error "body is a JSON array" 400 "${JSON[@]}" --data-binary '[1, 2]' "$CHAT"
bb_ok "400: the error message names the field" grep -q 'messages' <(bb_curl "${JSON[@]}" --data-binary '{"model": "m", "messages": "hi"}' "$CHAT")

# ---- 401 ----
code=$(curl -sS --max-time 10 --cacert "$CA" -o "$BB_DIR/err.json" -D "$BB_DIR/h" -w '%{http_code}' "${JSON[@]}" \
	--data-binary '{"model":"m","messages":[{"role":"user","content":"hi"}]}' "$CHAT")
bb_is "$code" 401 "no key: 401"
bb_ok "no key: OpenAI-shaped error body" bb_is_openai_error "$BB_DIR/err.json"
bb_ok "no key: X-Request-Id present" test -n "$(bb_header X-Request-Id)"
bb_ok "no key: WWW-Authenticate: Bearer (RFC 9110 15.5.2 MUST, RFC 6750 3)" grep -qi '^www-authenticate: *bearer' "$BB_DIR/h"
code=$(curl -sS --max-time 10 --cacert "$CA" -o "$BB_DIR/err.json" -w '%{http_code}' "${JSON[@]}" \
	-H "Authorization: Bearer hk-not-a-key-$RANDOM" \
	--data-binary '{"model":"m","messages":[{"role":"user","content":"hi"}]}' "$CHAT")
bb_is "$code" 401 "wrong key: 401"
bb_ok "wrong key: OpenAI-shaped error body" bb_is_openai_error "$BB_DIR/err.json"
code=$(curl -sS --max-time 10 --cacert "$CA" -o /dev/null -w '%{http_code}' "${JSON[@]}" \
	-H "Authorization: Basic $(printf 'user:%s' "$KEY" | base64 -w0)" \
	--data-binary '{"model":"m","messages":[{"role":"user","content":"hi"}]}' "$CHAT")
bb_is "$code" 401 "key in a Basic header instead of Bearer: 401"

after=$(upstream_chats)
bb_is "$after" "$before" "rejected requests (400, 401) never reached the upstream"

# ---- 404, 405 ----
expect_error "unknown path" 404 "$(bb_url /v1/no/such/endpoint)"
expect_error "GET on chat completions" 405 "$CHAT"

# ---- 413, 431 ----
head -c 100000 /dev/zero | tr '\0' 'a' >"$BB_DIR/big.txt"
printf '{"model":"m","messages":[{"role":"user","content":"%s"}]}' "$(cat "$BB_DIR/big.txt")" >"$BB_DIR/big.json"
expect_error "body over max_body_bytes" 413 "${JSON[@]}" --data-binary @"$BB_DIR/big.json" "$CHAT"
# An upload the gateway refused goes on after the answer (RFC 9112 section
# 9.6): the gateway half-closes and reads on, so the client gets its 413
# instead of a reset while it is still sending.
$CLIENT upload --port "$TLS_PORT" --ca "$CA" --key "$KEY" --size 2000000 --wait 0.3 >"$BB_DIR/upload.json"
bb_ok "refused upload sent on: the whole body went out, no reset" \
	"$PYTHON3" -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(0 if r["sent"] == 2000000 and not r["error"] else 1)' "$BB_DIR/upload.json"
bb_ok "refused upload sent on: the 413 arrives after it" \
	"$PYTHON3" -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(0 if r["status"] == 413 else 1)' "$BB_DIR/upload.json"
big_header="X-Filler: $(head -c 20000 /dev/zero | tr '\0' 'b')"
bb_curl -H "$big_header" "$(bb_url /v1/models)" >/dev/null
bb_is "$(bb_code)" 431 "headers over max_header_bytes: 431"
bb_is "$(upstream_chats)" "$before" "oversized requests never reached the upstream"

# ---- upstream failures before the answer ----
expect_error "upstream answers invalid JSON" 502 "${JSON[@]}" \
	--data-binary '{"model":"m","messages":[{"role":"user","content":"hi"}],"mock":{"fail":"invalid_json"}}' "$CHAT"
expect_error "upstream closes without answering" 502 "${JSON[@]}" \
	--data-binary '{"model":"m","messages":[{"role":"user","content":"hi"}],"mock":{"fail":"close_immediately"}}' "$CHAT"
t0=$(date +%s.%N)
expect_error "upstream stalls past first_byte_timeout" 504 "${JSON[@]}" \
	--data-binary '{"model":"m","messages":[{"role":"user","content":"hi"}],"mock":{"fail":"stall_headers"}}' "$CHAT"
t1=$(date +%s.%N)
bb_ok "504 comes after first_byte_timeout_ms (1 s), not much later" \
	"$PYTHON3" -c "import sys; d = $t1 - $t0; sys.exit(0 if 0.9 <= d < 4 else 1)"

# ---- upstream dies mid-stream ----
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" \
	--body '{"model":"m","stream":true,"messages":[{"role":"user","content":"a b c d e f"}],"mock":{"events":6,"fail":"close_mid_stream"}}' \
	>"$BB_DIR/dead.json"
bb_is "$(bb_json "$BB_DIR/dead.json" 'j["status"]')" 200 "upstream dies mid-stream: the stream had started (200)"
bb_ok "upstream dies mid-stream: the events sent before arrive" \
	bb_json_true "$BB_DIR/dead.json" 'len(j["events"]) >= 1'
bb_ok "upstream dies mid-stream: no [DONE], the stream ends abnormally" \
	bb_json_true "$BB_DIR/dead.json" 'not j["done"]'
bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"still there?"}]}' >/dev/null
bb_is "$(bb_code)" 200 "hafen keeps serving after an upstream died mid-stream"

# ---- the client goes away mid-stream ----
cancelled=$(bb_mock_stat up streams_cancelled)
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" --close-after 2 \
	--body '{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}],"mock":{"events":40,"delay_ms":100}}' \
	>"$BB_DIR/gone.json"
bb_ok "client disconnect: the client saw 2 events and left" \
	bb_json_true "$BB_DIR/gone.json" 'len(j["events"]) == 2 and not j["done"]'
now=$cancelled
for _ in $(seq 1 30); do
	now=$(bb_mock_stat up streams_cancelled)
	[ "$now" -gt "$cancelled" ] 2>/dev/null && break
	sleep 0.1
done
bb_ok "client disconnect: hafen closes the upstream stream (mock streams_cancelled +1 within 3 s)" \
	test "$now" -gt "$cancelled"

# ---- slowloris ----
$CLIENT slow --port "$TLS_PORT" --ca "$CA" --interval 0.2 --limit 8 >"$BB_DIR/slow.json"
bb_ok "slowloris: a client sending one header byte per 200 ms is cut off" \
	bb_json_true "$BB_DIR/slow.json" 'j["closed_after"] is not None'
bb_ok "slowloris: ... after header_timeout_ms (1 s), within 3 s" \
	bb_json_true "$BB_DIR/slow.json" 'j["closed_after"] is not None and 0.8 <= j["closed_after"] < 3'

# ---- upstream down ----
kill -TERM "$up_PID"
wait "$up_PID" 2>/dev/null
expect_error "upstream down" 502 "${JSON[@]}" \
	--data-binary '{"model":"m","messages":[{"role":"user","content":"hi"}]}' "$CHAT"
bb_ok "hafen is still alive after all of the above" kill -0 "$HAFEN_PID"

bb_done
