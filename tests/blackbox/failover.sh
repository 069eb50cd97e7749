#!/usr/bin/env bash
# Failover inside a pool, through the real gateway: one of two instances is
# killed while a client keeps several connections busy. Failures before the
# first byte of an answer (connection refused, 503) move to the other
# instance, so the client sees no failed request; the dead instance is
# ejected (the circuit breaker stops connection attempts to it) and comes
# back by itself once it is restarted. A pool member that answers 503 is
# skipped the same way.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries
bb_certs || { echo "Bail out! cannot create test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock a || { echo "Bail out! mock upstream did not start"; exit 1; }
bb_start_mock b || { echo "Bail out! mock upstream did not start"; exit 1; }
bb_start_mock c --fail status_503 || { echo "Bail out! mock upstream did not start"; exit 1; }
bb_start_mock d || { echo "Bail out! mock upstream did not start"; exit 1; }
UPSTREAM_URL=http://127.0.0.1:$a_PORT
CFG=$(cat <<JSON
{"upstreams": [
  {"name": "engine", "models": ["m"], "fail_threshold": 2, "eject_ms": 100, "retries": 2, "connect_timeout_ms": 500,
   "instances": [{"url": "http://127.0.0.1:$a_PORT"}, {"url": "http://127.0.0.1:$b_PORT"}]},
  {"name": "flaky", "models": ["f"], "fail_threshold": 2, "eject_ms": 5000,
   "instances": [{"url": "http://127.0.0.1:$a_PORT"}, {"url": "http://127.0.0.1:$c_PORT"}]},
  {"name": "watched", "models": ["w"], "fail_threshold": 2, "eject_ms": 600000, "health_interval_ms": 100,
   "instances": [{"url": "http://127.0.0.1:$a_PORT"}, {"url": "http://127.0.0.1:$d_PORT"}]}]}
JSON
)
bb_start_hafen gw "$CFG" || { echo "Bail out! hafen did not start"; exit 1; }

metric() {
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
		awk -v k="hafen_upstream_errors_total{upstream=\"$1\",kind=\"$2\"}" '$1 == k { v = $2 } END { print v + 0 }'
}

# load SECONDS MODEL: 4 keep-alive TLS connections in a loop; prints
# "total ok" and the statuses that were not 200 (or exceptions).
load() {
	"$PYTHON3" - "$TLS_PORT" "$CA" "$KEY" "$1" "$2" <<'PY'
import http.client, json, ssl, sys, threading, time, collections
port, ca, key, secs, model = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
body = json.dumps({"model": model, "messages": [{"role": "user", "content": "failover"}]})
res = collections.Counter()
lock = threading.Lock()
end = time.time() + secs
def run():
    conn = None
    while time.time() < end:
        try:
            if conn is None:
                conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
            conn.request("POST", "/v1/chat/completions", body,
                         {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            k = str(r.status)
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:
            k = type(e).__name__
            conn = None
        with lock:
            res[k] += 1
ts = [threading.Thread(target=run) for _ in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
bad = {k: v for k, v in res.items() if k != "200"}
print(sum(res.values()), res["200"], json.dumps(bad, sort_keys=True))
PY
}

# ---- a pool member that answers 503 ----
read -r total good bad < <(load 1 f)
bb_is "$bad" "{}" "503 from one instance: every one of $total requests answered 200"
bb_ok "... the 503s were retried on the other instance" test "$(metric flaky retry)" -gt 0
bb_ok "... and c was ejected after its failures (it saw only a few requests of $total)" \
	test "$(bb_mock_stat c chat_completions)" -le 4

# ---- one of two instances killed under load ----
load 3 m >"$BB_DIR/load.txt" &
load_pid=$!
sleep 1
b_before=$(bb_mock_stat b chat_completions)
kill -KILL "$b_PID"
wait "$b_PID" 2>/dev/null
wait "$load_pid"
read -r total good bad <"$BB_DIR/load.txt"
bb_ok "both instances served before the kill (b: $b_before)" test "$(bb_mock_stat a chat_completions)" -gt 0 -a "$b_before" -gt 0
bb_is "$bad" "{}" "b killed under load: no failed request among $total"
bb_ok "... the connection failures were retried (retry counter $(metric engine retry))" test "$(metric engine retry)" -gt 0
c1=$(metric engine connect)
for i in $(seq 1 20); do
	bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"x"}]}' >/dev/null
done
c2=$(metric engine connect)
bb_ok "b is ejected: 20 more requests tried it at most twice (connect failures $c1 -> $c2)" test $((c2 - c1)) -le 2

# ---- b comes back ----
bb_start_mock b --listen "127.0.0.1:$b_PORT" || bb_diag "b did not restart"
back=0
for i in $(seq 1 100); do
	bb_post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"x"}]}' >/dev/null
	[ "$(bb_mock_stat b chat_completions)" -gt 0 ] && { back=1; break; }
	sleep 0.1
