#!/usr/bin/env bash
# Kill switches for human oversight (AI Act Art. 14), end to end: an
# operator switches off an upstream or a model alias with hafenctl (plain
# HTTP to the admin listener); the next request to it is refused with 503
# naming the switch, never sent elsewhere; every pull and release is an
# "oversight" record in the audit log, and the state survives a reload
# (SIGHUP) and a restart (kill_state_file).
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
CTL=$top_builddir/gateway/hafenctl
[ -x "$CTL" ] || bb_skip_all "no $CTL"
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
"$CTL" audit keygen --dir "$BB_DIR/keys" >/dev/null || { echo "Bail out! audit keygen failed"; exit 1; }
bb_start_mock a || { echo "Bail out! mock upstream did not start"; exit 1; }
bb_start_mock b || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$a_PORT
DB=$BB_DIR/audit.db
STATE=$BB_DIR/kill-state.json
CFG=$(cat <<JSON
{"audit": {"database": "$DB", "checkpoints": "$BB_DIR/audit.cp", "signing_key": "$BB_DIR/keys/audit-signing.key",
           "hmac_key": "$BB_DIR/keys/audit-hmac.key", "durability": "batch"},
 "kill_state_file": "$STATE",
 "upstreams": [{"name": "a", "url": "http://127.0.0.1:$a_PORT"}, {"name": "b", "url": "http://127.0.0.1:$b_PORT"}],
 "routes": [{"model": "chat", "targets": [{"upstream": "a"}]}, {"model": "other", "targets": [{"upstream": "b"}]}]}
JSON
)
bb_start_hafen gw "$CFG" || { echo "Bail out! hafen did not start"; exit 1; }
ADMIN=http://127.0.0.1:$ADMIN_PORT

chat() {
	bb_post /v1/chat/completions "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" \
		-H "X-Request-Id: $2" >"$BB_DIR/answer.json"
	bb_code
}

bb_is "$(chat chat ks-1) $(chat other ks-2)" "200 200" "before: both aliases served"

# ---- pulling a switch ----
"$CTL" upstream kill --admin "$ADMIN" --upstream a >/dev/null 2>&1
bb_is "$?" 2 "hafenctl upstream kill without --by: usage error"
bb_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"upstream":"a"}' "$ADMIN/admin/kill")" 400 \
	"admin API without X-Hafen-Operator: 400"
out=$("$CTL" upstream kill --admin "$ADMIN" --by alice --upstream nope 2>&1)
bb_is "$?" 1 "killing an upstream the config does not have fails ($out)"
out=$("$CTL" upstream kill --admin "$ADMIN" --by alice --upstream a)
bb_is "$?" 0 "hafenctl upstream kill --upstream a"
bb_is "$out" "upstream a killed by alice; audited" "... says what it did"
a_before=$(bb_mock_stat a chat_completions)
bb_is "$(chat chat ks-3)" 503 "the next request to a: 503"
bb_ok "... naming the switch (upstream_killed)" bb_json_true "$BB_DIR/answer.json" \
	'j["error"]["code"] == "upstream_killed" and "kill switch" in j["error"]["message"] and "\x27a\x27" in j["error"]["message"]'
bb_is "$(bb_mock_stat a chat_completions)" "$a_before" "... and a got nothing"
bb_is "$(chat other ks-4)" 200 "the other alias (upstream b) still works"
"$CTL" upstream kill --admin "$ADMIN" --by bob --model other >/dev/null
bb_is "$(chat other ks-5)" 503 "model switch: the next request for the alias: 503"
bb_ok "... naming the switch (model_killed)" bb_json_true "$BB_DIR/answer.json" \
	'j["error"]["code"] == "model_killed" and "kill switch" in j["error"]["message"]'
"$CTL" upstream list --admin "$ADMIN" >"$BB_DIR/list.txt"
bb_ok "hafenctl upstream list shows both switches and who pulled them" \
	bash -c "grep -q '^upstream	a	killed by alice' '$BB_DIR/list.txt' && grep -q '^model	other	killed by bob' '$BB_DIR/list.txt'"
