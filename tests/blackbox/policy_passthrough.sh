#!/usr/bin/env bash
# With the policy on, what the policy does not change is not re-encoded: a
# request without personal data reaches the upstream byte for byte as the
# client sent it (odd spacing, key order, \u escapes and all), while one with
# personal data still goes out rewritten; answers and stream events that the
# guard and the restorer leave alone come back with their text intact.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
PACKS=$top_srcdir/policies/packs
POLICY="{\"policy\": {\"packs\": [\"$PACKS/gdpr-default.json\", \"$PACKS/secrets.json\", \"$PACKS/special-categories.json\"]}}"
bb_start_hafen gw "$POLICY" || { echo "Bail out! hafen did not start"; exit 1; }

# same_as_sent FILE: the last body the mock got equals FILE's bytes.
same_as_sent() {
	tail -n 1 "$up_RECORD" | "$PYTHON3" -c '
import json, sys
got = json.loads(sys.stdin.read())["body"].encode("utf-8")
sys.exit(0 if got == open(sys.argv[1], "rb").read() else 1)' "$1"
}

# ---- a request without personal data: forwarded as sent ----
printf '%s' '{ "messages" : [ {"content":"Bitte fasse das Protokoll zusammen, gr\u00fc\u00dfe \/ danke.", "role":"user"} ],
  "model":"m" }' >"$BB_DIR/plain.json"
bb_post /v1/chat/completions "@$BB_DIR/plain.json" >"$BB_DIR/c.json"
bb_is "$(bb_code)" 200 "no personal data: 200"
bb_ok "no personal data: the upstream got the client's bytes unchanged" same_as_sent "$BB_DIR/plain.json"
bb_is "$(bb_json "$BB_DIR/c.json" 'j["choices"][0]["message"]["content"]')" \
	"Bitte fasse das Protokoll zusammen, grüße / danke." "no personal data: the answer text comes back intact"

# ---- the same shape with an IBAN: rewritten, so not the client's bytes ----
printf '%s' '{ "messages" : [ {"content":"Bitte \u00fcberweise auf DE89 3704 0044 0532 0130 00.", "role":"user"} ],
  "model":"m" }' >"$BB_DIR/pii.json"
bb_post /v1/chat/completions "@$BB_DIR/pii.json" >"$BB_DIR/c2.json"
bb_is "$(bb_code)" 200 "IBAN: 200"
bb_ok "IBAN: the upstream did not get the client's bytes" bb_not same_as_sent "$BB_DIR/pii.json"
bb_ok "IBAN: the upstream got a placeholder" bash -c "tail -n 1 '$up_RECORD' | grep -q '<IBAN_1>'"
bb_is "$(bb_json "$BB_DIR/c2.json" 'j["choices"][0]["message"]["content"]')" \
	"Bitte überweise auf DE89 3704 0044 0532 0130 00." "IBAN: the answer is restored"

# ---- a stream without personal data: every event's text comes back ----
TEXT="Das Protokoll vom Dienstag: drei Punkte, zwei Beschlüsse und ein offener Termin."
SBODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": sys.argv[1]}], "mock": {"events": 12}}))' "$TEXT")
bb_post /v1/chat/completions "$SBODY" -N >"$BB_DIR/s.txt"
bb_is "$(bb_code)" 200 "stream: 200"
bb_is "$("$PYTHON3" - "$BB_DIR/s.txt" <<'PY'
import json, sys
ev = [l[6:] for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l.startswith("data: ")]
text = "".join(c.get("delta", {}).get("content") or "" for e in ev if e != "[DONE]" for c in json.loads(e)["choices"])
print(text + ("|DONE" if ev and ev[-1] == "[DONE]" else "|NO-DONE"))
PY
)" "$TEXT|DONE" "stream: the text comes back whole and in order, [DONE] last"

bb_done
