#!/bin/sh
# Black-box test of `hafen-engine serve` (TAP): a tiny random model from
# make-model (with the real qwen2 vocabulary when ../shared/data/vocab has
# it), the real server on a free loopback port, curl as the client.
# Checks the OpenAI routes, JSON and SSE answers against each other and
# against `generate`, usage counts, stop strings, 400s, two concurrent
# streams, and that a client that disconnects mid-stream frees its slot.
set -u
PY=${PYTHON3:-/usr/bin/python3}
B=${top_builddir:-.}
S=${top_srcdir:-.}
E=$B/engine/hafen-engine
CHECK="$PY $S/tests/engine/serve_check.py"
if ! command -v curl >/dev/null 2>&1; then echo "1..0 # SKIP no curl"; exit 0; fi
T=$(mktemp -d)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
is() {	# is GOT WANT NAME
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: $1"; echo "#  want: $2"; fi
}

VOCAB=$S/../shared/data/vocab/ggml-vocab-qwen2.gguf
if [ -f "$VOCAB" ]; then
	"$E" make-model --arch qwen2moe --preset tiny --vocab "$VOCAB" -o "$T/m.gguf" >/dev/null 2>&1
	echo "# model: qwen2moe tiny with the qwen2 vocabulary"
else
	"$E" make-model --arch qwen2moe --preset tiny -o "$T/m.gguf" >/dev/null 2>&1
	echo "# model: qwen2moe tiny with the built-in vocabulary"
fi
ok $? "make-model writes a tiny model"

