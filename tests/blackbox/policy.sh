#!/usr/bin/env bash
# The policy engine in the real gateway (real TLS, the mock upstream as the
# engine, its --record file shows what left the gateway): personal data is
# pseudonymized on the way out and restored on the way back (JSON and
# streams split into small events), a private key is refused with 403 and
# never reaches the upstream, a secret the model produces is redacted in a
# stream, and a broken policy file is refused at start, by -t and on reload.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
PACKS=$top_srcdir/policies/packs
# A site pack whose customer literal holds quotes: put back into tool-call
# arguments (JSON text) it must come back escaped.
cat >"$BB_DIR/site.json" <<'JSON'
{"name": "site", "version": 1,
 "detectors": [{"id": "customers", "entity": "customer", "label": "CUSTOMER",
   "class": "confidential", "literals": ["Acme \"Blue\" GmbH", "Globex"]}],
 "rules": [{"id": "site.pseudonymize-customers", "entities": ["customer"], "action": "pseudonymize"},
   {"id": "site.answer-customers", "entities": ["customer"], "direction": "response",
    "action": "pseudonymize"}]}
JSON
POLICY="{\"policy\": {\"packs\": [\"$PACKS/gdpr-default.json\", \"$PACKS/secrets.json\", \"$BB_DIR/site.json\"]}}"
bb_start_hafen gw "$POLICY" || { echo "Bail out! hafen did not start"; exit 1; }

IBAN="DE89 3704 0044 0532 0130 00"
NAME="Max Mustermann"
PROMPT="Bitte überweise an $NAME das Geld auf $IBAN heute."

# last_upstream_body: the body of the last request the mock got.
last_upstream_body() {
	tail -n 1 "$up_RECORD" | "$PYTHON3" -c 'import json, sys; print(json.loads(sys.stdin.read())["body"])'
}

# ---- JSON answer ----
BODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "m", "messages": [{"role": "user", "content": sys.argv[1]}]}))' "$PROMPT")
bb_post /v1/chat/completions "$BODY" >"$BB_DIR/c.json"
bb_is "$(bb_code)" 200 "json: 200"
last_upstream_body >"$BB_DIR/up.json"
bb_ok "json: the IBAN did not reach the upstream" bb_not grep -q "$IBAN" "$BB_DIR/up.json"
bb_ok "json: the name did not reach the upstream" bb_not grep -q "$NAME" "$BB_DIR/up.json"
bb_ok "json: the upstream got placeholders instead" bb_json_true "$BB_DIR/up.json" \
	'"<PERSON_" in j["messages"][0]["content"] and "<IBAN_" in j["messages"][0]["content"]'
bb_is "$(bb_json "$BB_DIR/c.json" 'j["choices"][0]["message"]["content"]')" "$PROMPT" \
	"json: the client gets the echoed answer with the originals restored"

# ---- stream, split into events smaller than a placeholder ----
SBODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": sys.argv[1]}], "mock": {"events": 40}}))' "$PROMPT")
bb_post /v1/chat/completions "$SBODY" -N >"$BB_DIR/s.txt"
bb_is "$(bb_code)" 200 "stream: 200"
sse_text() {
	"$PYTHON3" - "$1" <<'PY'
import json, sys
ev = [l[6:] for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l.startswith("data: ")]
out = []
for e in ev:
    if e == "[DONE]":
        continue
    for c in json.loads(e)["choices"]:
        out.append(c.get("delta", {}).get("content") or c.get("text") or "")
print("".join(out) + ("|DONE" if ev and ev[-1] == "[DONE]" else "|NO-DONE"))
PY
}
last_upstream_body >"$BB_DIR/sup.json"
bb_ok "stream: the IBAN and the name did not reach the upstream" \
	bash -c "! grep -q -e '$IBAN' -e '$NAME' '$BB_DIR/sup.json'"
bb_is "$(sse_text "$BB_DIR/s.txt")" "$PROMPT|DONE" "stream: placeholders split over 40 events come back restored, [DONE] last"
bb_ok "stream: no placeholder reaches the client" bb_not grep -q -e '<PERSON_' -e '<IBAN_' "$BB_DIR/s.txt"

# ---- completions (text field) ----
CBODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "m", "stream": True, "prompt": sys.argv[1], "mock": {"events": 25}}))' "$PROMPT")
bb_post /v1/completions "$CBODY" -N >"$BB_DIR/cs.txt"
bb_is "$(sse_text "$BB_DIR/cs.txt")" "$PROMPT|DONE" "completions stream: restored"

# ---- embeddings: inputs are scanned too ----
EBODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "e", "input": ["kein Treffer", sys.argv[1]]}))' "$PROMPT")
bb_post /v1/embeddings "$EBODY" >"$BB_DIR/e.json"
bb_is "$(bb_code)" 200 "embeddings: 200"
last_upstream_body >"$BB_DIR/eup.json"
bb_ok "embeddings: the IBAN in an input did not reach the upstream" bb_not grep -q "$IBAN" "$BB_DIR/eup.json"

