#!/usr/bin/env bash
# Data-class routing through the real gateway: three mock engines stand for
# an on-premises pool, an EU cloud (up to confidential) and a third-country
# service (up to internal, Art. 46 safeguards). The class comes from the
# policy packs (an IBAN is confidential, health data restricted) and from
# the client's X-Hafen-Data-Class header, which may raise it but never lower
# it. The mocks' own counters and --record files show where each request
# went: restricted data never reaches the eu or third-country mock, and
# when its only eligible pool is down the request is refused, not sent
# elsewhere.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock local || { echo "Bail out! mock upstream did not start"; exit 1; }
bb_start_mock eu || { echo "Bail out! mock upstream did not start"; exit 1; }
bb_start_mock us || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$local_PORT
PACKS=$top_srcdir/policies/packs
CFG=$(cat <<JSON
{"policy": {"packs": ["$PACKS/gdpr-default.json", "$PACKS/special-categories.json"]},
 "upstreams": [
  {"name": "local", "url": "http://127.0.0.1:$local_PORT", "connect_timeout_ms": 500},
  {"name": "eu", "url": "http://127.0.0.1:$eu_PORT", "location": "eu", "max_data_class": "confidential"},
  {"name": "us", "url": "http://127.0.0.1:$us_PORT", "location": "third_country",
   "transfer_basis": "art46_safeguards", "max_data_class": "internal",
   "auth_header": "X-Api-Key: us-secret-key"}],
 "routes": [
  {"model": "chat-default", "targets": [{"upstream": "us", "model": "gpt-x"},
     {"upstream": "eu", "model": "mistral"}, {"upstream": "local", "model": "qwen"}]},
  {"model": "local-only", "purposes": ["chat"], "targets": [{"upstream": "local"}]},
  {"model": "hr-notes", "purposes": ["hr"], "targets": [{"upstream": "local"}]}]}
JSON
)
bb_start_hafen gw "$CFG" || { echo "Bail out! hafen did not start"; exit 1; }

# ask PROMPT [curl args]: a chat request for chat-default.
ask() {
	local prompt=$1
	shift
	local body
	body=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "chat-default", "messages": [{"role": "user", "content": sys.argv[1]}]}))' "$prompt")
	bb_post /v1/chat/completions "$body" "$@" >"$BB_DIR/answer.json"
}

# chat requests each mock served (its /__mock/stats)
counts() {
	echo "$(bb_mock_stat local chat_completions) $(bb_mock_stat eu chat_completions) $(bb_mock_stat us chat_completions)"
}

# last_field MOCK EXPR: EXPR over the last chat request MOCK recorded (as `j`).
last_field() {
	local rec="${1}_RECORD"
	grep '"path":"/v1/chat/completions"' "${!rec}" | tail -n 1 >"$BB_DIR/last.json"
	bb_json "$BB_DIR/last.json" "$2"
}

PUBLIC="Hallo, wie spät ist es in Hamburg?"
IBAN_PROMPT="Bitte überweise an Max Mustermann das Geld auf DE89 3704 0044 0532 0130 00 heute."
HEALTH="Der Patient hat Diabetes und HIV."

# ---- public: the first pool in the route, the third-country one ----
ask "$PUBLIC"
bb_is "$(bb_code)" 200 "public prompt: 200"
bb_is "$(counts)" "0 0 1" "public prompt: served by the third-country pool (first in the route)"
bb_is "$(last_field us 'json.loads(j["body"])["model"]')" gpt-x "the alias became the pool's model name"
bb_is "$(last_field us 'j["headers"].get("x-api-key", "")')" us-secret-key "the pool's auth header went upstream"
bb_is "$(bb_json "$BB_DIR/answer.json" 'j["model"]')" gpt-x "the answer's model is what the upstream sent (documented)"
bb_ok "the auth header is not in hafen's log" bb_not grep -q us-secret-key "$HAFEN_LOG"

