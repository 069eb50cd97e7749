#!/usr/bin/env bash
# The AI Act pack in the real gateway (real TLS, real SQLite audit log, the
# mock upstream as the engine), next to the three other shipped packs: an
# Art. 5(1)(f) request (webcam frames of call-centre agents, mood) gets 403
# naming the rule id and the article and never reaches the upstream; its
# lawful look-alike (text sentiment of a customer e-mail) passes; an
# Annex III point 4 request is refused until a site file lowers the rule to
# flag (reload), and the audit records list the rule ids and decisions.
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
AUDIT="\"audit\": {\"database\": \"$DB\", \"checkpoints\": \"$BB_DIR/audit.cp\", \"signing_key\": \"$BB_DIR/keys/audit-signing.key\", \"durability\": \"batch\"}"
ALL_PACKS="\"$PACKS/gdpr-default.json\", \"$PACKS/secrets.json\", \"$PACKS/special-categories.json\", \"$PACKS/ai-act.json\""
bb_start_hafen gw "{$AUDIT, \"policy\": {\"packs\": [$ALL_PACKS]}}" || { echo "Bail out! hafen did not start"; exit 1; }

"$CTL" policy lint "$PACKS/gdpr-default.json" "$PACKS/secrets.json" "$PACKS/special-categories.json" \
	"$PACKS/ai-act.json" >"$BB_DIR/lint.txt" 2>&1
bb_is "$?" 0 "hafenctl policy lint passes the four packs together"

upstream_count() { if [ -f "$up_RECORD" ]; then wc -l <"$up_RECORD"; else echo 0; fi; }

# ---- Art. 5(1)(f): refused, 403 with rule id and article, nothing sent ----
n0=$(upstream_count)
FBODY='{"model": "m", "messages": [{"role": "system", "content": "You are an HR analytics assistant."}, {"role": "user", "content": [{"type": "text", "text": "Analyse the facial expressions in these webcam frames of our call-centre agents and rate their mood."}, {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg"}}]}]}'
bb_post /v1/chat/completions "$FBODY" -H 'X-Request-Id: aiact-f-1' >"$BB_DIR/f.json"
bb_is "$(bb_code)" 403 "Art. 5(1)(f) request: 403"
bb_ok "Art. 5(1)(f) request: policy_violation naming aiact-5-1-f and AI Act Art. 5(1)(f)" bb_json_true "$BB_DIR/f.json" \
	'j["error"]["type"] == "policy_violation" and "aiact-5-1-f" in j["error"]["message"] and "AI Act Art. 5(1)(f)" in j["error"]["message"]'
bb_ok "Art. 5(1)(f) request: the refusal quotes no prompt text" bb_not grep -q -i -e 'webcam' -e 'mood' "$BB_DIR/f.json"
bb_is "$(upstream_count)" "$n0" "Art. 5(1)(f) request: nothing reached the upstream"

# ---- the lawful look-alike passes ----
LBODY='{"model": "m", "messages": [{"role": "user", "content": "Classify the sentiment of this customer e-mail: the delivery was late again and I am really annoyed."}]}'
bb_post /v1/chat/completions "$LBODY" -H 'X-Request-Id: aiact-lawful-1' >"$BB_DIR/l.json"
bb_is "$(bb_code)" 200 "text sentiment of a customer e-mail: 200"

# ---- Annex III point 4: refused by default ----
ABODY='{"model": "m", "messages": [{"role": "user", "content": "Here are the CVs of the five applicants for the accountant job. Rank them and tell me which two to reject."}]}'
bb_post /v1/chat/completions "$ABODY" -H 'X-Request-Id: aiact-annex-1' >"$BB_DIR/a.json"
bb_is "$(bb_code)" 403 "Annex III point 4 request: 403 by default"
bb_ok "Annex III point 4 request: names aiact-annex3-4 and Annex III point 4" bb_json_true "$BB_DIR/a.json" \
	'"aiact-annex3-4" in j["error"]["message"] and "Annex III point 4" in j["error"]["message"]'

# ---- a site file lowers aiact-annex3-4 to flag (oversight override) ----
cat >"$BB_DIR/site.json" <<'JSON'
{"name": "site", "version": 1, "rules": [],
 "overrides": [{"rule": "aiact-annex3-4", "action": "flag",
                "description": "HR reviews every flagged request (AI Act Art. 14)"}]}
JSON
bb_config "$HAFEN_CONFIG" "{$AUDIT, \"policy\": {\"packs\": [$ALL_PACKS, \"$BB_DIR/site.json\"]}}"
kill -HUP "$HAFEN_PID"
for _ in $(seq 1 100); do grep -q 'configuration reloaded' "$HAFEN_LOG" && break; sleep 0.05; done
bb_ok "reload with the site override" grep -q 'configuration reloaded' "$HAFEN_LOG"
n1=$(upstream_count)
bb_post /v1/chat/completions "$ABODY" -H 'X-Request-Id: aiact-annex-2' >"$BB_DIR/a2.json"
bb_is "$(bb_code)" 200 "Annex III point 4 request with the override: 200"
bb_is "$(upstream_count)" "$((n1 + 1))" "Annex III point 4 request with the override: forwarded"
bb_post /v1/chat/completions "$FBODY" -H 'X-Request-Id: aiact-f-2' >/dev/null
bb_is "$(bb_code)" 403 "the override leaves Art. 5(1)(f) blocked"

# ---- the audit log ----
bb_stop_all
bb_audit_records "$DB" "$BB_DIR/recs.json"
bb_ok "5(1)(f) record: 403, decision block, rule aiact-5-1-f, finding type aiact_5_1_f, no upstream" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 403 and r["decision"] == "block" and "aiact-5-1-f" in r["rule_ids"] and r["findings"].get("aiact_5_1_f") == 1 and r["upstream_id"] == "")(j["aiact-f-1"])'
bb_ok "look-alike record: 200, no AI Act rule" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 200 and not any(x.startswith("aiact") for x in r["rule_ids"]))(j["aiact-lawful-1"])'
bb_ok "Annex III record by default: 403, block, aiact-annex3-4" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 403 and r["decision"] == "block" and "aiact-annex3-4" in r["rule_ids"])(j["aiact-annex-1"])'
bb_ok "Annex III record with the override: 200, decision flag, aiact-annex3-4 fired (the override is visible)" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 200 and r["decision"] == "flag" and "aiact-annex3-4" in r["rule_ids"] and r["upstream_id"] == "engine")(j["aiact-annex-2"])'
bb_ok "no prompt text in the audit database" bb_not grep -a -q -i -e 'webcam' -e 'applicants' "$DB"
bb_done