# ---- blocked: a private key ----
n_before=$(wc -l <"$up_RECORD")
PEM=$(printf -- '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----')
KBODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "m", "messages": [{"role": "user", "content": "my key: " + sys.argv[1]}]}))' "$PEM")
bb_post /v1/chat/completions "$KBODY" >"$BB_DIR/k.json"
bb_is "$(bb_code)" 403 "private key: 403"
bb_ok "private key: OpenAI error naming the rule and the entity type" bb_json_true "$BB_DIR/k.json" \
	'j["error"]["type"] == "policy_violation" and "secrets.block-private-keys" in j["error"]["message"] and "private_key" in j["error"]["message"]'
bb_ok "private key: the error does not quote the key" bb_not grep -q MIIEvQ "$BB_DIR/k.json"
bb_is "$(wc -l <"$up_RECORD")" "$n_before" "private key: nothing reached the upstream"

# ---- a secret in the answer, streamed ----
SECRET="ghp_$(printf 'aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ3bC5')"
RBODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "hello"}], "mock": {"events": 12, "reply": "the token is " + sys.argv[1] + " keep it"}}))' "$SECRET")
bb_post /v1/chat/completions "$RBODY" -N >"$BB_DIR/r.txt"
bb_is "$(bb_code)" 200 "answer secret: 200"
bb_ok "answer secret: redacted before it reaches the client" bb_not grep -q "${SECRET:4:12}" "$BB_DIR/r.txt"
bb_ok "answer secret: the rest of the answer is there" bash -c "'$PYTHON3' -c 'import sys' && grep -q keep '$BB_DIR/r.txt'"

# ---- tool calls: the model copies placeholders into a call's arguments ----
TPROMPT='Schick die Rechnung an Max Mustermann, Kunde: Acme "Blue" GmbH, heute.'
tbody() { # tbody STREAM ANSWER_AS [SPLIT_AT]
	"$PYTHON3" -c 'import json, sys
m = {"answer_as": sys.argv[3]}
if len(sys.argv) > 4: m["split_at"] = int(sys.argv[4])
print(json.dumps({"model": "m", "stream": sys.argv[2] == "1", "messages": [{"role": "user", "content": sys.argv[1]}], "mock": m}))' "$TPROMPT" "$@"
}
bb_post /v1/chat/completions "$(tbody 0 tool_call)" >"$BB_DIR/t.json"
bb_is "$(bb_code)" 200 "tool call json: 200"
last_upstream_body >"$BB_DIR/tup.json"
bb_ok "tool call: neither the name nor the customer reached the upstream" \
	bash -c "! grep -q -e Mustermann -e Blue '$BB_DIR/tup.json'"
bb_is "$(bb_json "$BB_DIR/t.json" 'json.loads(j["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])["text"]')" \
	"$TPROMPT" "tool call json: arguments are valid JSON with the originals restored (quotes escaped)"
bb_post /v1/chat/completions "$(tbody 0 function_call)" >"$BB_DIR/f.json"
bb_is "$(bb_json "$BB_DIR/f.json" 'json.loads(j["choices"][0]["message"]["function_call"]["arguments"])["text"]')" \
	"$TPROMPT" "function_call json: arguments are valid JSON with the originals restored"

# Streamed: the arguments in two events, split at every byte of every
# placeholder (and one either side) as the mock sees them.
SPLITS=$("$PYTHON3" - "$BB_DIR/tup.json" <<'PY'
import json, re, sys
p = json.load(open(sys.argv[1], encoding="utf-8"))["messages"][0]["content"]
args = ('{"text":"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"}').encode()
out = set()
for m in re.finditer(rb"<[A-Z_]+_[0-9]+>", args):
    out.update(range(m.start(), m.end() + 1))
print(" ".join(str(i) for i in sorted(out)))
PY
)
bb_ok "tool call stream: the upstream saw placeholders to split ($(echo $SPLITS | wc -w) split points)" \
	test "$(echo $SPLITS | wc -w)" -ge 20
for at in $SPLITS; do
	bb_post /v1/chat/completions "$(tbody 1 tool_call "$at")" -N >"$BB_DIR/ts-$at.txt"
