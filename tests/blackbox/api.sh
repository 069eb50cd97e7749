#!/usr/bin/env bash
# Black-box: the OpenAI API surface through the real hafen over TLS, JSON and
# streaming, keep-alive, request ids, the admin endpoints, and that prompt
# text and keys stay out of logs and metrics.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries

bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up --events 4
UPSTREAM_URL=http://127.0.0.1:$up_PORT
# 1 MiB bodies: the long-stream test below carries a 190 KB reply in its request
bb_start_hafen hafen '{"limits": {"max_body_bytes": 1048576}}' || bb_diag "hafen failed to start: every test below fails"

# A marker that must never appear in hafen's log or metrics.
SECRET_WORDS="harbour crane number seventeen"

# ---- chat completions, JSON ----
out=$(bb_post /v1/chat/completions "{\"model\":\"mock-a\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Tell me about the $SECRET_WORDS\"}]}")
printf '%s' "$out" >"$BB_DIR/chat.json"
bb_is "$(bb_code)" 200 "chat: 200"
bb_is "$(bb_json "$BB_DIR/chat.json" 'j["object"]')" chat.completion "chat: object is chat.completion"
bb_is "$(bb_json "$BB_DIR/chat.json" 'j["choices"][0]["message"]["content"]')" "Tell me about the $SECRET_WORDS" \
	"chat: the upstream's answer arrives intact"
bb_is "$(bb_json "$BB_DIR/chat.json" 'j["model"]')" mock-a "chat: model echoed"
bb_ok "chat: usage present" bb_json_true "$BB_DIR/chat.json" 'j["usage"]["total_tokens"] > 0'
rid=$(bb_header X-Request-Id)
bb_ok "chat: X-Request-Id present" test -n "$rid"
bb_ok "chat: the request reached the upstream as a chat completion" \
	grep -q '"path": *"/v1/chat/completions"' "$up_RECORD"
bb_ok "chat: the client's API key is not forwarded upstream" \
	bash -c "! grep -qF '$KEY' '$up_RECORD'"

# ---- chat completions, streaming ----
body='{"model":"mock-a","stream":true,"messages":[{"role":"user","content":"alpha beta gamma delta epsilon zeta eta theta"}],"mock":{"events":8,"delay_ms":200}}'
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" --body "$body" >"$BB_DIR/stream.json"
bb_is "$(bb_json "$BB_DIR/stream.json" 'j["status"]')" 200 "stream: 200"
bb_ok "stream: Content-Type text/event-stream" \
	bb_json_true "$BB_DIR/stream.json" 'j["headers"].get("content-type","").startswith("text/event-stream")'
bb_ok "stream: X-Request-Id present" bb_json_true "$BB_DIR/stream.json" 'j["headers"].get("x-request-id")'
bb_is "$(bb_json "$BB_DIR/stream.json" 'len(j["events"])')" 9 "stream: all 8 content events and the finish event arrive"
bb_is "$(bb_json "$BB_DIR/stream.json" '"".join(json.loads(e["data"])["choices"][0]["delta"].get("content", "") for e in j["events"])')" \
	"alpha beta gamma delta epsilon zeta eta theta" "stream: content arrives intact and in order"
bb_ok "stream: ends with [DONE] and a terminated body" \
	bb_json_true "$BB_DIR/stream.json" 'j["done"] and j["complete"] and j["error"] is None'
bb_ok "stream: first event arrives long before the upstream finished (1.4 s; >= 0.8 s earlier)" \
	bb_json_true "$BB_DIR/stream.json" 'j["events"][0]["t"] + 0.8 < j["events"][-1]["t"]'
bb_ok "stream: events are not buffered (each arrives ~200 ms after the previous)" \
	bb_json_true "$BB_DIR/stream.json" 'sorted(b["t"] - a["t"] for a, b in zip(j["events"], j["events"][1:]))[3] > 0.08'

