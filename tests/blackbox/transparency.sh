#!/usr/bin/env bash
# AI Act Art. 50 transparency in the real gateway (real TLS, the mock
# upstream as the engine): every answer of every endpoint carries the
# marker headers, every JSON answer and every SSE chunk but [DONE] the
# "hafen" member (as its first member), upstream error answers included;
# hafen's own errors and the model list say X-Hafen-AI-Generated: false; a
# purpose can turn the body member off (headers stay); the notice goes to
# each end user once. All of it twice: without and with the policy engine
# (its event filter rewrites chunks before the marker goes on).
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
bb_new_key RAWKEY
bb_new_key OTHERKEY
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
PACKS=$top_srcdir/policies/packs
NOTICE='Antworten erzeugt eine KI (EU AI Act Art. 50). Datenschutz: https://example.org/ds?a=1&b=ü'
KEYS="\"keys\": [
 {\"name\": \"chat\", \"tenant\": \"t1\", \"purpose\": \"chat\", \"sha256\": \"$KEY_SHA256\"},
 {\"name\": \"raw\", \"tenant\": \"t1\", \"purpose\": \"legacy\", \"sha256\": \"$RAWKEY_SHA256\"},
 {\"name\": \"other\", \"tenant\": \"t2\", \"purpose\": \"chat\", \"sha256\": \"$OTHERKEY_SHA256\"}]"
TRANSPARENCY="\"transparency\": {\"body_field\": true, \"headers\": true, \"purposes\": {
 \"chat\": {\"notice\": $("$PYTHON3" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$NOTICE")},
 \"legacy\": {\"body_field\": false}}}"
MODEL='Qwen/Qwen3-30B-A3B "ä"'
MODEL_JSON=$("$PYTHON3" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$MODEL")
MODEL_HDR='Qwen/Qwen3-30B-A3B%20"%C3%A4"'

# check_json FILE WANT_MEMBER: the answer is JSON; with WANT_MEMBER=1 its
# first member is hafen = {ai_generated: true, model: the answer's model,
# upstream: engine}; with 0 it has no hafen member.
check_json() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1], encoding="utf-8").read())
want = sys.argv[2] == "1"
if not want:
    sys.exit(0 if "hafen" not in d else 1)
first = next(iter(d))
h = d.get("hafen")
model = d.get("model")
ok = first == "hafen" and h == {"ai_generated": True, "model": model if model else h.get("model"), "upstream": "engine"}
sys.exit(0 if ok and isinstance(h["model"], str) and h["model"] else 1)
PY
}

# check_sse FILE WANT_MEMBER: prints "EVENTS MARKED DONE"; every data event
# but [DONE] is a JSON object, marked (first member) or not at all.
check_sse() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import json, sys
raw = open(sys.argv[1], encoding="utf-8").read()
want = sys.argv[2] == "1"
events = [e for e in raw.split("\n\n") if e.strip()]
n = marked = done = 0
for e in events:
    data = "\n".join(l[6:] for l in e.split("\n") if l.startswith("data: "))
    if data == "[DONE]":
        done += 1
        continue
    n += 1
    d = json.loads(data)
    h = d.get("hafen")
    if want and next(iter(d)) == "hafen" and h == {"ai_generated": True, "model": d.get("model", h.get("model")), "upstream": "engine"}:
        marked += 1
    if not want and h is None:
        marked += 1
print(n, marked, done)
PY
}

code_marked() {
	[ "$(bb_code)" = "$1" ] && hdr_marked
}

check_json_grep() {
	check_json "$1" "$2" && grep -q "$3" "$1"
}

hdr_marked() {
	[ "$(bb_header X-Hafen-AI-Generated)" = true ] && [ "$(bb_header X-Hafen-Model)" = "$MODEL_HDR" ] &&
		[ "$(bb_header X-Hafen-Upstream)" = engine ]
}