bb_ok "... and each instance's state, the killed pool marked" bash -c \
	"grep -q '^instance	a	0	127.0.0.1:$a_PORT	on_prem	closed	.*	killed\$' '$BB_DIR/list.txt' && grep -q '^instance	b	0	.*	closed	' '$BB_DIR/list.txt'"
bb_curl "$(bb_url /v1/models)" >"$BB_DIR/models.json"
bb_is "$(bb_json "$BB_DIR/models.json" '[m["id"] for m in j["data"]]')" '["chat"]' "GET /v1/models leaves out the killed alias"

# ---- survives a reload and a restart ----
kill -HUP "$HAFEN_PID"
sleep 0.5
bb_is "$(chat chat ks-6)" 503 "after SIGHUP: still refused"
for _ in $(seq 1 50); do [ -s "$STATE" ] && grep -q other "$STATE" && break; sleep 0.1; done
bb_ok "the state file names both switches" bb_json_true "$STATE" \
	'sorted((s["kind"], s["name"], s["by"]) for s in j["switches"]) == [("model", "other", "bob"), ("upstream", "a", "alice")]'
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null
"$HAFEN" -c "$HAFEN_CONFIG" >>"$HAFEN_LOG" 2>&1 &
HAFEN_PID=$!
BB_PIDS+=("$HAFEN_PID")
for _ in $(seq 1 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$ADMIN/healthz")" = 200 ] && break
	sleep 0.05
done
bb_is "$(chat chat ks-7) $(chat other ks-8)" "503 503" "after a restart: both switches still pulled"

# ---- release ----
"$CTL" upstream release --admin "$ADMIN" --by carol --upstream a >/dev/null
"$CTL" upstream release --admin "$ADMIN" --by carol --model other >/dev/null
bb_is "$(chat chat ks-9) $(chat other ks-10)" "200 200" "released: served again"
"$CTL" upstream list --admin "$ADMIN" >"$BB_DIR/list2.txt"
bb_is "$(head -n 1 "$BB_DIR/list2.txt")" "no kill switch is pulled" "hafenctl upstream list: none"
bb_ok "... then each instance, up, none killed" bash -c \
	"grep -q '^instance	a	0	127.0.0.1:$a_PORT	on_prem	closed	failures 0	outstanding 0	ejections 0\$' '$BB_DIR/list2.txt'"

# ---- the audit trail ----
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null
"$CTL" audit export --db "$DB" --format jsonl >"$BB_DIR/export.jsonl" 2>"$BB_DIR/export.err"
bb_is "$?" 0 "hafenctl audit export"
"$PYTHON3" - "$BB_DIR/export.jsonl" >"$BB_DIR/recs.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(json.dumps({"oversight": [r["note"] for r in recs if r["kind"] == "oversight"],
                  "req": {r["request_id"]: r for r in recs if r["kind"] == "request"}}))
PY
bb_is "$(bb_json "$BB_DIR/recs.json" 'j["oversight"]')" \
	'["kill upstream=a by=alice", "kill model=other by=bob", "release upstream=a by=carol", "release model=other by=carol"]' \
	"oversight records: who pulled and released which switch, in order"
bb_ok "the refused request's record: 503, error_class upstream_killed" bb_json_true "$BB_DIR/recs.json" \
	'j["req"]["ks-3"]["status"] == 503 and j["req"]["ks-3"]["error_class"] == "upstream_killed"'
bb_ok "a served request's record names the upstream and its location" bb_json_true "$BB_DIR/recs.json" \
	'j["req"]["ks-1"]["upstream_id"] == "a" and j["req"]["ks-1"]["upstream_location"] == "on_prem"'
"$CTL" audit verify --db "$DB" --checkpoints "$BB_DIR/audit.cp" --pubkey "$BB_DIR/keys/audit-signing.pub" >"$BB_DIR/verify.txt" 2>&1
bb_is "$?" 0 "the audit log with the oversight records verifies"
bb_done
