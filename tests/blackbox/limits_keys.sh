#!/usr/bin/env bash
# Black-box: per-key limits over real TLS. Requests per minute, tokens per
# minute (estimated from the body before forwarding, corrected with the
# upstream's usage) and concurrent requests each answer 429 with
# Retry-After and the OpenAI error code rate_limit_exceeded; a key from the
# key store carries its limits too; other keys are not affected.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
CTL=$top_builddir/gateway/hafenctl
[ -x "$CTL" ] || bb_skip_all "no $CTL"
bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_new_key RPM
bb_new_key TPM
bb_new_key CONC
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
STORE=$BB_DIR/keys.db
export HAFEN_KEY_POLL_MS=200
bb_start_hafen gw "{\"key_store\": \"$STORE\", \"keys\": [
	{\"name\": \"test\", \"tenant\": \"t\", \"purpose\": \"chat\", \"sha256\": \"$KEY_SHA256\"},
	{\"name\": \"rpm\", \"tenant\": \"t\", \"purpose\": \"chat\", \"sha256\": \"$RPM_SHA256\", \"rpm\": 3},
	{\"name\": \"tpm\", \"tenant\": \"t\", \"purpose\": \"chat\", \"sha256\": \"$TPM_SHA256\", \"tpm\": 100},
	{\"name\": \"conc\", \"tenant\": \"t\", \"purpose\": \"chat\", \"sha256\": \"$CONC_SHA256\", \"concurrency\": 1}],
	\"purposes\": {\"chat\": {\"description\": \"chat\", \"lawful_basis\": \"f\", \"data_classes\": [\"public\", \"internal\", \"confidential\"], \"retention_days\": 30}}}" ||
	{ echo "Bail out! hafen did not start"; exit 1; }

chat() { # chat KEY BODY
	KEY=$1 bb_post /v1/chat/completions "$2" >"$BB_DIR/last.json"
}
SMALL='{"model":"m","messages":[{"role":"user","content":"hello there, how are you today? This line pads the body to about two hundred bytes of JSON, more or less."}]}'

# ---- requests per minute ----
codes=""
for _ in 1 2 3 4; do
	chat "$RPM" "$SMALL"
	codes="$codes $(bb_code)"
done
bb_is "$codes" " 200 200 200 429" "rpm 3: three requests pass, the fourth gets 429"
# The bucket refills from the first request on: a slow machine may see 19.
ra=$(bb_header Retry-After)
bb_ok "... with Retry-After: 20 (one request every 20 s), less the time the requests took ($ra)" test "$ra" -ge 16 -a "$ra" -le 20
bb_ok "... and an OpenAI error with code rate_limit_exceeded" bb_json_true "$BB_DIR/last.json" \
	'j["error"]["code"] == "rate_limit_exceeded" and j["error"]["type"] == "rate_limit_error" and "requests per minute" in j["error"]["message"]'
chat "$KEY" "$SMALL"
bb_is "$(bb_code)" 200 "another key is not limited by it"

# ---- tokens per minute ----
# A prompt of one 300-letter word: estimated at ~90 tokens from its size
# (bytes / 4), but the upstream reports ~2 used (the mock counts words).
# Without the correction the second would not fit into 100 per minute.
LONG=$("$PYTHON3" -c 'import json; print(json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 300}]}))')
codes=""
for _ in 1 2 3; do
	chat "$TPM" "$LONG"
	codes="$codes $(bb_code)"
done
bb_is "$codes" " 200 200 200" "tpm 100: three prompts estimated at ~90 tokens pass, corrected by the upstream's usage"
BIG=$("$PYTHON3" -c 'import json; print(json.dumps({"model": "m", "messages": [{"role": "user", "content": "word " * 400}]}))')
chat "$TPM" "$BIG"
bb_is "$(bb_code)" 429 "a 2 KB prompt of 400 words (~500 tokens estimated) does not fit: 429"
ra=$(bb_header Retry-After)
bb_ok "... Retry-After in whole seconds, at most a minute ($ra)" test "$ra" -ge 1 -a "$ra" -le 60
bb_ok "... code rate_limit_exceeded, naming tokens per minute" bb_json_true "$BB_DIR/last.json" \
	'j["error"]["code"] == "rate_limit_exceeded" and "tokens per minute" in j["error"]["message"]'

# ---- concurrent requests ----
SLOW='{"model":"m","stream":true,"messages":[{"role":"user","content":"slow"}],"mock":{"events":15,"delay_ms":100}}'
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$CONC" --body "$SLOW" >"$BB_DIR/slow.json" &
slow_pid=$!
for _ in $(seq 1 50); do
	[ "$(bb_mock_stat up streams_started 2>/dev/null)" -ge 1 ] 2>/dev/null && break
	sleep 0.05
done
chat "$CONC" "$SMALL"
bb_is "$(bb_code)" 429 "concurrency 1: a second request while a stream runs gets 429"
bb_is "$(bb_header Retry-After)" 1 "... with Retry-After: 1"
wait "$slow_pid"
bb_ok "the stream itself completed" bb_json_true "$BB_DIR/slow.json" 'j["status"] == 200 and j["done"]'
chat "$CONC" "$SMALL"
bb_is "$(bb_code)" 200 "once it is over, the next request passes"

# ---- a key from the store carries its limits ----
S=$("$CTL" key create --config "$HAFEN_CONFIG" --name stored --tenant t --purpose chat --rpm 2 2>/dev/null)
for _ in $(seq 1 50); do
	chat "$S" "$SMALL"
	[ "$(bb_code)" != 401 ] && break
	sleep 0.1
done
codes=$(bb_code)
chat "$S" "$SMALL"
codes="$codes $(bb_code)"
chat "$S" "$SMALL"
codes="$codes $(bb_code)"
bb_is "$codes" "200 200 429" "a store key with --rpm 2: the third request gets 429"
ra=$(bb_header Retry-After)
bb_ok "... with Retry-After: 30, less the time the requests took ($ra)" test "$ra" -ge 26 -a "$ra" -le 30

bb_done
