#!/usr/bin/env bash
# The Annex III point 4 rule and the purpose registry in the real gateway
# (real TLS, real SQLite audit log, the mock upstream as the engine), all
# four AI Act / GDPR packs loaded. The same "rank these applicants" request:
#  - under a non-HR purpose: 403 by aiact-annex3-4 (blocked by default);
#  - under an HR purpose in high-risk mode with its preconditions: 200, it is
#    that purpose's legitimate use, audited with decision flag and the rule id
#    (so hafenctl report aiact counts it as flagged);
#  - under an HR purpose whose high-risk mode is off: 403 from the purpose
#    gate (high_risk_purpose_disabled), not from the content rule.
# Art. 5 stays blocked under the HR purpose.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
CTL=$top_builddir/gateway/hafenctl
[ -x "$CTL" ] || bb_skip_all "no $CTL"
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
bb_new_key HRON
bb_new_key HROFF
"$CTL" audit keygen --dir "$BB_DIR/keys" >/dev/null || { echo "Bail out! audit keygen failed"; exit 1; }
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
PACKS=$top_srcdir/policies/packs
DB=$BB_DIR/audit.db
AUDIT="\"audit\": {\"database\": \"$DB\", \"checkpoints\": \"$BB_DIR/audit.cp\", \"signing_key\": \"$BB_DIR/keys/audit-signing.key\", \"durability\": \"batch\"}"
POLICY="\"policy\": {\"packs\": [\"$PACKS/gdpr-default.json\", \"$PACKS/secrets.json\", \"$PACKS/special-categories.json\", \"$PACKS/ai-act.json\"]}"
KEYS="\"keys\": [{\"name\": \"chat\", \"tenant\": \"t1\", \"purpose\": \"chat\", \"sha256\": \"$KEY_SHA256\"},
	{\"name\": \"hr-on\", \"tenant\": \"hr\", \"purpose\": \"hr-screening\", \"sha256\": \"$HRON_SHA256\"},
	{\"name\": \"hr-off\", \"tenant\": \"hr\", \"purpose\": \"hr-review\", \"sha256\": \"$HROFF_SHA256\"}]"
PURPOSES='"purposes": {
	"chat": {"description": "internal assistant", "lawful_basis": "legitimate_interests", "data_classes": ["public", "internal", "confidential"], "retention_days": 30},
	"hr-screening": {"description": "pre-screening of applications", "lawful_basis": "6(1)(b)", "data_classes": ["public", "internal", "confidential"], "retention_days": 200, "area": "recruitment", "high_risk": {"enabled": true, "workers_informed": "2025-03-01", "overseer": "Dana Roth"}},
	"hr-review": {"description": "performance reviews", "lawful_basis": "6(1)(b)", "data_classes": ["public", "internal", "confidential"], "retention_days": 200, "area": "performance_monitoring"}}'
bb_start_hafen gw "{$AUDIT, $POLICY, $KEYS, $PURPOSES}" || { echo "Bail out! hafen did not start"; exit 1; }
upstream_count() { if [ -f "$up_RECORD" ]; then wc -l <"$up_RECORD"; else echo 0; fi; }

ABODY='{"model": "m", "messages": [{"role": "user", "content": "Here are the CVs of the five applicants for the accountant job. Rank them and tell me which two to reject."}]}'
FBODY='{"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "Analyse the facial expressions in these webcam frames of our call-centre agents and rate their mood."}, {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg"}}]}]}'
LBODY='{"model": "m", "messages": [{"role": "user", "content": "Summarise our travel expense policy in three bullet points."}]}'

# ---- non-HR purpose: blocked by the rule ----
n0=$(upstream_count)
bb_post /v1/chat/completions "$ABODY" -H 'X-Request-Id: annex-chat' >"$BB_DIR/chat.json"
bb_is "$(bb_code)" 403 "Annex III point 4 request under a non-HR purpose: 403"
bb_ok "... policy_violation naming aiact-annex3-4" bb_json_true "$BB_DIR/chat.json" \
	'j["error"]["type"] == "policy_violation" and "aiact-annex3-4" in j["error"]["message"]'
bb_is "$(upstream_count)" "$n0" "... nothing reached the upstream"

# ---- HR purpose in high-risk mode: its legitimate use ----
KEY=$HRON bb_post /v1/chat/completions "$ABODY" -H 'X-Request-Id: annex-hr-on' >"$BB_DIR/on.json"
bb_is "$(bb_code)" 200 "the same request under an enabled HR purpose: 200"
bb_is "$(upstream_count)" "$((n0 + 1))" "... forwarded to the upstream"
KEY=$HRON bb_post /v1/chat/completions "$FBODY" -H 'X-Request-Id: art5f-hr-on' >"$BB_DIR/on-f.json"
bb_is "$(bb_code)" 403 "Art. 5(1)(f) under the enabled HR purpose: still 403"
bb_ok "... naming aiact-5-1-f" bb_json_true "$BB_DIR/on-f.json" '"aiact-5-1-f" in j["error"]["message"]'

# ---- HR purpose with high-risk mode off: the purpose gate ----
n1=$(upstream_count)
KEY=$HROFF bb_post /v1/chat/completions "$ABODY" -H 'X-Request-Id: annex-hr-off' >"$BB_DIR/off.json"
bb_is "$(bb_code)" 403 "the same request under an HR purpose with high-risk mode off: 403"
bb_ok "... from the purpose gate (high_risk_purpose_disabled), not the content rule" bb_json_true "$BB_DIR/off.json" \
	'j["error"]["type"] == "high_risk_purpose_disabled" and "aiact-annex3-4" not in j["error"]["message"]'
KEY=$HROFF bb_post /v1/chat/completions "$LBODY" -H 'X-Request-Id: lawful-hr-off' >/dev/null
bb_is "$(bb_code)" 403 "any request under the disabled HR purpose: 403"
bb_is "$(upstream_count)" "$n1" "... nothing reached the upstream"
bb_post /v1/chat/completions "$LBODY" -H 'X-Request-Id: lawful-chat' >/dev/null
bb_is "$(bb_code)" 200 "an ordinary request under the non-HR purpose: 200"

# ---- the audit log and the report ----
bb_stop_all
bb_audit_records "$DB" "$BB_DIR/recs.json"
bb_ok "non-HR record: 403, decision block, aiact-annex3-4" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 403 and r["decision"] == "block" and "aiact-annex3-4" in r["rule_ids"] and r["purpose"] == "chat")(j["annex-chat"])'
bb_ok "enabled HR record: 200, decision flag, aiact-annex3-4 fired, sent to the engine" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 200 and r["decision"] == "flag" and "aiact-annex3-4" in r["rule_ids"] and r["purpose"] == "hr-screening" and r["upstream_id"] == "engine")(j["annex-hr-on"])'
bb_ok "disabled HR record: 403, no upstream" bb_json_true "$BB_DIR/recs.json" \
	'(lambda r: r["status"] == 403 and r["upstream_id"] == "" and r["purpose"] == "hr-review")(j["annex-hr-off"])'
bb_ok "no prompt text in the audit database" bb_not grep -a -q -i -e 'applicants' -e 'webcam' "$DB"
cat >"$BB_DIR/report.json" <<JSON
{$AUDIT, $PURPOSES}
JSON
"$CTL" report aiact --config "$BB_DIR/report.json" >"$BB_DIR/r.json" 2>"$BB_DIR/r.err"
bb_is "$?" 0 "hafenctl report aiact"
bb_ok "report: hr-screening has one Annex III point 4 flag, no block; chat one block" bb_json_true "$BB_DIR/r.json" \
	'(lambda P: P["hr-screening"]["annex3_4"] == {"flagged": 1, "blocked": 0} and P["chat"]["annex3_4"] == {"flagged": 0, "blocked": 1} and P["hr-screening"]["preconditions"]["met"])({p["purpose"]: p for p in j["purposes"]})'
bb_done