# ---- the header raises the class ----
ask "$PUBLIC" -H "X-Hafen-Data-Class: internal"
bb_is "$(counts)" "0 0 2" "header internal: third country still allowed (its ceiling)"
ask "$PUBLIC" -H "X-Hafen-Data-Class: confidential"
bb_is "$(bb_code)" 200 "header confidential: 200"
bb_is "$(counts)" "0 1 2" "header confidential: the eu pool, not the third-country one"
bb_is "$(last_field eu 'json.loads(j["body"])["model"]')" mistral "eu gets its own model name"
bb_ok "the class header does not go upstream" bb_not grep -qi x-hafen-data-class "$eu_RECORD"
ask "$PUBLIC" -H "X-Hafen-Data-Class: restricted"
bb_is "$(counts)" "1 1 2" "header restricted: on the premises"
ask "$PUBLIC" -H "X-Hafen-Data-Class: secret"
bb_is "$(bb_code)" 400 "an unknown class: 400"
bb_ok "... an OpenAI error with code invalid_data_class" bb_json_true "$BB_DIR/answer.json" 'j["error"]["code"] == "invalid_data_class"'
bb_is "$(counts)" "1 1 2" "... and nothing was sent"

# ---- the policy's class ----
ask "$IBAN_PROMPT"
bb_is "$(bb_code)" 200 "IBAN (confidential by policy): 200"
bb_is "$(counts)" "1 2 2" "IBAN: the eu pool"
bb_ok "IBAN: pseudonymized before it left" bb_not grep -q "DE89 3704" "$eu_RECORD"
ask "$HEALTH"
bb_is "$(bb_code)" 200 "health data (restricted by policy): 200"
bb_is "$(counts)" "2 2 2" "health data: on the premises"
ask "$HEALTH" -H "X-Hafen-Data-Class: public"
bb_is "$(counts)" "3 2 2" "a lower header class does not lower the policy's class"
bb_ok "restricted content never reached the eu or third-country mock" \
	bb_not grep -qi -e diabetes -e hiv "$eu_RECORD" "$us_RECORD"

# ---- aliases ----
bb_post /v1/chat/completions '{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}' >"$BB_DIR/nf.json"
bb_is "$(bb_code)" 404 "an unknown alias: 404"
bb_ok "... code model_not_found, OpenAI shape" bb_json_true "$BB_DIR/nf.json" \
	'j["error"]["code"] == "model_not_found" and j["error"]["type"] == "not_found_error" and "gpt-4" in j["error"]["message"]'
bb_post /v1/chat/completions '{"model":"hr-notes","messages":[{"role":"user","content":"x"}]}' >/dev/null
bb_is "$(bb_code)" 404 "an alias for another purpose: 404"
bb_curl "$(bb_url /v1/models)" >"$BB_DIR/models.json"
bb_is "$(bb_code)" 200 "GET /v1/models: 200, answered by hafen"
bb_is "$(bb_json "$BB_DIR/models.json" 'sorted(m["id"] for m in j["data"])')" '["chat-default", "local-only"]' \
	"GET /v1/models: the aliases this key's purpose may use"
bb_ok "GET /v1/models: OpenAI list shape" bb_json_true "$BB_DIR/models.json" \
	'j["object"] == "list" and all(m["object"] == "model" for m in j["data"])'
bb_is "$(bb_mock_stat local models)$(bb_mock_stat eu models)$(bb_mock_stat us models)" 000 "... no mock was asked"

# ---- restricted with its only pool down: refused, never sent elsewhere ----
kill -KILL "$local_PID"
wait "$local_PID" 2>/dev/null
codes=""
for i in 1 2 3 4 5; do
	ask "$HEALTH"
	codes="$codes $(bb_code)"
done
bb_is "$codes" " 502 502 502 503 503" "local down: unreachable (502) until the breaker opens, then 503"
bb_ok "... the 503 says why (no_healthy_upstream, the class)" bb_json_true "$BB_DIR/answer.json" \
	'j["error"]["code"] == "no_healthy_upstream" and "restricted" in j["error"]["message"]'
bb_is "$(bb_mock_stat eu chat_completions) $(bb_mock_stat us chat_completions)" "2 2" "... and nothing went to eu or the third country"
ask "$PUBLIC"
bb_is "$(bb_code)" 200 "a public prompt still works (its pools are up)"

