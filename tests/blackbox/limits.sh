#!/usr/bin/env bash
# Black-box: hafen's time and connection limits, with small values so that
# each takes about a second: total_timeout_ms on a long stream,
# idle_timeout_ms on a kept-alive connection, max_connections.
. "$top_srcdir/tests/blackbox/lib.sh"
bb_require_binaries

bb_certs || { echo "Bail out! cannot make test certificates"; exit 1; }
bb_new_key KEY
bb_start_mock up
UPSTREAM_URL=http://127.0.0.1:$up_PORT
bb_start_hafen hafen "{\"limits\": {\"idle_timeout_ms\": 600},
	\"upstreams\": [{\"name\": \"engine\", \"url\": \"$UPSTREAM_URL\", \"connect_timeout_ms\": 1000,
	\"first_byte_timeout_ms\": 1000, \"total_timeout_ms\": 1500, \"max_idle_connections\": 4}]}" ||
	bb_diag "hafen failed to start: every test below fails"

# ---- total_timeout_ms: a stream that would take 4 s is cut at 1.5 s ----
cancelled=$(bb_mock_stat up streams_cancelled)
$CLIENT stream --port "$TLS_PORT" --ca "$CA" --key "$KEY" \
	--body '{"model":"m","stream":true,"messages":[{"role":"user","content":"slow"}],"mock":{"events":40,"delay_ms":100}}' \
	>"$BB_DIR/total.json"
bb_ok "total_timeout_ms: the stream started" bb_json_true "$BB_DIR/total.json" 'j["status"] == 200 and len(j["events"]) >= 3'
bb_ok "total_timeout_ms: ... and was cut without [DONE] after about 1.5 s" bb_json_true "$BB_DIR/total.json" \
	'not j["done"] and 1.2 <= j["t_end"] < 3.5'
now=$cancelled
for _ in $(seq 1 30); do
	now=$(bb_mock_stat up streams_cancelled)
	[ "$now" -gt "$cancelled" ] 2>/dev/null && break
	sleep 0.1
done
bb_ok "total_timeout_ms: hafen closed the upstream stream too" test "$now" -gt "$cancelled"

# ---- idle_timeout_ms: a kept-alive connection is closed after 0.6 s idle ----
printf 'GET /v1/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n\r\n' "$KEY" >"$BB_DIR/idle.req"
t0=$(date +%s.%N)
$CLIENT raw --port "$TLS_PORT" --ca "$CA" --timeout 5 --body "@$BB_DIR/idle.req" >"$BB_DIR/idle.out"
t1=$(date +%s.%N)
bb_ok "idle_timeout_ms: the request on it was answered" grep -aq '^HTTP/1.1 200' "$BB_DIR/idle.out"
bb_ok "idle_timeout_ms: then hafen closed the idle connection after about 0.6 s" \
	"$PYTHON3" -c "import sys; d = $t1 - $t0; sys.exit(0 if 0.5 <= d < 3 else 1)"

# ---- max_connections (4): a fifth connection is not served ----
# A second hafen whose header and idle timeouts are long, so that the held
# connections stay open however slow this machine is.
kill -TERM "$HAFEN_PID"
wait "$HAFEN_PID" 2>/dev/null
bb_start_hafen maxconn '{"limits": {"header_timeout_ms": 20000, "idle_timeout_ms": 20000, "max_connections": 4}}' ||
	bb_diag "hafen (max_connections) failed to start"
rm -f "$BB_DIR/held"
$CLIENT hold --port "$TLS_PORT" --ca "$CA" --count 4 --ready "$BB_DIR/held" --limit 30 &
hold_pid=$!
BB_PIDS+=("$hold_pid")
for _ in $(seq 1 100); do
	[ -s "$BB_DIR/held" ] && break
	sleep 0.05
done
bb_ok "max_connections: four idle connections are open" test -s "$BB_DIR/held"
code=$(curl -sS --max-time 5 --cacert "$CA" -o "$BB_DIR/over.json" -w '%{http_code}' \
	-H "Authorization: Bearer $KEY" "$(bb_url /v1/models)" 2>/dev/null)
bb_ok "max_connections: a fifth connection gets 429 or 503, or is closed (got $code)" \
	test "$code" = 429 -o "$code" = 503 -o "$code" = 000
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null
code=000
for _ in $(seq 1 30); do
	code=$(curl -s --max-time 5 --cacert "$CA" -o /dev/null -w '%{http_code}' \
		-H "Authorization: Bearer $KEY" "$(bb_url /v1/models)")
	[ "$code" = 200 ] && break
	sleep 0.1
done
bb_is "$code" 200 "max_connections: once they are closed, new connections are served"

bb_ok "hafen is still alive" kill -0 "$HAFEN_PID"
bb_done