# ---- events cut across upstream chunks are reassembled ----
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" \
	--body '{"model":"m","stream":true,"messages":[{"role":"user","content":"Grüße aus dem Hafen, Ärger über Öl"}],"mock":{"events":5,"split_ms":40}}' \
	>"$BB_DIR/split.json"
bb_ok "stream: events the upstream cut in half arrive whole, intact and in order" bb_json_true "$BB_DIR/split.json" \
	'j["done"] and len(j["events"]) == 6 and "".join(json.loads(e["data"])["choices"][0]["delta"].get("content", "") for e in j["events"]) == "Grüße aus dem Hafen, Ärger über Öl"'

# ---- completions ----
out=$(bb_post /v1/completions '{"model":"mock-c","prompt":"Once upon a time"}')
printf '%s' "$out" >"$BB_DIR/cmpl.json"
bb_is "$(bb_code)" 200 "completions: 200"
bb_is "$(bb_json "$BB_DIR/cmpl.json" 'j["object"] + "|" + j["choices"][0]["text"]')" \
	"text_completion|Once upon a time" "completions: text_completion with the answer intact"
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" --path /v1/completions \
	--body '{"model":"mock-c","stream":true,"prompt":"one two three","mock":{"events":3}}' >"$BB_DIR/cstream.json"
bb_ok "completions stream: text arrives intact, then [DONE]" bb_json_true "$BB_DIR/cstream.json" \
	'"".join(json.loads(e["data"])["choices"][0]["text"] for e in j["events"]) == "one two three" and j["done"]'

# ---- embeddings ----
out=$(bb_post /v1/embeddings '{"model":"mock-e","input":["first text","second text"]}')
printf '%s' "$out" >"$BB_DIR/emb.json"
bb_is "$(bb_code)" 200 "embeddings: 200"
bb_ok "embeddings: a list of two vectors" bb_json_true "$BB_DIR/emb.json" \
	'j["object"] == "list" and [d["index"] for d in j["data"]] == [0, 1] and all(len(d["embedding"]) > 0 for d in j["data"])'

# ---- models ----
out=$(bb_curl "$(bb_url /v1/models)")
printf '%s' "$out" >"$BB_DIR/models.json"
bb_is "$(bb_code)" 200 "models: 200"
bb_ok "models: a list of model objects" bb_json_true "$BB_DIR/models.json" \
	'j["object"] == "list" and len(j["data"]) >= 1 and all(m["object"] == "model" and m["id"] for m in j["data"])'

# ---- keep-alive ----
curl -sv --max-time 10 --cacert "$CA" -H "Authorization: Bearer $KEY" \
	"$(bb_url /v1/models)" "$(bb_url /v1/models)" >/dev/null 2>"$BB_DIR/ka.err"
bb_ok "keep-alive: curl re-uses the connection for a second request" \
	grep -q 'Re-using existing connection' "$BB_DIR/ka.err"
bb_is "$(grep -c '^< HTTP/1.1 200' "$BB_DIR/ka.err")" 2 "keep-alive: both requests answered 200"
rid2=$(bb_curl "$(bb_url /v1/models)" >/dev/null; bb_header X-Request-Id)
bb_ok "request ids differ between requests" test -n "$rid2" -a "$rid" != "$rid2"

# ---- upstream keep-alive: sequential requests share pooled connections ----
conns_before=$(bb_mock_stat up connections)
for i in 1 2 3 4 5 6 7 8 9 10; do
	bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"pool"}]}' >/dev/null
done
conns_after=$(bb_mock_stat up connections)
bb_ok "upstream keep-alive: 10 sequential requests open at most 2 upstream connections ($conns_before -> $conns_after)" \
	test $((conns_after - conns_before)) -le 3
# (the stats request itself is one connection)

# ---- concurrent streams stay separate ----
par_pids=()
for i in 1 2 3 4 5 6; do
	$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" \
		--body "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"stream number $i says $i$i$i$i\"}],\"mock\":{\"events\":6,\"delay_ms\":50}}" \
		>"$BB_DIR/par$i.json" &
	par_pids+=($!)
