#!/usr/bin/env bash
# Black-box: config checking (hafen -t), reload on SIGHUP, drain on SIGTERM.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries

bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up
UPSTREAM_URL=http://127.0.0.1:$up_PORT

# ---- hafen -t ----
read -r TLS_PORT PLAIN_PORT ADMIN_PORT < <(bb_free_ports 3)
bb_config "$BB_DIR/good.json"
"$HAFEN" -t -c "$BB_DIR/good.json" >"$BB_DIR/t.out" 2>&1
bb_is "$?" 0 "hafen -t: a good config exits 0"

# check_broken NAME PATCH WANT_IN_MESSAGE
check_broken() {
	local name=$1 patch=$2 want=$3 rc
	bb_config "$BB_DIR/broken.json" "$patch"
	"$HAFEN" -t -c "$BB_DIR/broken.json" >"$BB_DIR/t.out" 2>&1
	rc=$?
	bb_ok "hafen -t: $name exits non-zero" test "$rc" -ne 0
	if ! bb_ok "hafen -t: $name: the message names $want" grep -qF "$want" "$BB_DIR/t.out"; then
		bb_diag "message: $(head -c 300 "$BB_DIR/t.out")"
	fi
}
check_broken "a string for a number" '{"upstreams": [{"name": "engine", "url": "http://127.0.0.1:1", "connect_timeout_ms": "soon"}]}' \
	"upstreams[0].connect_timeout_ms"
check_broken "an unknown client_auth" '{"listeners": [{"address": "127.0.0.1", "port": @TLS_PORT@, "tls": {"certificates": [], "client_auth": "sometimes"}}]}' \
	"listeners[0].tls"
check_broken "an unknown key" '{"limits": {"max_body_byte": 10}}' "limits.max_body_byte"
check_broken "a missing upstream url" '{"upstreams": [{"name": "engine"}]}' "upstreams[0].url"
check_broken "a key that is not a SHA-256" '{"keys": [{"name": "k", "tenant": "t", "purpose": "chat", "sha256": "abc"}]}' \
	"keys[0].sha256"
printf '{"workers": 1, "listeners": [' >"$BB_DIR/syntax.json"
"$HAFEN" -t -c "$BB_DIR/syntax.json" >"$BB_DIR/t.out" 2>&1
rc=$?
bb_ok "hafen -t: broken JSON syntax exits non-zero" test "$rc" -ne 0
bb_ok "hafen -t: broken JSON syntax: the message names the file" grep -qF "syntax.json" "$BB_DIR/t.out"
"$HAFEN" -t -c "$BB_DIR/does-not-exist.json" >"$BB_DIR/t.out" 2>&1
rc=$?
bb_ok "hafen -t: a missing file exits non-zero with a message" test "$rc" -ne 0 -a -s "$BB_DIR/t.out"

# ---- SIGHUP reload ----
bb_start_hafen hafen || bb_diag "hafen failed to start: the tests below fail"
chat() {
	curl -sS --max-time 10 --cacert "$CA" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' \
		--data-binary '{"model":"m","messages":[{"role":"user","content":"hi"}]}' \
		"https://localhost:$TLS_PORT/v1/chat/completions"
}
bb_is "$(chat "$KEY")" 200 "before reload: the first key works"
OLD_KEY=$KEY
bb_new_key NEW
KEY_SHA256=$NEW_SHA256 bb_config "$HAFEN_CONFIG"
kill -HUP "$HAFEN_PID"
code=000
for _ in $(seq 1 50); do
	code=$(chat "$NEW")
	[ "$code" = 200 ] && break
	sleep 0.1
done
bb_is "$code" 200 "after SIGHUP: the new key works"
bb_is "$(chat "$OLD_KEY")" 401 "after SIGHUP: the old key is refused"
printf '{"workers": 1, "listeners": [' >"$HAFEN_CONFIG"
kill -HUP "$HAFEN_PID"
sleep 0.5
bb_ok "an invalid config on SIGHUP: hafen keeps running" kill -0 "$HAFEN_PID"
bb_is "$(chat "$NEW")" 200 "an invalid config on SIGHUP: the old config (new key) still works"
bb_ok "an invalid config on SIGHUP: the error is logged with the file name" \
	grep -q "$(basename "$HAFEN_CONFIG")" "$HAFEN_LOG"
KEY=$NEW
KEY_SHA256=$NEW_SHA256

# ---- SIGTERM drain ----
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" \
	--body '{"model":"m","stream":true,"messages":[{"role":"user","content":"one two three four five six seven eight nine ten"}],"mock":{"events":10,"delay_ms":150}}' \
	>"$BB_DIR/drain.json" &
client_pid=$!
# wait until the stream is under way upstream
for _ in $(seq 1 50); do
	[ "$(bb_mock_stat up streams_started)" -ge 1 ] 2>/dev/null && break
	sleep 0.05
done
# A second connection is half-way through its request header when SIGTERM
# comes (client.py sends it); the rest arrives during the drain.
$CLIENT split --port "$TLS_PORT" --ca "$CA" --key "$KEY" --signal-pid "$HAFEN_PID" --wait 0.3 \
	>"$BB_DIR/split.json"
bb_ok "draining: new connections are refused" bb_not curl -s -o /dev/null --max-time 2 --cacert "$CA" \
	-H "Authorization: Bearer $KEY" "https://localhost:$TLS_PORT/v1/models"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$ADMIN_PORT/readyz")
bb_ok "draining: /readyz answers 503 (or the admin listener is closed) — got $code" \
	test "$code" = 503 -o "$code" = 000
bb_is "$(bb_json "$BB_DIR/split.json" 'j["status"]')" 503 "draining: a request completed during the drain gets 503"
bb_ok "draining: ... with an OpenAI error body" bb_json_true "$BB_DIR/split.json" \
	'json.loads(j["body"])["error"]["message"]'
bb_ok "draining: ... and Connection: close, as hafen closes that connection (RFC 9112 9.6)" \
	bb_json_true "$BB_DIR/split.json" 'j["headers"].get("connection", "").lower() == "close"'
wait "$client_pid"
bb_ok "draining: the in-flight stream completes with [DONE]" \
	bb_json_true "$BB_DIR/drain.json" 'j["done"] and j["complete"] and len(j["events"]) == 11'
bb_ok "draining: the stream's content is intact" bb_json_true "$BB_DIR/drain.json" \
	'"".join(json.loads(e["data"])["choices"][0]["delta"].get("content", "") for e in j["events"]) == "one two three four five six seven eight nine ten"'
rc=timeout
for _ in $(seq 1 50); do
	if ! kill -0 "$HAFEN_PID" 2>/dev/null; then
		wait "$HAFEN_PID"
		rc=$?
		break
	fi
	sleep 0.1
done
bb_is "$rc" 0 "SIGTERM: hafen exits 0 once drained"

bb_done
