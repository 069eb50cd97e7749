#!/usr/bin/env bash
# Black-box: the purpose registry and the key store in the real gateway
# (real TLS, real SQLite files, the mock upstream as the engine).
# Purposes: a key whose purpose is not registered gets 403 (GDPR Art.
# 5(1)(b)), a class the purpose forbids gets 403, a high-risk HR purpose is
# refused until its high-risk mode is enabled (reload), and each refusal is
# in the audit log. Key store: hafenctl key create / list / revoke / rotate /
# expire, picked up by the running gateway within seconds.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
CTL=$top_builddir/gateway/hafenctl
[ -x "$CTL" ] || bb_skip_all "no $CTL"
bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_new_key ORPHAN
bb_new_key HRKEY
"$CTL" audit keygen --dir "$BB_DIR/akeys" >/dev/null || { echo "Bail out! audit keygen failed"; exit 1; }
bb_start_mock up || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$up_PORT
DB=$BB_DIR/audit.db
AUDIT="\"audit\": {\"database\": \"$DB\", \"checkpoints\": \"$BB_DIR/audit.cp\", \"signing_key\": \"$BB_DIR/akeys/audit-signing.key\", \"hmac_key\": \"$BB_DIR/akeys/audit-hmac.key\", \"durability\": \"batch\"}"
POLICY="\"policy\": {\"packs\": [\"$top_srcdir/policies/packs/gdpr-default.json\"]}"
KEYS="\"keys\": [{\"name\": \"test\", \"tenant\": \"t1\", \"purpose\": \"chat\", \"sha256\": \"$KEY_SHA256\"},
	{\"name\": \"orphan\", \"tenant\": \"t1\", \"purpose\": \"marketing\", \"sha256\": \"$ORPHAN_SHA256\"},
	{\"name\": \"hr\", \"tenant\": \"hr\", \"purpose\": \"hr-screening\", \"sha256\": \"$HRKEY_SHA256\"}]"
CHAT='"chat": {"description": "internal assistant", "lawful_basis": "legitimate_interests", "data_classes": ["public", "internal"], "retention_days": 30}'
HR_OFF='"hr-screening": {"description": "pre-screening of applications", "lawful_basis": "6(1)(b)", "data_classes": ["public", "internal", "confidential"], "retention_days": 200, "area": "recruitment"}'
HR_ON='"hr-screening": {"description": "pre-screening of applications", "lawful_basis": "6(1)(b)", "data_classes": ["public", "internal", "confidential"], "retention_days": 200, "area": "recruitment", "high_risk": {"enabled": true, "workers_informed": "2025-03-01", "overseer": "Dana Roth"}}'
STORE=$BB_DIR/keys.db
# The gateway polls the store every 300 ms here (1 s by default).
export HAFEN_KEY_POLL_MS=300
bb_start_hafen gw "{$AUDIT, $POLICY, $KEYS, \"key_store\": \"$STORE\", \"purposes\": {$CHAT, $HR_OFF}}" ||
	{ echo "Bail out! hafen did not start"; exit 1; }

chat() { # chat KEY CONTENT [REQUEST_ID]
	local key=$1 content=$2 rid=${3:-}
	KEY=$key bb_post /v1/chat/completions "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"$content\"}]}" \
		${rid:+-H "X-Request-Id: $rid"}
}

# ---- purposes ----
chat "$KEY" "hello" >/dev/null
bb_is "$(bb_code)" 200 "registered purpose, allowed class: 200"
chat "$ORPHAN" "hello" purpose-orphan-1 >"$BB_DIR/orphan.json"
bb_is "$(bb_code)" 403 "key whose purpose is not registered: 403"
bb_ok "... OpenAI error naming GDPR Art. 5(1)(b)" bb_json_true "$BB_DIR/orphan.json" \
	'"Art. 5(1)(b)" in j["error"]["message"] and "marketing" in j["error"]["message"]'
KEY=$ORPHAN bb_curl "$(bb_url /v1/models)" >/dev/null
bb_is "$(bb_code)" 403 "... also on a body-less route (GET /v1/models)"
chat "$KEY" "Bitte schreibe an erika.musterfrau@example.org" purpose-class-1 >"$BB_DIR/class.json"
bb_is "$(bb_code)" 403 "personal data (confidential) under a purpose for public/internal: 403"
bb_ok "... the error names the class and the purpose" bb_json_true "$BB_DIR/class.json" \
	'"confidential" in j["error"]["message"] and "chat" in j["error"]["message"]'
bb_ok "... and quotes nothing of the prompt" bb_not grep -q musterfrau "$BB_DIR/class.json"
chat "$HRKEY" "rank these applicants" purpose-hr-1 >"$BB_DIR/hr.json"
bb_is "$(bb_code)" 403 "high-risk HR purpose with high-risk mode off: 403"
bb_ok "... naming AI Act Art. 6(2) and Art. 26(7)" bb_json_true "$BB_DIR/hr.json" \
	'"Art. 6(2)" in j["error"]["message"] and "26(7)" in j["error"]["message"]'
before=$(grep -c '"rank these' "$up_RECORD" 2>/dev/null)
bb_is "${before:-0}" 0 "... nothing of the refused requests reached the upstream"

# enabling it without an overseer is a config error naming the article
bb_config "$BB_DIR/bad.json" "{$KEYS, \"purposes\": {$CHAT, \"hr-screening\": {\"description\": \"x\", \"lawful_basis\": \"b\", \"data_classes\": [\"confidential\"], \"retention_days\": 200, \"area\": \"recruitment\", \"high_risk\": {\"enabled\": true, \"workers_informed\": \"2025-03-01\"}}}}"
"$HAFEN" -t -c "$BB_DIR/bad.json" >"$BB_DIR/bad.out" 2>&1
bb_is "$?" 1 "hafen -t: high-risk mode without an overseer is refused"
bb_ok "... naming the file, the path and Art. 14" grep -q 'bad.json: purposes.hr-screening.high_risk.overseer: .*Art. 14' "$BB_DIR/bad.out"
bb_config "$BB_DIR/nobasis.json" "{$KEYS, \"purposes\": {\"chat\": {\"description\": \"x\", \"data_classes\": [\"public\"], \"retention_days\": 30}}}"
"$HAFEN" -t -c "$BB_DIR/nobasis.json" >"$BB_DIR/nobasis.out" 2>&1
bb_is "$?" 1 "hafen -t: a purpose without a lawful basis is refused"
bb_ok "... naming GDPR Art. 6(1)" grep -q 'nobasis.json: purposes.chat.lawful_basis: missing.*Art. 6(1)' "$BB_DIR/nobasis.out"

# enable it (SIGHUP reload): the same request passes
bb_config "$HAFEN_CONFIG" "{$AUDIT, $POLICY, $KEYS, \"key_store\": \"$STORE\", \"purposes\": {$CHAT, $HR_ON}}"
"$HAFEN" -t -c "$HAFEN_CONFIG" >/dev/null 2>"$BB_DIR/t.err"
bb_is "$?" 0 "hafen -t: the enabled HR purpose with its preconditions is valid"
bb_ok "... and warns that the orphan key's purpose is not registered" \
	grep -q 'keys\[1\].purpose: "marketing" is not registered.*Art. 5(1)(b)' "$BB_DIR/t.err"
kill -HUP "$HAFEN_PID"
code=""
for _ in $(seq 1 50); do
	chat "$HRKEY" "summarise this job posting" >/dev/null
	code=$(bb_code)
	[ "$code" = 200 ] && break
	sleep 0.1
done
bb_is "$code" 200 "after enabling high-risk mode (reload): 200"

# ---- the key store ----
# wait_code KEY WANT: sets CODE to the code a models request with KEY gets,
# once it is WANT or after 5 s, and WAITED to the seconds it took.
wait_code() {
	local key=$1 want=$2 code="" t0 t1
	t0=$(date +%s.%N)
	for _ in $(seq 1 50); do
		code=$(curl -sS --max-time 5 --cacert "$CA" -o /dev/null -w '%{http_code}' \
			-H "Authorization: Bearer $key" "$(bb_url /v1/models)" 2>/dev/null)
		[ "$code" = "$want" ] && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	WAITED=$("$PYTHON3" -c "print(round($t1 - $t0, 1))")
	CODE=$code
}
S1=$("$CTL" key create --config "$HAFEN_CONFIG" --name alice --tenant t1 --purpose chat 2>"$BB_DIR/create.err")
bb_is "$?" 0 "key create: exit 0"
bb_ok "key create: prints one secret" bash -c "[[ '$S1' =~ ^hk-[0-9a-f]{48}\$ ]]"
wait_code "$S1" 200; bb_is "$CODE" 200 "a new key works without a restart (after ${WAITED}s)"
"$CTL" key create --config "$HAFEN_CONFIG" --name bad --tenant t1 --purpose marketing >"$BB_DIR/bad.out" 2>&1
bb_is "$?" 1 "key create refuses a purpose that is not registered"
bb_ok "... naming GDPR Art. 5(1)(b)" grep -q 'purposes.marketing: not registered.*Art. 5(1)(b)' "$BB_DIR/bad.out"
"$CTL" key create --config "$HAFEN_CONFIG" --name floor --tenant t1 --purpose chat --class-floor restricted >/dev/null 2>"$BB_DIR/floor.err"
bb_is "$?" 2 "key create refuses a class floor the purpose does not allow"
"$CTL" key create --config "$HAFEN_CONFIG" --name alice --tenant t1 --purpose chat >/dev/null 2>"$BB_DIR/dup.err"
bb_is "$?" 1 "key create refuses a second live key of the same name"
bb_ok "the store holds no secret" bash -c "! cat '$STORE'* | grep -aq '${S1#hk-}'"
"$CTL" key list --store "$STORE" >"$BB_DIR/list.txt"
bb_ok "key list shows alice, active" grep -Eq '^[0-9]+ +alice +t1 +chat +active' "$BB_DIR/list.txt"
bb_ok "... and no secret" bb_not grep -q "${S1#hk-}" "$BB_DIR/list.txt"

S2=$("$CTL" key rotate --store "$STORE" alice 2>/dev/null)
bb_ok "key rotate prints a new secret" bash -c "[[ '$S2' =~ ^hk-[0-9a-f]{48}\$ && '$S2' != '$S1' ]]"
wait_code "$S2" 200; bb_is "$CODE" 200 "rotate: the new secret works (after ${WAITED}s)"
wait_code "$S1" 401; bb_is "$CODE" 401 "rotate without grace: the old secret is refused (after ${WAITED}s)"
S3=$("$CTL" key rotate --store "$STORE" --grace 60 alice 2>/dev/null)
wait_code "$S3" 200; bb_is "$CODE" 200 "rotate --grace 60: the new secret works"
wait_code "$S2" 200; bb_is "$CODE" 200 "... and the old one still does, during the grace period"
"$CTL" key revoke --store "$STORE" alice 2>/dev/null
bb_is "$?" 0 "key revoke: exit 0"
wait_code "$S3" 401; bb_is "$CODE" 401 "revoked: refused without a restart (after ${WAITED}s)"
wait_code "$S2" 401; bb_is "$CODE" 401 "... the grace secret too"
"$CTL" key revoke --store "$STORE" alice >/dev/null 2>&1
bb_is "$?" 1 "revoking a key with no live secret fails"

EXP=$("$PYTHON3" -c 'import datetime, time; print(datetime.datetime.utcfromtimestamp(int(time.time()) + 3).strftime("%Y-%m-%dT%H:%M:%SZ"))')
S4=$("$CTL" key create --config "$HAFEN_CONFIG" --name bob --tenant t2 --purpose chat --expires "$EXP" 2>/dev/null)
wait_code "$S4" 200; bb_is "$CODE" 200 "a key that expires in 3 s works now"
sleep 2
wait_code "$S4" 401; bb_is "$CODE" 401 "... and is refused once it expired (${WAITED}s after the 2 s pause)"
"$CTL" key list --store "$STORE" --format json >"$BB_DIR/list.json"
bb_ok "key list --format json: alice revoked (3 secrets), bob expired" bb_json_true "$BB_DIR/list.json" \
	'[k["state"] for k in j if k["name"] == "alice"] == ["revoked"] * 3 and [k["state"] for k in j if k["name"] == "bob"] == ["expired"]'
wait_code "$KEY" 200; bb_is "$CODE" 200 "the static config key still works next to the store"

# ---- a reload cannot move the stores: refused whole, old config kept ----
# (the new config also drops the static key: were it applied, KEY would fail)
KEYS_NO_TEST="\"keys\": [{\"name\": \"hr\", \"tenant\": \"hr\", \"purpose\": \"hr-screening\", \"sha256\": \"$HRKEY_SHA256\"}]"
reload_refused() { # reload_refused PATCH: the count of refusals after a SIGHUP with PATCH
	local before
	before=$(grep -c 'reload refused' "$HAFEN_LOG")
	bb_config "$HAFEN_CONFIG" "$1"
	kill -HUP "$HAFEN_PID"
	for _ in $(seq 1 50); do
		[ "$(grep -c 'reload refused' "$HAFEN_LOG")" -gt "$before" ] && break
		sleep 0.05
	done
}
reload_refused "{$AUDIT, $POLICY, $KEYS_NO_TEST, \"key_store\": \"$BB_DIR/other-keys.db\", \"purposes\": {$CHAT, $HR_ON}}"
bb_ok "a reload with another key_store is refused, naming the setting and the restart" \
	grep -q "reload refused, old configuration kept: .*key_store changed from .*keys.db to .*other-keys.db.*restart" "$HAFEN_LOG"
wait_code "$KEY" 200; bb_is "$CODE" 200 "... the old configuration still runs (the static key it had works)"
reload_refused "{$AUDIT, $POLICY, $KEYS_NO_TEST, \"key_store\": \"$STORE\", \"usage_store\": \"$BB_DIR/other-usage.db\", \"purposes\": {$CHAT, $HR_ON}}"
bb_ok "a reload with another usage_store is refused, naming it" \
	grep -q "reload refused, old configuration kept: .*usage_store changed from .*keys.db to .*other-usage.db" "$HAFEN_LOG"
wait_code "$KEY" 200; bb_is "$CODE" 200 "... the old configuration still runs"
bb_ok "... and no file was created at the new paths" test ! -e "$BB_DIR/other-keys.db" -a ! -e "$BB_DIR/other-usage.db"
bb_config "$HAFEN_CONFIG" "{$AUDIT, $POLICY, $KEYS, \"key_store\": \"$STORE\", \"purposes\": {$CHAT, $HR_ON}}"

# the refusals are in the audit log
# (the writer commits in batches: wait until the last refusal is there)
for _ in $(seq 1 50); do
	"$CTL" audit export --db "$DB" --format jsonl >"$BB_DIR/export.jsonl" 2>/dev/null
	grep -q purpose-hr-1 "$BB_DIR/export.jsonl" && break
	sleep 0.1
done
audited() { # audited REQUEST_ID: status and error class of its record
	"$PYTHON3" - "$BB_DIR/export.jsonl" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    r = r.get("record", r)
    if r.get("request_id") == sys.argv[2]:
        print(r.get("status"), r.get("error_class"), r.get("purpose"))
PY
}
bb_is "$(audited purpose-orphan-1)" "403 purpose_not_registered marketing" "audit: the unregistered purpose's refusal"
bb_is "$(audited purpose-class-1)" "403 data_class_forbidden chat" "audit: the class refusal"
bb_is "$(audited purpose-hr-1)" "403 high_risk_purpose_disabled hr-screening" "audit: the high-risk refusal"

# ---- mTLS: a verified client certificate stands for a key ----
FP=$(openssl x509 -in "$CLIENT_CERT" -noout -fingerprint -sha256 | cut -d= -f2)
MTLS_LISTENER="\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": @TLS_PORT@, \"tls\": {\"certificates\": [{\"cert\": \"$SERVER_CERT\", \"key\": \"$SERVER_KEY\"}], \"client_ca\": \"$CA\", \"client_auth\": \"optional\"}}]"
ID_FP="{\"name\": \"svc-fp\", \"tenant\": \"ops\", \"purpose\": \"chat\", \"cert_sha256\": \"$FP\"}"
ID_OTHER="{\"name\": \"svc-intruder\", \"tenant\": \"ops\", \"purpose\": \"chat\", \"cn\": \"intruder\"}"
bb_start_hafen mtls "{$MTLS_LISTENER, $KEYS, \"purposes\": {$CHAT}, \"identities\": [$ID_FP, $ID_OTHER]}" ||
	bb_diag "hafen (mtls) did not start: the tests below fail"
log_has() { # log_has TEXT: the access log (flushed every 100 ms) gets TEXT within 5 s
	for _ in $(seq 1 50); do
		grep -qF "$1" "$HAFEN_LOG" && return 0
		sleep 0.1
	done
	return 1
}
mtls() { # mtls [curl args]: GET /v1/models without an API key
	curl -sS --max-time 10 --cacert "$CA" -o /dev/null -w '%{http_code}' "$@" "$(bb_url /v1/models)" 2>/dev/null
}
bb_is "$(mtls --cert "$CLIENT_CERT" --key "$CLIENT_KEY")" 200 "mTLS: a client certificate mapped by fingerprint, no API key: 200"
bb_ok "... the access log names the identity" log_has '"key":"svc-fp"'
bb_is "$(mtls)" 401 "no certificate and no key: 401"
code=$(mtls --cert "$OTHER_CLIENT_CERT" --key "$OTHER_CLIENT_KEY")
bb_ok "a certificate from another CA, though its CN is mapped: refused ($code)" test "$code" != 200
bb_is "$(mtls --cert "$CLIENT_CERT" --key "$CLIENT_KEY" -H "Authorization: Bearer hk-wrong")" 401 \
	"a wrong API key is not rescued by a certificate"
# by CN, and the purpose rules apply to identities as to keys
bb_config "$HAFEN_CONFIG" "{$MTLS_LISTENER, $KEYS, \"purposes\": {$CHAT}, \"identities\": [{\"name\": \"svc-cn\", \"tenant\": \"ops\", \"purpose\": \"marketing\", \"cn\": \"client\"}]}"
kill -HUP "$HAFEN_PID"
code=""
for _ in $(seq 1 50); do
	code=$(mtls --cert "$CLIENT_CERT" --key "$CLIENT_KEY")
	[ "$code" = 403 ] && break
	sleep 0.1
done
bb_is "$code" 403 "mTLS by CN, identity bound to an unregistered purpose: 403 (GDPR Art. 5(1)(b))"
bb_ok "... the access log names it" log_has '"key":"svc-cn"'

bb_done