done
wait "${par_pids[@]}"
good=0
for i in 1 2 3 4 5 6; do
	bb_json_true "$BB_DIR/par$i.json" "j['done'] and ''.join(json.loads(e['data'])['choices'][0]['delta'].get('content', '') for e in j['events']) == 'stream number $i says $i$i$i$i'" &&
		good=$((good + 1))
done
bb_is "$good" 6 "6 concurrent streams each arrive intact and complete"

# ---- a long stream (backpressure, many chunks) ----
long=$("$PYTHON3" -c 'print(" ".join("word%d" % i for i in range(20000)))')
printf '{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}],"mock":{"events":3000,"reply":"%s"}}' "$long" >"$BB_DIR/long.body"
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" --body "@$BB_DIR/long.body" >"$BB_DIR/long.json"
printf '%s' "$long" >"$BB_DIR/long.want"
bb_ok "a 3000-event stream (about 190 KB of text) arrives complete and intact" bb_json_true "$BB_DIR/long.json" \
	"j['done'] and len(j['events']) == 3001 and ''.join(json.loads(e['data'])['choices'][0]['delta'].get('content', '') for e in j['events']) == open('$BB_DIR/long.want').read()"

# ---- a large request body reaches the upstream intact ----
big=$("$PYTHON3" -c 'print(" ".join("token%d" % i for i in range(6000)))')
out=$(bb_post /v1/chat/completions "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"$big\"}]}")
printf '%s' "$out" >"$BB_DIR/bigreq.json"
printf '%s' "$big" >"$BB_DIR/big.want"
bb_ok "a 56 KB prompt reaches the upstream and comes back intact" bb_json_true "$BB_DIR/bigreq.json" \
	"j['choices'][0]['message']['content'] == open('$BB_DIR/big.want').read()"

# ---- plain listener ----
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $KEY" \
	"http://127.0.0.1:$PLAIN_PORT/v1/models")
bb_is "$code" 200 "plain listener serves the API"

# ---- admin ----
bb_is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$ADMIN_PORT/healthz")" 200 "admin: /healthz 200"
bb_is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$ADMIN_PORT/readyz")" 200 "admin: /readyz 200 with a healthy upstream"
curl -s -D "$BB_DIR/mh" --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" >"$BB_DIR/metrics.txt"
bb_ok "admin: /metrics is Prometheus text" grep -qi '^content-type: text/plain' "$BB_DIR/mh"
bb_ok "admin: /metrics has hafen_ samples" grep -Eq '^hafen_[a-z0-9_]+(\{[^}]*\})? [0-9.e+-]+$' "$BB_DIR/metrics.txt"
bb_ok "admin: /metrics counts requests (a sample with 'request' in its name is >= 5)" \
	awk '/^hafen_[a-z0-9_]*request[a-z0-9_]*(\{|[ ])/ && $NF + 0 >= 5 { found = 1 } END { exit !found }' "$BB_DIR/metrics.txt"
bb_is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $KEY" \
	"https://localhost:$TLS_PORT/metrics" --cacert "$CA")" 404 "admin endpoints are not on the API listener"

# ---- privacy of logs and metrics ----
bb_ok "the access log has lines" test -s "$HAFEN_LOG"
bb_ok "no prompt text in hafen's log" bash -c "! grep -q 'crane number seventeen' '$HAFEN_LOG'"
bb_ok "no API key in hafen's log" bash -c "! grep -qF '$KEY' '$HAFEN_LOG'"
bb_ok "no prompt text or key in /metrics" \
	bash -c "! grep -qF -e 'crane number' -e '$KEY' '$BB_DIR/metrics.txt'"
bb_ok "the request id of the chat request is in the access log" grep -qF "$rid" "$HAFEN_LOG"

bb_done
