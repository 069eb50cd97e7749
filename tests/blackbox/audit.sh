#!/usr/bin/env bash
# The audit log in the real gateway (real TLS, real SQLite files): every
# request gets a record with the policy's findings by type and count, the
# prompt text never reaches the database, its WAL or the logs, the signed
# log verifies with hafenctl after the traffic, /metrics and /readyz report
# the log, and a bad "audit" section is refused by hafen -t.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
CTL=$top_builddir/gateway/hafenctl
[ -x "$CTL" ] || bb_skip_all "no $CTL"
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
"$CTL" audit keygen --dir "$BB_DIR/keys" >/dev/null || { echo "Bail out! audit keygen failed"; exit 1; }
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
PACKS=$top_srcdir/policies/packs
DB=$BB_DIR/audit.db
CP=$BB_DIR/audit.cp
AUDIT="\"audit\": {\"database\": \"$DB\", \"checkpoints\": \"$CP\", \"signing_key\": \"$BB_DIR/keys/audit-signing.key\", \"hmac_key\": \"$BB_DIR/keys/audit-hmac.key\", \"durability\": \"batch\", \"checkpoint_every\": 3, \"client_address\": \"full\"}"
POLICY="\"policy\": {\"packs\": [\"$PACKS/gdpr-default.json\", \"$PACKS/secrets.json\"]}"
bb_start_hafen gw "{$AUDIT, $POLICY}" || { echo "Bail out! hafen did not start"; exit 1; }

# The canary: a name and an IBAN (pseudonymized) plus a word no detector
# knows, so it reaches the upstream, but never the audit files.
CANARY="Zebrafink$(openssl rand -hex 6)"
PROMPT="Frage von Erika Musterfrau zu DE89 3704 0044 0532 0130 00: $CANARY"
BODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "m-audit", "user": "alice@example.org", "messages": [{"role": "user", "content": sys.argv[1]}]}))' "$PROMPT")
bb_post /v1/chat/completions "$BODY" -H 'X-Request-Id: audit-json-1' >"$BB_DIR/c.json"
bb_is "$(bb_code)" 200 "chat with personal data: 200"
SBODY=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"model": "m-audit", "stream": True, "stream_options": {"include_usage": True}, "messages": [{"role": "user", "content": sys.argv[1]}], "mock": {"events": 10}}))' "$PROMPT")
bb_post /v1/chat/completions "$SBODY" -N -H 'X-Request-Id: audit-stream-1' -H 'X-Hafen-User: bob' >"$BB_DIR/s.txt"
bb_is "$(bb_code)" 200 "streamed chat: 200"
KBODY='{"model":"m-audit","messages":[{"role":"user","content":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----"}]}'
bb_post /v1/chat/completions "$KBODY" -H 'X-Request-Id: audit-block-1' >/dev/null
bb_is "$(bb_code)" 403 "blocked request: 403"
grep -q "$CANARY" "$up_RECORD"
bb_is "$?" 0 "the canary reached the upstream (it is no personal data)"
bb_ok "X-Hafen-User is not forwarded to the upstream" bb_not grep -qi 'x-hafen-user' "$up_RECORD"

curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" >"$BB_DIR/metrics.txt"
bb_ok "/metrics: audit counters and health" bash -c "grep -q '^hafen_audit_healthy 1' '$BB_DIR/metrics.txt' && grep -q '^hafen_audit_records_committed_total ' '$BB_DIR/metrics.txt'"
bb_is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$ADMIN_PORT/readyz")" 200 "/readyz: 200 with a healthy log"