done
bb_is "$back" 1 "restarted b gets requests again (after its back-off, by a probe)"
read -r total good bad < <(load 1 m)
bb_is "$bad" "{}" "after recovery: $total requests, all 200"
bb_ok "... spread over both instances again" test "$(bb_mock_stat b chat_completions)" -gt 1
# ---- active health checks: ejection and recovery without traffic ----
# up_state INSTANCE: 1 while watched's instance has a closed breaker.
up_state() {
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
		awk -v k="hafen_upstream_instance_up{upstream=\"watched\",instance=\"$1\"," 'index($1, k) == 1 { v = $2 } END { print v + 0 }'
}
bb_is "$(up_state 1)" 1 "health checks: d is up"
bb_ok "... and was asked for GET /v1/models" test "$(bb_mock_stat d models)" -gt 0
kill -KILL "$d_PID"
wait "$d_PID" 2>/dev/null
st=1
for i in $(seq 1 50); do st=$(up_state 1); [ "$st" = 0 ] && break; sleep 0.1; done
bb_is "$st" 0 "health checks: killed d is ejected without a request"
bb_start_mock d --listen "127.0.0.1:$d_PORT" || bb_diag "d did not restart"
for i in $(seq 1 50); do st=$(up_state 1); [ "$st" = 1 ] && break; sleep 0.1; done
bb_is "$st" 1 "health checks: restarted d is back long before its 10-minute back-off"
read -r total good bad < <(load 1 w)
bb_is "$bad" "{}" "... $total requests, all 200"
bb_ok "... and d serves its share" test "$(bb_mock_stat d chat_completions)" -gt 0
# ---- a reload keeps the breaker of instances it did not change ----
# inst_up UPSTREAM INSTANCE: 1 while the instance's breaker is closed.
inst_up() {
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
		awk -v k="hafen_upstream_instance_up{upstream=\"$1\",instance=\"$2\"," 'index($1, k) == 1 { v = $2 } END { print v + 0 }'
}
reloads() {
	grep -c 'configuration reloaded' "$HAFEN_LOG"
}
# flaky's c answers 503: ejected for eject_ms (5 s) after two failures
for i in $(seq 1 30); do
	bb_post /v1/chat/completions '{"model":"f","messages":[{"role":"user","content":"x"}]}' >/dev/null
	[ "$(inst_up flaky 1)" = 0 ] && break
done
bb_is "$(inst_up flaky 1)" 0 "reload: flaky's 503 instance is ejected before the reload"
c_before=$(bb_mock_stat c chat_completions)
r0=$(reloads)
kill -HUP "$HAFEN_PID"
for i in $(seq 1 50); do [ "$(reloads)" -gt "$r0" ] && break; sleep 0.05; done
bb_is "$(inst_up flaky 1)" 0 "reload with the same upstream name and URL: the instance stays ejected"
for i in $(seq 1 10); do
	bb_post /v1/chat/completions '{"model":"f","messages":[{"role":"user","content":"x"}]}' >/dev/null
done
bb_is "$(bb_mock_stat c chat_completions)" "$c_before" "... and gets no request until its back-off is over"
bb_ok "... its ejection count went with it" bash -c "curl -s --max-time 5 'http://127.0.0.1:$ADMIN_PORT/metrics' |
	grep -q '^hafen_upstream_instance_ejections_total{upstream=\"flaky\",instance=\"1\"} [1-9]'"
CTL=$top_builddir/gateway/hafenctl
"$CTL" upstream list --admin "http://127.0.0.1:$ADMIN_PORT" >"$BB_DIR/ulist.txt"
bb_ok "hafenctl upstream list: the ejected instance is open, with its probe time and ejections" \
	grep -Eq "^instance	flaky	1	127.0.0.1:$c_PORT	on_prem	open \(probe in [0-9]+ ms\)	failures [0-9]+	outstanding 0	ejections [1-9]" "$BB_DIR/ulist.txt"
bb_ok "... and the other one closed" grep -q "^instance	flaky	0	127.0.0.1:$a_PORT	on_prem	closed	" "$BB_DIR/ulist.txt"
curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/admin/upstreams" >"$BB_DIR/ups.json"
bb_ok "GET /admin/upstreams: the same as JSON" bb_json_true "$BB_DIR/ups.json" \
	'[(i["state"], i["retry_in_ms"] > 0) for u in j["upstreams"] if u["name"] == "flaky" for i in u["instances"]] == [("closed", False), ("open", True)]'
# the same instance under another URL is a new instance: its state starts fresh
bb_config "$HAFEN_CONFIG" "${CFG//http:\/\/127.0.0.1:$c_PORT/http://localhost:$c_PORT}"
r0=$(reloads)
kill -HUP "$HAFEN_PID"
for i in $(seq 1 50); do [ "$(reloads)" -gt "$r0" ] && break; sleep 0.05; done
bb_is "$(inst_up flaky 1)" 1 "reload with a changed URL: the instance starts with a closed breaker"
bb_done