# run_suite LABEL: every endpoint, with and without the body member.
run_suite() {
	local L=$1 k
	for k in chat raw; do
		local want=1 K=$KEY
		[ $k = raw ] && { want=0; K=$RAWKEY; }
		local T="$L/$k"
		KEY=$K bb_post /v1/chat/completions "{\"model\": $MODEL_JSON, \"messages\": [{\"role\": \"user\", \"content\": \"Hallo\"}]}" >"$BB_DIR/c.json"
		bb_ok "$T: chat: 200, marker headers" code_marked 200
		bb_ok "$T: chat: body member $want" check_json "$BB_DIR/c.json" $want
		KEY=$K bb_post /v1/completions "{\"model\": $MODEL_JSON, \"prompt\": \"Hallo\"}" >"$BB_DIR/p.json"
		bb_ok "$T: completions: marker headers" hdr_marked
		bb_ok "$T: completions: body member $want" check_json "$BB_DIR/p.json" $want
		KEY=$K bb_post /v1/embeddings "{\"model\": $MODEL_JSON, \"input\": [\"a\", \"b\"]}" >"$BB_DIR/e.json"
		bb_ok "$T: embeddings: marker headers" hdr_marked
		bb_ok "$T: embeddings: body member $want" check_json "$BB_DIR/e.json" $want
		KEY=$K bb_post /v1/chat/completions "{\"model\": $MODEL_JSON, \"stream\": true, \"messages\": [{\"role\": \"user\", \"content\": \"eins zwei drei vier fünf sechs\"}], \"mock\": {\"events\": 12, \"split_ms\": 1}}" -N >"$BB_DIR/s.txt"
		bb_ok "$T: chat stream: marker headers (requested model)" hdr_marked
		bb_is "$(check_sse "$BB_DIR/s.txt" $want)" "13 13 1" "$T: chat stream: every chunk (12 + usage/finish) as expected, [DONE] once"
		KEY=$K bb_post /v1/completions "{\"model\": $MODEL_JSON, \"stream\": true, \"prompt\": \"eins zwei drei\", \"mock\": {\"events\": 7}}" -N >"$BB_DIR/cs.txt"
		bb_ok "$T: completions stream: marker headers" hdr_marked
		r=$(check_sse "$BB_DIR/cs.txt" $want)
		bb_ok "$T: completions stream: every chunk as expected ($r)" bash -c "set -- $r; [ \$1 -ge 7 ] && [ \$1 = \$2 ] && [ \$3 = 1 ]"
		KEY=$K bb_post /v1/chat/completions "{\"model\": $MODEL_JSON, \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"mock\": {\"fail\": \"status_500\"}}" >"$BB_DIR/err.json"
		bb_ok "$T: upstream error answer: 500 with marker headers" code_marked 500
		bb_ok "$T: upstream error answer: body member $want, the error kept" \
			check_json_grep "$BB_DIR/err.json" $want injected
	done
	bb_curl "$(bb_url /v1/models)" >"$BB_DIR/m.json"
	bb_is "$(bb_code) $(bb_header X-Hafen-AI-Generated)" "200 false" "$L: model list: not AI-generated content"
	bb_ok "$L: model list: no body member" check_json "$BB_DIR/m.json" 0
	KEY=hk-wrong bb_post /v1/chat/completions "{\"model\": \"m\", \"messages\": []}" >/dev/null
	bb_is "$(bb_code) $(bb_header X-Hafen-AI-Generated) $(bb_header X-Hafen-Model)" "401 false " "$L: hafen's own error: AI-Generated false, no model"
}

notice_of() {
	KEY=$1 bb_post /v1/chat/completions '{"model": "m", "messages": [{"role": "user", "content": "hi"}]}' "${@:2}" >/dev/null
	bb_header X-Hafen-Notice
}

# ---- without the policy engine: raw events ----
bb_start_hafen gw "{$KEYS, $TRANSPARENCY}" || { echo "Bail out! hafen did not start"; exit 1; }
run_suite plain

# ---- notice: once per end user (tenant + X-Hafen-User) and purpose ----
WANT_NOTICE=$("$PYTHON3" -c 'import sys, urllib.parse; print("UTF-8'"''"'" + urllib.parse.quote(sys.argv[1], safe="!#$&+-.^_`|~"))' "$NOTICE")
n1=$(notice_of "$KEY" -H 'X-Hafen-User: alice')
bb_is "$n1" "$WANT_NOTICE" "notice: alice's first answer carries it (RFC 8187 ext-value)"
bb_is "$("$PYTHON3" -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1].split("'"''"'", 1)[1]))' "$n1")" "$NOTICE" \
	"notice: decodes to the configured text"
bb_is "$(notice_of "$KEY" -H 'X-Hafen-User: alice')" "" "notice: not on alice's second answer"
bb_is "$(notice_of "$KEY" -H 'X-Hafen-User: bob')" "$WANT_NOTICE" "notice: bob is a new end user"
bb_is "$(notice_of "$OTHERKEY" -H 'X-Hafen-User: alice')" "$WANT_NOTICE" "notice: alice of another tenant is a new end user"
bb_is "$(notice_of "$KEY")" "$WANT_NOTICE" "notice: without X-Hafen-User every answer carries it"
bb_is "$(notice_of "$RAWKEY" -H 'X-Hafen-User: carol')" "" "notice: a purpose without notice sends none"
bb_ok "notice: the user id never reaches the log" bb_not grep -q -e alice -e bob "$HAFEN_LOG"
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null

# ---- with the policy engine: the marker goes on the rewritten chunks ----
bb_start_hafen gwp "{$KEYS, $TRANSPARENCY, \"policy\": {\"packs\": [\"$PACKS/gdpr-default.json\", \"$PACKS/secrets.json\"]}}" ||
	{ echo "Bail out! hafen did not start"; exit 1; }
bb_is "$(notice_of "$KEY" -H 'X-Hafen-User: alice')" "$WANT_NOTICE" \
	"notice: after a restart alice gets it once more (the set is in memory only)"
run_suite policy

# ---- configuration ----
bb_config "$BB_DIR/bad.json" '{"transparency": {"headers": false}}'
out=$("$HAFEN" -t -c "$BB_DIR/bad.json" 2>&1)
bb_ok "config: headers false is refused, naming Art. 50 ($out)" bash -c "[[ '$out' == *'transparency.headers: expected true'*'Art. 50'* ]]"
bb_config "$BB_DIR/bad2.json" '{"transparency": {"purposes": {"chat": {"body_feld": false}}}}'
out=$("$HAFEN" -t -c "$BB_DIR/bad2.json" 2>&1)
bb_ok "config: a typo is an error with its path ($out)" bash -c "[[ '$out' == *'transparency.purposes.chat.body_feld: unknown key'* ]]"
bb_done