# A reload that changes the audit section: accepted, with a warning that
# the open log keeps its settings until restart.
AUDIT2=${AUDIT/\"checkpoint_every\": 3/\"checkpoint_every\": 5}
bb_config "$HAFEN_CONFIG" "{$AUDIT2, $POLICY}"
kill -HUP "$HAFEN_PID"
for _ in $(seq 1 50); do grep -q 'configuration reloaded' "$HAFEN_LOG" && break; sleep 0.05; done
bb_ok "reload with a changed audit section: warned, takes effect at restart" grep -q 'audit" section changed' "$HAFEN_LOG"

# Canary check while the gateway runs (database, WAL, checkpoints, logs).
sleep 0.5
bb_ok "the canary is in no audit file (db, -wal, checkpoints) and no log while hafen runs" \
	bash -c "! grep -a -q -r '$CANARY' '$BB_DIR'/audit.* '$HAFEN_LOG'"
bb_stop_all
bb_ok "the canary is in no audit file after shutdown" bash -c "! grep -a -q -r -e '$CANARY' -e 'Musterfrau' '$BB_DIR'/audit.*"

"$CTL" audit verify --db "$DB" --checkpoints "$CP" --pubkey "$BB_DIR/keys/audit-signing.pub" >"$BB_DIR/verify.txt" 2>&1
bb_is "$?" 0 "hafenctl audit verify passes on the gateway's log ($(head -c 200 "$BB_DIR/verify.txt"))"
bb_audit_records "$DB" "$BB_DIR/recs.json"
bb_is "$(bb_json "$BB_DIR/recs.json" 'len(j)')" 3 "three records, one per request"
bb_ok "json record: key, tenant, purpose, endpoint, models, upstream, status, client address" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["api_key_id"] == "test" and r["tenant"] == "test" and r["purpose"] == "chat" and r["endpoint"] == "/v1/chat/completions" and r["model_requested"] == "m-audit" and r["model_served"] == "m-audit" and r["upstream_id"] == "engine" and r["status"] == 200 and r["client_addr"] == "127.0.0.1")(j["audit-json-1"])'
bb_ok "json record: findings by type and count, decision, rules, data class, policy and config hashes" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["findings"] == {"person": 1, "iban": 1} and r["decision"] == "pseudonymize" and "gdpr.pseudonymize-bank" in r["rule_ids"] and "pseudonymize" in r["actions"] and r["data_class"] == "confidential" and len(r["policy_hash"]) == 64 and len(r["config_hash"]) == 64)(j["audit-json-1"])'
bb_ok "json record: the user is a 64-hex pseudonym, usage recorded" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: len(r["subject"]) == 64 and "alice" not in r["subject"] and r["prompt_tokens"] > 0 and r["completion_tokens"] > 0)(j["audit-json-1"])'
# The pseudonym is HMAC-SHA-256 under the hmac_key file (64 hex digits).
hmac_of() {
	"$PYTHON3" -c 'import hmac, hashlib, sys; k = bytes.fromhex(open(sys.argv[1]).read().strip()); print(hmac.new(k, sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$BB_DIR/keys/audit-hmac.key" "$1"
}
bb_is "$(bb_json "$BB_DIR/recs.json" 'j["audit-json-1"]["subject"]')" "$(hmac_of alice@example.org)" "json record: subject is the HMAC of the body's user"
bb_is "$(bb_json "$BB_DIR/recs.json" 'j["audit-stream-1"]["subject"]')" "$(hmac_of bob)" "stream record: subject is the HMAC of X-Hafen-User"
bb_ok "stream record: usage from the usage chunk" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 200 and r["completion_tokens"] == 10)(j["audit-stream-1"])'
bb_ok "blocked record: 403, decision block, the rule id, the entity type, no upstream" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 403 and r["decision"] == "block" and "secrets.block-private-keys" in r["rule_ids"] and r["findings"].get("private_key") == 1 and r["upstream_id"] == "")(j["audit-block-1"])'

# A full database (a page quota): commits fail, the log turns unhealthy,
# requests get 503 before they reach the upstream, /readyz says 503.
"$CTL" audit keygen --dir "$BB_DIR/keys2" >/dev/null
AUDIT3="\"audit\": {\"database\": \"$BB_DIR/full.db\", \"checkpoints\": \"$BB_DIR/full.cp\", \"signing_key\": \"$BB_DIR/keys2/audit-signing.key\", \"durability\": \"batch\", \"max_pages\": 16}"
bb_start_mock up2 && UPSTREAM_URL=http://127.0.0.1:$up2_PORT
if bb_start_hafen full "{$AUDIT3}"; then
	got503=0
	for i in $(seq 1 400); do
		bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"padding padding padding padding padding padding"}]}' >/dev/null
		[ "$(bb_code)" = 503 ] && { got503=1; break; }
	done
	bb_is "$got503" 1 "full audit database: requests get 503"
	bb_ok "full audit database: the 503 is an OpenAI error of type audit_unavailable" bb_json_true "$BB_DIR/body" 'j["error"]["type"] == "audit_unavailable"'
	# Each refusal is recorded too, and a small group may still fit in the
	# last page (the log is healthy again while it does): go on until the
	# database is packed and every commit fails.
	for i in $(seq 1 40); do
		ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$ADMIN_PORT/readyz")
		curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" >"$BB_DIR/metrics2.txt"
		[ "$ready" = 503 ] && grep -q '^hafen_audit_healthy 0' "$BB_DIR/metrics2.txt" && break
		bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"x"}]}' >/dev/null
		sleep 0.2
	done
	bb_is "$ready" 503 "full audit database: /readyz 503"
	bb_ok "full audit database: /metrics shows the failure" bash -c "grep -q '^hafen_audit_healthy 0' '$BB_DIR/metrics2.txt' && grep -q '^hafen_audit_records_failed_total [1-9]' '$BB_DIR/metrics2.txt'"