done
bb_post /v1/chat/completions "$(tbody 1 function_call 17)" -N >"$BB_DIR/ts-fc.txt"
# tool_check FILE...: the files whose arguments are not the restored JSON
# (or that leak a placeholder, or do not end in [DONE]); "none" when all pass.
tool_check() {
	"$PYTHON3" - "$TPROMPT" "$@" <<'PY'
import json, sys
want, bad = sys.argv[1], []
for path in sys.argv[2:]:
    raw = open(path, encoding="utf-8").read()
    ev = [l[6:] for l in raw.split("\n") if l.startswith("data: ")]
    args = {}
    for e in ev[:-1]:
        for c in json.loads(e)["choices"]:
            d = c.get("delta", {})
            for tc in d.get("tool_calls") or []:
                args[tc["index"]] = args.get(tc["index"], "") + tc.get("function", {}).get("arguments", "")
            if d.get("function_call"):
                args["fc"] = args.get("fc", "") + d["function_call"].get("arguments", "")
    try:
        ok = ev[-1] == "[DONE]" and len(args) == 1 and json.loads(list(args.values())[0])["text"] == want
    except (ValueError, IndexError):
        ok = False
    if not ok or "<PERSON_" in raw or "<CUSTOMER_" in raw:
        bad.append(path.rsplit("/", 1)[1])
print(" ".join(bad) or "none")
PY
}
bb_is "$(tool_check "$BB_DIR"/ts-[0-9]*.txt)" none \
	"tool call stream: every split comes back exact, valid JSON, [DONE] last"
bb_is "$(tool_check "$BB_DIR/ts-fc.txt")" none "function_call stream: restored, valid JSON"

# ---- pseudonymize in the response direction: redacted, and lint says so ----
"$top_builddir/gateway/hafenctl" policy lint "$BB_DIR/site.json" >"$BB_DIR/lint.out" 2>&1
bb_ok "lint: a response-direction pseudonymize rule gets a note that answers are redacted" \
	grep -q 'note: rule site.answer-customers: pseudonymize applies to requests; in answers its findings are redacted as \[LABEL\]' "$BB_DIR/lint.out"
bb_ok "lint: request-only pseudonymize rules get no note" bb_not grep -q 'note: rule site.pseudonymize-customers' "$BB_DIR/lint.out"
GBODY=$("$PYTHON3" -c 'import json; print(json.dumps({"model": "m", "messages": [{"role": "user", "content": "Wer liefert?"}], "mock": {"reply": "Frag bei Globex nach."}}))')
bb_post /v1/chat/completions "$GBODY" >"$BB_DIR/g.json"
bb_is "$(bb_json "$BB_DIR/g.json" 'j["choices"][0]["message"]["content"]')" "Frag bei [CUSTOMER] nach." \
	"response pseudonymize, json: what the model produced is redacted as [LABEL]"
GSBODY=$("$PYTHON3" -c 'import json; print(json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "Wer liefert?"}], "mock": {"reply": "Frag bei Globex nach.", "events": 9}}))')
bb_post /v1/chat/completions "$GSBODY" -N >"$BB_DIR/gs.txt"
bb_is "$(sse_text "$BB_DIR/gs.txt")" "Frag bei [CUSTOMER] nach.|DONE" "response pseudonymize, stream: redacted as [LABEL]"

# ---- no prompt text in the log ----
bb_ok "log: neither the name nor the IBAN nor the key appear in hafen's log" \
	bash -c "! grep -q -e '$NAME' -e '$IBAN' -e MIIEvQ -e Blue '$HAFEN_LOG'"

# ---- a broken policy file ----
printf '{"name": "bad", "version": 1, "rules": [{"id": "x", "entities": ["iban"], "action": "explode"}]}' >"$BB_DIR/bad.json"
bb_config "$BB_DIR/bad-config.json" "{\"policy\": {\"packs\": [\"bad.json\"]}}"
"$HAFEN" -t -c "$BB_DIR/bad-config.json" >"$BB_DIR/t.out" 2>&1
bb_is "$?" 1 "hafen -t: a broken policy file fails the check"
bb_ok "hafen -t: the error names the pack, the file and the JSON path" \
	grep -q 'policy.packs\[0\]: bad.json: rules\[0\].action' "$BB_DIR/t.out"
cp "$HAFEN_CONFIG" "$BB_DIR/good.json"
bb_config "$HAFEN_CONFIG" "{\"policy\": {\"packs\": [\"$BB_DIR/bad.json\"]}}"
kill -HUP "$HAFEN_PID"
for _ in $(seq 1 50); do grep -q 'reload refused' "$HAFEN_LOG" && break; sleep 0.05; done
bb_ok "reload with a broken policy file: refused, logged with the path" grep -q 'reload refused.*policy.packs\[0\]' "$HAFEN_LOG"
bb_post /v1/chat/completions "$BODY" >"$BB_DIR/c2.json"
last_upstream_body >"$BB_DIR/up2.json"
bb_ok "after the refused reload the old policy still pseudonymizes" bb_not grep -q "$IBAN" "$BB_DIR/up2.json"

# Reload without a policy section: the filter turns off for new requests.
bb_config "$HAFEN_CONFIG" '{}'
kill -HUP "$HAFEN_PID"
for _ in $(seq 1 50); do grep -q 'configuration reloaded' "$HAFEN_LOG" && break; sleep 0.05; done
bb_post /v1/chat/completions "$BODY" >"$BB_DIR/c3.json"
last_upstream_body >"$BB_DIR/up3.json"
bb_ok "after a reload without \"policy\" the prompt passes unchanged" grep -q "$IBAN" "$BB_DIR/up3.json"

bb_done
