#!/usr/bin/env bash
# Black-box: usage accounting. Requests under two keys (two tenants, two
# purposes, two models; JSON and streamed answers, one refused) are summed
# by the gateway and written to the usage table off the event loop;
# hafenctl usage reports them by key, tenant, purpose, model and upstream
# as a table, JSON and CSV, within a time range.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
CTL=$top_builddir/gateway/hafenctl
[ -x "$CTL" ] || bb_skip_all "no $CTL"
bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_new_key KEY2
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
STORE=$BB_DIR/keys.db
USAGE=$BB_DIR/usage.db
export HAFEN_USAGE_FLUSH_MS=200
P='"description": "d", "lawful_basis": "f", "data_classes": ["public", "internal"], "retention_days": 30'
bb_start_hafen gw "{\"key_store\": \"$STORE\", \"usage_store\": \"$USAGE\", \"keys\": [
	{\"name\": \"test\", \"tenant\": \"sales\", \"purpose\": \"chat\", \"sha256\": \"$KEY_SHA256\"},
	{\"name\": \"second\", \"tenant\": \"hr\", \"purpose\": \"summaries\", \"sha256\": \"$KEY2_SHA256\", \"rpm\": 2}],
	\"purposes\": {\"chat\": {$P}, \"summaries\": {$P}}}" ||
	{ echo "Bail out! hafen did not start"; exit 1; }
FROM=$(date -u +%Y-%m-%dT%H:%M)

chat() { # chat KEY MODEL [stream]
	local body="{\"model\":\"$2\",\"messages\":[{\"role\":\"user\",\"content\":\"one two three four\"}]}"
	[ "${3:-}" = stream ] && body="{\"model\":\"$2\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"one two three four\"}]}"
	KEY=$1 bb_post /v1/chat/completions "$body" -N >/dev/null
}
for _ in 1 2 3; do chat "$KEY" model-a; done
chat "$KEY" model-b stream
chat "$KEY2" model-a
chat "$KEY2" model-a
chat "$KEY2" model-a # the third in a minute: 429 (rpm 2), counted as an error
bb_is "$(bb_code)" 429 "the refused request got 429"
# refused by the purpose (its classes stop at internal): 403 after the body was read
KEY=$KEY bb_post /v1/chat/completions '{"model":"model-c","messages":[{"role":"user","content":"one two three four"}]}' \
	-H 'X-Hafen-Data-Class: confidential' >/dev/null
bb_is "$(bb_code)" 403 "a class the purpose forbids got 403"

# the writer flushes every 200 ms here: wait until all 8 are in
report() { "$CTL" usage --store "$USAGE" "$@"; }
for _ in $(seq 1 50); do
	report --by tenant --format json >"$BB_DIR/t.json" 2>/dev/null
	bb_json_true "$BB_DIR/t.json" 'sum(r["requests"] for r in j) == 8' && break
	sleep 0.1
done
bb_ok "by tenant: sales 5 requests with 1 error, hr 3 with 1 error" bb_json_true "$BB_DIR/t.json" \
	'{r["tenant"]: (r["requests"], r["errors"]) for r in j} == {"sales": (5, 1), "hr": (3, 1)}'
report --by model --format json >"$BB_DIR/m.json"
# (the 429 was turned away before its body was read: no model, no upstream;
# the 403 has its model but no upstream; neither used tokens)
bb_ok "by model: model-a 5, model-b 1, model-c 1 (403), the 429 without a model" bb_json_true "$BB_DIR/m.json" \
	'{r["model"]: r["requests"] for r in j} == {"model-a": 5, "model-b": 1, "model-c": 1, "": 1}'
bb_ok "refused requests count no tokens, not even an estimate" bb_json_true "$BB_DIR/m.json" \
	'all((r["prompt_tokens"], r["completion_tokens"], r["estimated"], r["errors"]) == (0, 0, 0, 1) for r in j if r["model"] in ("", "model-c"))'
bb_ok "tokens from the upstream's usage, JSON and streamed answers alike (4 prompt words each)" \
	bb_json_true "$BB_DIR/m.json" '{r["model"]: (r["prompt_tokens"], r["estimated"]) for r in j if r["model"] in ("model-a", "model-b")} == {"model-a": (20, 0), "model-b": (4, 0)} and all(r["completion_tokens"] > 0 for r in j if r["model"] in ("model-a", "model-b"))'
report --by purpose --format json >"$BB_DIR/p.json"
bb_ok "by purpose: chat 5, summaries 3" bb_json_true "$BB_DIR/p.json" \
	'{r["purpose"]: r["requests"] for r in j} == {"chat": 5, "summaries": 3}'
report --by upstream --format csv >"$BB_DIR/u.csv"
bb_ok "by upstream, CSV: a header, the engine with 6 requests, the two refused ones with none" bash -c \
	"head -1 '$BB_DIR/u.csv' | grep -q '^upstream,requests,errors,prompt_tokens' && grep -q '^engine,6,0,' '$BB_DIR/u.csv' && grep -q '^,2,2,0,' '$BB_DIR/u.csv'"
report --by key >"$BB_DIR/k.txt"
bb_ok "by key, table: test 5 and second 3" bash -c \
	"grep -Eq '^test +5 +1 ' '$BB_DIR/k.txt' && grep -Eq '^second +3 +1 ' '$BB_DIR/k.txt'"
report --by key --from 2000-01-01 --to 2000-01-02 --format json >"$BB_DIR/old.json"
bb_ok "a range before the traffic is empty" bb_json_true "$BB_DIR/old.json" 'j == []'
report --by key --from "$FROM" --format json >"$BB_DIR/now.json"
bb_ok "--from the minute the test started: all 8" bb_json_true "$BB_DIR/now.json" 'sum(r["requests"] for r in j) == 8'
"$CTL" usage --config "$HAFEN_CONFIG" --by tenant --format json >"$BB_DIR/cfg.json"
bb_ok "--config finds the usage_store" bb_json_true "$BB_DIR/cfg.json" 'sum(r["requests"] for r in j) == 8'
report --by nothing >/dev/null 2>&1
bb_is "$?" 2 "an unknown --by is a usage error"
bb_ok "no prompt text in the usage file" bash -c "! cat '$USAGE'* | grep -aq 'three four'"

bb_done