else
	bb_result 0 "hafen with a page quota on the audit database started"
fi

# Relative audit paths are taken beside the config file, whatever the
# working folder (hafen and hafenctl -c alike).
REL="\"audit\": {\"database\": \"rel-audit.db\", \"checkpoints\": \"rel-audit.cp\", \"signing_key\": \"keys/audit-signing.key\", \"hmac_key\": \"keys/audit-hmac.key\", \"durability\": \"batch\"}"
mkdir -p "$BB_DIR/elsewhere"
OLDPWD_AUDIT=$PWD
cd "$BB_DIR/elsewhere" || exit 1
if bb_start_hafen rel "{$REL}"; then
	bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"hi"}]}' -H 'X-Request-Id: rel-1' >/dev/null
	bb_is "$(bb_code)" 200 "relative audit paths: 200"
	# The server builds no tree: the end user and the answer's model and
	# usage come from the bytes (json_span_members); an escaped value is decoded,
	# an escaped key goes to jansson. Each must give the same pseudonym.
	bb_post /v1/chat/completions '{"model":"m-rel","user":"carol","messages":[{"role":"user","content":"hi"}]}' -H 'X-Request-Id: rel-2' >/dev/null
	c2=$(bb_code)
	bb_post /v1/chat/completions '{"model":"m-rel","user":"car\u006fl","messages":[{"role":"user","content":"hi"}]}' -H 'X-Request-Id: rel-3' >/dev/null
	c3=$(bb_code)
	bb_post /v1/chat/completions '{"model":"m-rel","\u0075ser":"carol","messages":[{"role":"user","content":"hi"}]}' -H 'X-Request-Id: rel-4' >/dev/null
	bb_is "$c2 $c3 $(bb_code)" "200 200 200" "no policy: requests with a user (plain, escaped value, escaped key): 200"
	kill -TERM "$HAFEN_PID"
	wait "$HAFEN_PID"
	bb_ok "relative audit paths: database and checkpoints beside the config file" test -s "$BB_DIR/rel-audit.db" -a -s "$BB_DIR/rel-audit.cp"
	bb_is "$(ls -A "$BB_DIR/elsewhere" | wc -l)" 0 "relative audit paths: nothing in the working folder"
	"$CTL" audit verify -c "$BB_DIR/rel.json" --pubkey "$BB_DIR/keys/audit-signing.pub" >"$BB_DIR/relverify.txt" 2>&1
	bb_is "$?" 0 "hafenctl audit verify -c from another folder finds the same files"
	bb_ok "the records are in that database" grep -q '^ok: 4 records' "$BB_DIR/relverify.txt"
	"$CTL" audit export --db "$BB_DIR/rel-audit.db" --format jsonl >"$BB_DIR/rel.jsonl" 2>/dev/null
	"$PYTHON3" -c 'import json, sys; print(json.dumps({r["request_id"]: r for r in map(json.loads, open(sys.argv[1]))}))' \
		"$BB_DIR/rel.jsonl" >"$BB_DIR/rel-recs.json"
	carol=$(hmac_of carol)
	bb_ok "no policy: subject is the HMAC of the body's user, escaped value or key alike" bb_json_true "$BB_DIR/rel-recs.json" \
		"all(j[i]['subject'] == '$carol' for i in ('rel-2', 'rel-3', 'rel-4')) and j['rel-1']['subject'] == ''"
	bb_ok "no policy: model requested and served, usage from the answer's bytes" bb_json_true "$BB_DIR/rel-recs.json" \
		"all(j[i]['model_requested'] == 'm-rel' and j[i]['model_served'] == 'm-rel' and j[i]['prompt_tokens'] > 0 and j[i]['completion_tokens'] > 0 for i in ('rel-2', 'rel-3', 'rel-4'))"
else
	bb_result 0 "hafen with relative audit paths started"
fi
cd "$OLDPWD_AUDIT" || exit 1

# A bad audit section: hafen -t names the key.
bb_config "$BB_DIR/bad.json" '{"audit": {"database": "x.db", "checkpoints": "x.cp", "signing_key": "k", "durability": "sometimes"}}'
"$HAFEN" -t -c "$BB_DIR/bad.json" >"$BB_DIR/t.out" 2>&1
bb_is "$?" 1 "hafen -t: a bad audit section fails the check"
bb_ok "hafen -t: the error names audit.durability" grep -q 'audit.durability: expected one of request, batch' "$BB_DIR/t.out"

bb_done
