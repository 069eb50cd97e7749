#!/usr/bin/env bash
# Streamed tool calls through the policy filter: two calls (index 0 and 1)
# whose argument deltas interleave (call 0, call 1, call 0, ...; the mock's
# answer_as "tool_calls_interleaved"), with the placeholders of the prompt
# split across deltas at every byte, and in many small events. Each call's
# arguments must come back as valid JSON with the originals restored.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
PACKS=$top_srcdir/policies/packs
# A customer literal with quotes: put back into arguments (JSON text) it
# must come back escaped.
cat >"$BB_DIR/site.json" <<'JSON'
{"name": "site", "version": 1,
 "detectors": [{"id": "customers", "entity": "customer", "label": "CUSTOMER",
   "class": "confidential", "literals": ["Acme \"Blue\" GmbH", "Globex"]}],
 "rules": [{"id": "site.pseudonymize-customers", "entities": ["customer"], "action": "pseudonymize"}]}
JSON
POLICY="{\"policy\": {\"packs\": [\"$PACKS/gdpr-default.json\", \"$PACKS/secrets.json\", \"$BB_DIR/site.json\"]}}"
bb_start_hafen gw "$POLICY" || { echo "Bail out! hafen did not start"; exit 1; }

TPROMPT='Schick die Rechnung an Max Mustermann, Kunde: Acme "Blue" GmbH, IBAN DE89 3704 0044 0532 0130 00.'
tbody() { # tbody STREAM MOCK_JSON
	"$PYTHON3" -c 'import json, sys
print(json.dumps({"model": "m", "stream": sys.argv[2] == "1", "messages": [{"role": "user", "content": sys.argv[1]}], "mock": json.loads(sys.argv[3])}))' "$TPROMPT" "$@"
}

# The arguments as the mock sees them, and where their placeholders are.
bb_post /v1/chat/completions "$(tbody 0 '{"answer_as": "tool_calls_interleaved"}')" >"$BB_DIR/t.json"
bb_is "$(bb_code)" 200 "json answer: 200"
tail -n 1 "$up_RECORD" | "$PYTHON3" -c 'import json, sys; print(json.loads(sys.stdin.read())["body"])' >"$BB_DIR/tup.json"
bb_ok "neither the name, the customer nor the IBAN reached the upstream" \
	bash -c "! grep -q -e Mustermann -e Blue -e '0532 0130' '$BB_DIR/tup.json'"
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
bb_ok "the upstream saw three placeholders to split ($(echo $SPLITS | wc -w) split points)" \
	test "$(echo $SPLITS | wc -w)" -ge 30

# check FILE...: the files whose two calls' arguments are not both the
# restored JSON (or that leak a placeholder, or miss [DONE] or the
# interleaving); "none" when all pass.
check() {
	"$PYTHON3" - "$TPROMPT" "$@" <<'PY'
import json, sys
want, bad = sys.argv[1], []
for path in sys.argv[2:]:
    raw = open(path, encoding="utf-8").read()
    ev = [l[6:] for l in raw.split("\n") if l.startswith("data: ")]
    args, order = {}, []
    try:
        for e in ev[:-1]:
            for c in json.loads(e)["choices"]:
                for tc in (c.get("delta") or {}).get("tool_calls") or []:
                    a = tc.get("function", {}).get("arguments", "")
                    args[tc["index"]] = args.get(tc["index"], "") + a
                    if a:
                        order.append(tc["index"])
        switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
        ok = (ev[-1] == "[DONE]" and sorted(args) == [0, 1] and switches >= 2 and
              all(json.loads(v)["text"] == want for v in args.values()))
    except (ValueError, IndexError, KeyError, TypeError):
        ok = False
    if not ok or "<PERSON_" in raw or "<CUSTOMER_" in raw or "<IBAN_" in raw:
        bad.append(path.rsplit("/", 1)[1])
print(" ".join(bad) or "none")
PY
}

for at in $SPLITS; do
	bb_post /v1/chat/completions "$(tbody 1 "{\"answer_as\": \"tool_calls_interleaved\", \"split_at\": $at}")" -N \
		>"$BB_DIR/ts-$at.txt"
done
bb_is "$(check "$BB_DIR"/ts-[0-9]*.txt)" none \
	"interleaved calls, every placeholder split at every byte: both calls restored exactly, valid JSON, [DONE] last"
for n in 7 23 61; do
	bb_post /v1/chat/completions "$(tbody 1 "{\"answer_as\": \"tool_calls_interleaved\", \"events\": $n}")" -N \
		>"$BB_DIR/tn-$n.txt"
done
bb_is "$(check "$BB_DIR"/tn-*.txt)" none \
	"interleaved calls in 14, 46 and 122 small events: both calls restored exactly"

bb_done
