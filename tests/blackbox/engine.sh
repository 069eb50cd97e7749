#!/usr/bin/env bash
# Black-box: hafen in front of the real hafen-engine (a tiny random-weight
# qwen3moe model from make-model), as tools/quickstart runs them: a chat
# completion streamed through hafen arrives event by event, ends with
# [DONE], and carries the same text the engine gives for the same greedy
# request as plain JSON; the models list comes through too.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
ENGINE=$top_builddir/engine/hafen-engine
[ -x "$ENGINE" ] || bb_skip_all "no $ENGINE"

bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY

VOCAB=$top_srcdir/../shared/data/vocab/ggml-vocab-qwen2.gguf
vocab=()
[ -f "$VOCAB" ] && vocab=(--vocab "$VOCAB")
"$ENGINE" make-model --arch qwen3moe --preset tiny --type q8_0 "${vocab[@]}" \
	-o "$BB_DIR/tiny.gguf" >"$BB_DIR/make-model.log" 2>&1
bb_is "$?" 0 "make-model writes a tiny qwen3moe model${vocab:+ with the qwen2 vocabulary}"

"$ENGINE" serve -m "$BB_DIR/tiny.gguf" --host 127.0.0.1 --port 0 --threads 1 --parallel 2 \
	2>"$BB_DIR/engine.log" &
BB_PIDS+=("$!")
ENGINE_PORT=
for _ in $(seq 1 100); do
	ENGINE_PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$BB_DIR/engine.log")
	[ -n "$ENGINE_PORT" ] && break
	sleep 0.1
done
bb_ok "hafen-engine serve listens" test -n "$ENGINE_PORT"
UPSTREAM_URL=http://127.0.0.1:${ENGINE_PORT:-1}
bb_start_hafen hafen "{\"upstreams\": [{\"name\": \"engine\", \"url\": \"$UPSTREAM_URL\", \"first_byte_timeout_ms\": 20000}]}" ||
	bb_diag "hafen failed to start: every test below fails"

# ---- models ----
bb_curl "$(bb_url /v1/models)" >"$BB_DIR/models.json"
bb_is "$(bb_code)" 200 "models through hafen: 200"
bb_is "$(bb_json "$BB_DIR/models.json" 'j["data"][0]["id"]')" tiny "models: the engine's model id"

# ---- the same greedy request as JSON and as a stream ----
ask='"model":"tiny","temperature":0,"max_tokens":12,"messages":[{"role":"user","content":"Wie spät ist es in Hamburg?"}]'
bb_post /v1/chat/completions "{$ask}" >"$BB_DIR/chat.json"
bb_is "$(bb_code)" 200 "chat JSON through hafen: 200"
bb_is "$(bb_json "$BB_DIR/chat.json" 'j["usage"]["completion_tokens"]')" 12 "chat JSON: 12 completion tokens"
bb_is "$(bb_json "$BB_DIR/chat.json" 'j["choices"][0]["finish_reason"]')" length "chat JSON: finish_reason length"

$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" --body "{$ask,\"stream\":true}" >"$BB_DIR/stream.json"
bb_is "$(bb_json "$BB_DIR/stream.json" 'j["status"]')" 200 "stream through hafen: 200"
bb_ok "stream: ends with [DONE] and a terminated chunked body" \
	bb_json_true "$BB_DIR/stream.json" 'j["done"] and j["complete"] and not j["error"]'
bb_ok "stream: several events, each a chat.completion.chunk" bb_json_true "$BB_DIR/stream.json" '
	len(j["events"]) >= 3 and all(json.loads(e["data"])["object"] == "chat.completion.chunk"
	                              for e in j["events"] if e["data"] != "[DONE]")'
bb_ok "stream: events arrive spread over time, not in one burst at the end" bb_json_true "$BB_DIR/stream.json" '
	j["events"][-1]["t"] > j["events"][0]["t"]'
streamed=$(bb_json "$BB_DIR/stream.json" '"".join(json.loads(e["data"])["choices"][0]["delta"].get("content") or ""
	for e in j["events"] if e["data"] != "[DONE]" and json.loads(e["data"])["choices"])')
whole=$(bb_json "$BB_DIR/chat.json" 'j["choices"][0]["message"]["content"]')
bb_ok "stream: the JSON answer has text" test -n "$whole"
bb_is "$streamed" "$whole" "stream: the streamed pieces join to the JSON answer's text"

bb_done