# ---- model discovery (no routes): a pool lists its models itself ----
bb_start_mock disc --model disc-model || bb_diag "mock disc did not start"
bb_start_hafen legacy "{\"upstreams\": [{\"name\": \"eu\", \"url\": \"http://127.0.0.1:$eu_PORT\", \"models\": [\"eu-model\"]},
  {\"name\": \"disc\", \"url\": \"http://127.0.0.1:$disc_PORT\", \"discover_models\": true}], \"routes\": []}" ||
	bb_diag "hafen (legacy) did not start"
code=""
for i in $(seq 1 50); do
	bb_post /v1/chat/completions '{"model":"disc-model","messages":[{"role":"user","content":"x"}]}' >/dev/null
	code=$(bb_code)
	[ "$code" = 200 ] && break
	sleep 0.1
done
bb_is "$code" 200 "discovery: a model the pool listed in GET /v1/models is served"
bb_ok "... by that pool, which was asked for its list" test "$(bb_mock_stat disc chat_completions)" = 1 -a "$(bb_mock_stat disc models)" -ge 1
bb_ok "... and hafen logged what it found" grep -q "upstream disc: 1 model discovered" "$HAFEN_LOG"
bb_post /v1/chat/completions '{"model":"nobody-has-it","messages":[{"role":"user","content":"x"}]}' >/dev/null
bb_is "$(bb_code)" 404 "discovery: a model no pool lists or declares: 404"

# ---- routes to a discovering pool: a target without a model accepts what
# the pool listed, though its "models" does not declare it ----
bb_start_hafen routedisc "{\"upstreams\": [{\"name\": \"disc\", \"url\": \"http://127.0.0.1:$disc_PORT\",
   \"discover_models\": true, \"models\": [\"declared-only\"]}],
 \"routes\": [{\"model\": \"disc-model\", \"targets\": [{\"upstream\": \"disc\"}]},
  {\"model\": \"not-listed\", \"targets\": [{\"upstream\": \"disc\"}]}]}" ||
	bb_diag "hafen (routedisc) did not start"
disc_before=$(bb_mock_stat disc chat_completions)
code=""
for i in $(seq 1 50); do
	bb_post /v1/chat/completions '{"model":"disc-model","messages":[{"role":"user","content":"x"}]}' >/dev/null
	code=$(bb_code)
	[ "$code" = 200 ] && break
	sleep 0.1
done
bb_is "$code" 200 "route to a discovering pool: an alias it listed (not in its \"models\") is served"
bb_is "$(bb_mock_stat disc chat_completions)" "$((disc_before + 1))" "... by that pool"
bb_post /v1/chat/completions '{"model":"not-listed","messages":[{"role":"user","content":"x"}]}' >"$BB_DIR/nl.json"
bb_is "$(bb_code)" 404 "route to a discovering pool: an alias it did not list: 404"
bb_ok "... code model_not_found" bb_json_true "$BB_DIR/nl.json" 'j["error"]["code"] == "model_not_found"'
bb_is "$(bb_mock_stat disc chat_completions)" "$((disc_before + 1))" "... the pool got no request for it"

# ---- no policy, no audit: the body is validated without a tree, and the
# alias is still replaced by the pool's model name ----
bb_start_hafen plain "{\"upstreams\": [{\"name\": \"plainpool\", \"url\": \"http://127.0.0.1:$eu_PORT\"}],
  \"routes\": [{\"model\": \"plain-alias\", \"targets\": [{\"upstream\": \"plainpool\", \"model\": \"qwen-local\"}]}]}" ||
	bb_diag "hafen (plain) did not start"
bb_post /v1/chat/completions '{"model":"plain-alias","messages":[{"role":"user","content":"hallo"}],"temperature":0.5}' >/dev/null
bb_is "$(bb_code)" 200 "without a policy: an alias is served"
bb_is "$(last_field eu 'json.loads(j["body"])["model"]')" qwen-local "... and the pool got its own model name"
bb_is "$(last_field eu '"%s|%s" % (json.loads(j["body"])["temperature"], json.loads(j["body"])["messages"][0]["content"])')" "0.5|hallo" \
	"... the rest of the body unchanged"
# ---- the audit record names class, pool and location of every request,
# also without a policy (the class from the header or the key's floor),
# and the reason of a routing refusal (AI Act Art. 12, GDPR Art. 30) ----
CTL=$top_builddir/gateway/hafenctl
bb_start_mock onprem || bb_diag "mock onprem did not start"
"$CTL" audit keygen --dir "$BB_DIR/akeys" >/dev/null || bb_diag "audit keygen failed"
bb_new_key FLOORKEY
ADB=$BB_DIR/route-audit.db
bb_start_hafen audited "{\"audit\": {\"database\": \"$ADB\", \"checkpoints\": \"$BB_DIR/route-audit.cp\",
   \"signing_key\": \"$BB_DIR/akeys/audit-signing.key\", \"hmac_key\": \"$BB_DIR/akeys/audit-hmac.key\", \"durability\": \"batch\"},
 \"keys\": [{\"name\": \"test\", \"tenant\": \"test\", \"purpose\": \"chat\", \"sha256\": \"$KEY_SHA256\"},
   {\"name\": \"floor\", \"tenant\": \"test\", \"purpose\": \"chat\", \"sha256\": \"$FLOORKEY_SHA256\", \"class_floor\": \"restricted\"}],
 \"upstreams\": [
  {\"name\": \"local\", \"url\": \"http://127.0.0.1:$onprem_PORT\"},
  {\"name\": \"eu\", \"url\": \"http://127.0.0.1:$eu_PORT\", \"location\": \"eu\", \"max_data_class\": \"confidential\"},
  {\"name\": \"us\", \"url\": \"http://127.0.0.1:$us_PORT\", \"location\": \"third_country\",
   \"transfer_basis\": \"art46_safeguards\", \"max_data_class\": \"internal\"}],
 \"routes\": [
  {\"model\": \"chat-default\", \"targets\": [{\"upstream\": \"us\"}, {\"upstream\": \"eu\"}, {\"upstream\": \"local\"}]},
  {\"model\": \"eu-only\", \"targets\": [{\"upstream\": \"eu\"}]}]}" || bb_diag "hafen (audited) did not start"
CHAT='{"model":"chat-default","messages":[{"role":"user","content":"hallo"}]}'
bb_post /v1/chat/completions "$CHAT" -H 'X-Request-Id: ra-public' >/dev/null
bb_is "$(bb_code)" 200 "audited, public: 200"
bb_post /v1/chat/completions "$CHAT" -H 'X-Request-Id: ra-header' -H 'X-Hafen-Data-Class: confidential' >/dev/null
bb_is "$(bb_code)" 200 "audited, header confidential: 200"
KEY=$FLOORKEY bb_post /v1/chat/completions "$CHAT" -H 'X-Request-Id: ra-floor' >/dev/null
bb_is "$(bb_code)" 200 "audited, a key with a restricted floor: 200"
bb_post /v1/chat/completions '{"model":"eu-only","messages":[{"role":"user","content":"x"}]}' \
	-H 'X-Request-Id: ra-refused' -H 'X-Hafen-Data-Class: restricted' >/dev/null
bb_is "$(bb_code)" 503 "audited, restricted for an eu-only alias: 503"
bb_post /v1/chat/completions '{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}' -H 'X-Request-Id: ra-unknown' >/dev/null
bb_is "$(bb_code)" 404 "audited, unknown alias: 404"
bb_curl -H 'X-Request-Id: ra-models' -H 'X-Hafen-Data-Class: internal' "$(bb_url /v1/models)" >/dev/null
bb_is "$(bb_code)" 200 "audited, GET /v1/models (answered by hafen): 200"
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null
"$CTL" audit export --db "$ADB" --format jsonl >"$BB_DIR/ra.jsonl" 2>"$BB_DIR/ra.err"
bb_is "$?" 0 "hafenctl audit export of the routing log"
"$PYTHON3" - "$BB_DIR/ra.jsonl" >"$BB_DIR/ra.txt" <<'PY'
import json, sys
recs = {}
for l in open(sys.argv[1]):
	if l.strip():
		r = json.loads(l)
		recs[r.get("request_id")] = r
for rid in ("ra-public", "ra-header", "ra-floor", "ra-refused", "ra-unknown", "ra-models"):
	r = recs.get(rid, {})
	print(rid, "|".join(str(r.get(f) or "-") for f in ("data_class", "upstream_id", "upstream_location", "status", "error_class")))
PY
bb_is "$(sed -n 1p "$BB_DIR/ra.txt")" "ra-public public|us|third_country|200|-" "record: public, the third-country pool and its location"
bb_is "$(sed -n 2p "$BB_DIR/ra.txt")" "ra-header confidential|eu|eu|200|-" "record: the header's class without a policy, the eu pool"
bb_is "$(sed -n 3p "$BB_DIR/ra.txt")" "ra-floor restricted|local|on_prem|200|-" "record: the key's floor, on the premises"
bb_is "$(sed -n 4p "$BB_DIR/ra.txt")" "ra-refused restricted|-|-|503|no_eligible_upstream" "record: a routing refusal with its reason, no pool"
bb_is "$(sed -n 5p "$BB_DIR/ra.txt")" "ra-unknown public|-|-|404|model_not_found" "record: an unknown alias, refused by the router"
bb_is "$(sed -n 6p "$BB_DIR/ra.txt")" "ra-models internal|-|-|200|-" "record: a request without a body has its class too"
bb_done