# start NAME ARGS...: serve on a free port; sets PORT
start() {
	name=$1
	shift
	: >"$T/$name.err"
	"$E" serve -m "$T/m.gguf" --host 127.0.0.1 --port 0 "$@" 2>"$T/$name.err" &
	PIDS="$PIDS $!"
	eval "PID_$name=$!"
	PORT=
	i=0
	while [ $i -lt 100 ] && [ -z "$PORT" ]; do
		PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/$name.err")
		[ -n "$PORT" ] || sleep 0.1
		i=$((i + 1))
	done
	[ -n "$PORT" ]
}
# req OUT METHOD PATH [BODY]: prints the HTTP status
req() {
	if [ $# -ge 4 ]; then
		curl -s -o "$1" -w '%{http_code}' --max-time 60 -X "$2" -H 'Content-Type: application/json' \
		    --data-binary "$4" "http://127.0.0.1:$PORT$3"
	else
		curl -s -o "$1" -w '%{http_code}' --max-time 60 -X "$2" "http://127.0.0.1:$PORT$3"
	fi
}
j() { $CHECK json "$@"; }
sse() { $CHECK sse "$@"; }

start main --parallel 2 --ctx 4096
ok $? "serve listens on a free port"
P1=$PORT

is "$(req "$T/models" GET /v1/models)" 200 "GET /v1/models is 200"
is "$(j "$T/models" "j['object'] + ' ' + j['data'][0]['id']")" "list m" "models lists the model by its file name"
is "$(req "$T/health" GET /health)" 200 "GET /health is 200"
is "$(j "$T/health" "[j['status'], j['slots_idle'], j['slots_processing']]")" '["ok", 2, 0]' "health: ok, both slots idle"

CHAT='"messages":[{"role":"system","content":"Du bist hilfreich."},{"role":"user","content":"Grüß dich! Wie geht es? 😀"}],"temperature":0,"seed":7,"max_tokens":12'
is "$(req "$T/chat.json" POST /v1/chat/completions "{$CHAT}")" 200 "chat completion (JSON) is 200"
is "$(j "$T/chat.json" "[j['object'], j['choices'][0]['message']['role'], j['choices'][0]['finish_reason'] in ('stop', 'length')]")" \
    '["chat.completion", "assistant", true]' "chat JSON: object, role and finish_reason"
is "$(j "$T/chat.json" "u['total_tokens'] == u['prompt_tokens'] + u['completion_tokens'] and u['prompt_tokens'] > 10 if (u := j['usage']) else 0")" \
    true "chat usage: total = prompt + completion"
is "$(j "$T/chat.json" "(j['choices'][0]['finish_reason'] == 'length') == (j['usage']['completion_tokens'] == 12)")" \
    true "chat usage: 12 completion tokens exactly when finish_reason is length"

is "$(req "$T/chat.sse" POST /v1/chat/completions "{$CHAT,\"stream\":true,\"stream_options\":{\"include_usage\":true}}")" 200 \
    "chat completion (stream) is 200"
is "$(sse "$T/chat.sse" "done_last and role == 'assistant' and all(e['object'] == 'chat.completion.chunk' for e in events)")" true \
    "chat stream: chunks parse, role first, [DONE] last"
is "$(sse "$T/chat.sse" text)" "$(j "$T/chat.json" "j['choices'][0]['message']['content']")" \
    "chat stream: the deltas join to the JSON answer"
is "$(sse "$T/chat.sse" finish)" "$(j "$T/chat.json" "j['choices'][0]['finish_reason']")" "chat stream: same finish_reason"
is "$(sse "$T/chat.sse" usage)" "$(j "$T/chat.json" "j['usage']")" "chat stream: include_usage sends the same usage"
is "$(sse "$T/chat.sse" "events[-1]['choices']")" "[]" "chat stream: the usage chunk has no choices"
req "$T/chat2.sse" POST /v1/chat/completions "{$CHAT,\"stream\":true}" >/dev/null
is "$(sse "$T/chat2.sse" "usage")" "null" "chat stream: no usage chunk unless asked for"

# completions: JSON against the stream and against `generate`
PROMPT='Es war einmal ein kleiner Drache'
CMPL="\"prompt\":\"$PROMPT\",\"temperature\":0,\"max_tokens\":16"
is "$(req "$T/c.json" POST /v1/completions "{$CMPL}")" 200 "completion (JSON) is 200"
is "$(j "$T/c.json" "j['object']")" text_completion "completion: object text_completion"
want=$("$E" tokenize -m "$T/m.gguf" --text "$PROMPT" --add-special 2>/dev/null | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')
is "$(j "$T/c.json" "j['usage']['prompt_tokens']")" "$want" "completion: prompt_tokens is the tokenizer's count ($want)"
"$E" generate -m "$T/m.gguf" -p "$PROMPT" -n 16 --temp 0 >"$T/gen.txt" 2>/dev/null
is "$(j "$T/c.json" "j['choices'][0]['text'] == open('$T/gen.txt', encoding='utf-8', errors='replace').read()[:-1]")" true \
    "completion: greedy text equals generate's"
# a prompt longer than one prefill chunk (64 tokens) is fed over several
# worker iterations and gives the same answer as one pass
LONG=$(printf '%s, ' "$PROMPT" "$PROMPT" "$PROMPT" "$PROMPT" "$PROMPT" "$PROMPT" "$PROMPT" "$PROMPT" "$PROMPT" "$PROMPT")
is "$(req "$T/long.json" POST /v1/completions "{\"prompt\":\"$LONG\",\"temperature\":0,\"max_tokens\":8}")" 200 \
    "completion with a long prompt is 200"
"$E" generate -m "$T/m.gguf" -p "$LONG" -n 8 --temp 0 >"$T/long.txt" 2>/dev/null
is "$(j "$T/long.json" "j['usage']['prompt_tokens'] > 64 and j['choices'][0]['text'] == open('$T/long.txt', encoding='utf-8', errors='replace').read()[:-1]")" \
    true "long prompt (> 64 tokens, chunked prefill): greedy text equals generate's"
is "$(req "$T/c.sse" POST /v1/completions "{$CMPL,\"stream\":true}")" 200 "completion (stream) is 200"
is "$(sse "$T/c.sse" text)" "$(j "$T/c.json" "j['choices'][0]['text']")" "completion stream joins to the JSON text"

# a stop string cuts the answer before it, finish_reason stop
full=$(j "$T/c.json" "j['choices'][0]['text']")
# two ASCII letters or digits from the middle (a random model can also emit
# bytes that are not UTF-8; they come back as U+FFFD)
stop=$($PY -c 'import sys; t=sys.argv[1]; print(next((t[k:k+2] for k in range(2, len(t) - 1) if t[k:k+2].isascii() and t[k:k+2].isalnum()), "zz"))' "$full")
STOPJ=$($PY -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$stop")
is "$(req "$T/stop.json" POST /v1/completions "{$CMPL,\"stop\":[\"zzzz-never\",$STOPJ]}")" 200 "completion with stop is 200"
is "$(j "$T/stop.json" "[j['choices'][0]['text'], j['choices'][0]['finish_reason']]")" \
    "$($PY -c 'import json,sys; t,s=sys.argv[1:3]; print(json.dumps([t[:t.find(s)], "stop"]))' "$full" "$stop")" \
    "stop string: text up to it, finish_reason stop"
is "$(req "$T/stop.sse" POST /v1/completions "{$CMPL,\"stop\":$STOPJ,\"stream\":true}")" 200 "stream with stop is 200"
is "$(sse "$T/stop.sse" "[text, finish]")" "$(j "$T/stop.json" "[j['choices'][0]['text'], j['choices'][0]['finish_reason']]")" \
    "stop string: the stream holds back and cuts the same"

# same seed, same sampled answer
SAMP='"prompt":"Hallo","temperature":0.9,"top_p":0.95,"top_k":50,"min_p":0.01,"presence_penalty":0.5,"frequency_penalty":0.3,"max_tokens":10,"seed":42'
req "$T/s1.json" POST /v1/completions "{$SAMP}" >/dev/null
req "$T/s2.json" POST /v1/completions "{$SAMP}" >/dev/null
is "$(j "$T/s1.json" "j['choices'][0]['text']")" "$(j "$T/s2.json" "j['choices'][0]['text']")" "same seed, same sampled text"

# bad requests: OpenAI-style 400 with an error object
bad() {	# bad PATH BODY NAME
	code=$(req "$T/bad.json" POST "$1" "$2")
	got=$(j "$T/bad.json" "j['error']['type'] if isinstance(j['error']['message'], str) and j['error']['message'] else 'no message'")
	is "$code $got" "400 invalid_request_error" "400: $3"
}
bad /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}' "truncated JSON"
bad /v1/chat/completions '[1,2]' "body not an object"
bad /v1/chat/completions '{"model":"m"}' "missing messages"
bad /v1/chat/completions '{"messages":[]}' "empty messages"
bad /v1/chat/completions '{"messages":[{"role":"wizard","content":"hi"}]}' "unknown role"
bad /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"temperature":-0.5}' "temperature < 0"
bad /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"top_p":1.5}' "top_p > 1"
bad /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"max_tokens":0}' "max_tokens 0"
bad /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"stream":"yes"}' "stream not a boolean"
bad /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"max_tokens":5000}' "context overflow (max_tokens)"
bad /v1/completions '{"prompt":42}' "prompt not a string"
LONG=$($PY -c 'print("Wort " * 5000)')
bad /v1/completions "{\"prompt\":\"$LONG\"}" "context overflow (prompt)"
is "$(j "$T/bad.json" "j['error']['code']")" context_length_exceeded "context overflow: code context_length_exceeded"
is "$(req "$T/nf.json" GET /v1/nothing)" 404 "unknown path is 404"
is "$(req "$T/nf.json" GET /v1/chat/completions)" 405 "GET on a POST route is 405"

# two concurrent streams both complete, each as it would alone
C1='"prompt":"Eins zwei drei","temperature":0,"max_tokens":40'
C2='"prompt":"The quick brown fox","temperature":0,"max_tokens":40'
req "$T/a.json" POST /v1/completions "{$C1}" >/dev/null
req "$T/b.json" POST /v1/completions "{$C2}" >/dev/null
req "$T/a.sse" POST /v1/completions "{$C1,\"stream\":true}" >/dev/null &
pa=$!
req "$T/b.sse" POST /v1/completions "{$C2,\"stream\":true}" >/dev/null &
pb=$!
wait $pa
wait $pb
is "$(sse "$T/a.sse" "done_last") $(sse "$T/b.sse" "done_last")" "true true" "two concurrent streams both end with [DONE]"
is "$(sse "$T/a.sse" text)|$(sse "$T/b.sse" text)" \
    "$(j "$T/a.json" "j['choices'][0]['text']")|$(j "$T/b.json" "j['choices'][0]['text']")" \
    "concurrent streams: each answer equals its answer alone (separate KV caches)"

# fairness: a short request that arrives while a long stream runs is served
# beside it (the slots take turns), not after it
curl -sN --max-time 60 -H 'Content-Type: application/json' \
    --data-binary '{"prompt":"Lang","temperature":0,"stream":true}' \
    "http://127.0.0.1:$PORT/v1/completions" >"$T/long.sse" 2>/dev/null &
pl=$!
i=0
while [ $i -lt 200 ] && ! grep -q '"text_completion"' "$T/long.sse"; do sleep 0.02; i=$((i + 1)); done
is "$(req "$T/short.json" POST /v1/completions '{"prompt":"Kurz","temperature":0,"max_tokens":3}')" 200 "a short request during a long stream is 200"
grep -q '\[DONE\]' "$T/long.sse"
ok $((1 - $?)) "the short request finished while the long stream was still running"
kill $pl 2>/dev/null
wait $pl 2>/dev/null

# a client that disconnects mid-stream frees its slot: --parallel 1 and an
# answer that would fill a large context take far longer than the check
# (this server maps the file; the first one copies it: --load auto)
start one --parallel 1 --ctx 16384 --queue 1 --load mmap
ok $? "second server (--parallel 1, --load mmap) listens"
# the queue is bounded (--queue 1): with the slot busy and one request
# waiting, the next one gets a 503; the waiting one is served once the
# stream's client goes away
curl -sN --max-time 60 -H 'Content-Type: application/json' \
    --data-binary '{"prompt":"Lang","temperature":0,"stream":true}' \
    "http://127.0.0.1:$PORT/v1/completions" >"$T/q1.sse" 2>/dev/null &
pq1=$!
i=0
while [ $i -lt 200 ] && ! grep -q '"text_completion"' "$T/q1.sse"; do sleep 0.02; i=$((i + 1)); done
req "$T/q2.json" POST /v1/completions '{"prompt":"Warte","temperature":0,"max_tokens":4}' >"$T/q2.code" &
pq2=$!
i=0
while [ $i -lt 200 ]; do
	req "$T/qh.json" GET /health >/dev/null
	[ "$(j "$T/qh.json" "j['requests_queued']")" = 1 ] && break
	sleep 0.02
	i=$((i + 1))
done
is "$(j "$T/qh.json" "[j['slots_processing'], j['requests_queued']]")" "[1, 1]" "health: one slot busy, one request queued"
is "$(req "$T/q3.json" POST /v1/completions '{"prompt":"Noch einer","max_tokens":4}') $(j "$T/q3.json" "j['error']['code']")" \
    "503 server_overloaded" "a full queue answers 503 server_overloaded"
kill $pq1 2>/dev/null
wait $pq1 2>/dev/null
wait $pq2
is "$(cat "$T/q2.code") $(j "$T/q2.json" "j['usage']['completion_tokens']")" "200 4" \
    "the queued request is served once the streaming client disconnected"
curl -sN --max-time 60 -H 'Content-Type: application/json' \
    --data-binary '{"prompt":"Erzähl mir alles","temperature":0,"stream":true}' \
    "http://127.0.0.1:$PORT/v1/completions" 2>/dev/null | head -c 3000 >"$T/cut.sse"
grep -q '"text_completion"' "$T/cut.sse"
ok $? "the long stream started"
t0=$(date +%s)
code=$(curl -s -o "$T/after.json" -w '%{http_code}' --max-time 20 -H 'Content-Type: application/json' \
    --data-binary '{"prompt":"Hallo","max_tokens":4,"temperature":0}' "http://127.0.0.1:$PORT/v1/completions")
t1=$(date +%s)
is "$code $(j "$T/after.json" "j['usage']['completion_tokens']")" "200 4" "after the disconnect the next request is served ($((t1 - t0)) s)"
req "$T/h1.json" GET /health >/dev/null
is "$(j "$T/h1.json" "[j['slots_processing'], j['requests_queued']]")" "[0, 0]" "health: the slot is free again"

# the same for a JSON (not streamed) request whose client gives up
curl -s -o /dev/null --max-time 1 -H 'Content-Type: application/json' \
    --data-binary '{"prompt":"Erzähl mir noch mehr","temperature":0}' "http://127.0.0.1:$PORT/v1/completions"
i=0
while [ $i -lt 100 ]; do
	req "$T/h2.json" GET /health >/dev/null
	[ "$(j "$T/h2.json" "j['slots_processing']")" = 0 ] && break
	sleep 0.02
	i=$((i + 1))
done
is "$(j "$T/h2.json" "j['slots_processing']")" 0 "a JSON request's client that hangs up frees the slot too"

# clean shutdown on SIGTERM
eval "pm=\$PID_main"
kill -TERM "$pm"
wait "$pm"
is "$?" 0 "SIGTERM: serve exits 0"
eval "po=\$PID_one"
kill -TERM "$po"
wait "$po"
is "$?" 0 "SIGTERM with idle slots: serve exits 0"
grep -q "Grüß\|Drache\|Erzähl" "$T/main.err" "$T/one.err"
ok $((1 - $?)) "no prompt text in the server's log"

"$E" serve -m "$T/m.gguf" --port 0 --load bogus 2>"$T/load.err"
is "$?" 2 "--load with an unknown mode: exit 2"
grep -q "expected auto, mmap or copy" "$T/load.err"
ok $? "--load names the modes it takes"

echo "1..$n"
[ "$fail" -eq 0 ]
