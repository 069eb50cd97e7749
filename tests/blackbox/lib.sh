# Shared helpers for the black-box tests (sourced, bash).
#
# Each test script gets its own temp folder with a throwaway CA, a server
# certificate for localhost / 127.0.0.1, client certificates (one from our CA,
# one from a foreign CA), and starts the real binaries on loopback: the mock
# upstream (which picks its own port and reports it through --port-file) and
# $top_builddir/gateway/hafen (which takes ports from its config, so we pick
# free ones and retry when another test grabs one first). Everything started
# here is killed on exit.
#
# TAP: bb_ok NAME CMD... (passes when CMD exits 0), bb_is GOT WANT NAME,
# bb_todo REASON (marks the following tests TODO until bb_todo ""), bb_done.

set -u

: "${top_builddir:?top_builddir must be set (run through make check)}"
: "${top_srcdir:?top_srcdir must be set (run through make check)}"
PYTHON3=${PYTHON3:-/usr/bin/python3}
HAFEN=$top_builddir/gateway/hafen
MOCK=$top_builddir/tests/mock-upstream
CLIENT="$PYTHON3 $top_srcdir/tests/blackbox/client.py"

BB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hafen-bb.XXXXXX")
BB_PIDS=()
bb_n=0
bb_failed=0
BB_TODO=""

bb_cleanup() {
	local pid
	for pid in "${BB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BB_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "${BB_KEEP:-}" ]; then
		echo "# kept $BB_DIR" >&2
	else
		rm -rf "$BB_DIR"
	fi
}
trap bb_cleanup EXIT
trap 'exit 1' INT TERM

# ---- TAP ----

bb_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

bb_result() {
	local pass=$1 name=$2
	bb_n=$((bb_n + 1))
	local todo=""
	[ -n "$BB_TODO" ] && todo=" # TODO $BB_TODO"
	if [ "$pass" = 1 ]; then
		echo "ok $bb_n - $name$todo"
	else
		echo "not ok $bb_n - $name$todo"
		[ -z "$BB_TODO" ] && bb_failed=$((bb_failed + 1))
	fi
	[ "$pass" = 1 ]
}

# bb_ok NAME CMD...: CMD's exit status decides.
bb_ok() {
	local name=$1
	shift
	if "$@"; then
		bb_result 1 "$name"
	else
		bb_result 0 "$name"
	fi
}

bb_is() {
	local got=$1 want=$2 name=$3
	if [ "$got" = "$want" ]; then
		bb_result 1 "$name"
	else
		bb_result 0 "$name"
		bb_diag "got:  $(printf '%s' "$got" | head -c 400)" "want: $(printf '%s' "$want" | head -c 400)"
		return 1
	fi
}

bb_not() {
	! "$@"
}

bb_todo() {
	BB_TODO=$1
}

# Stop everything started here (SIGTERM, as an operator would) and wait:
# sanitizer builds report leaks only at exit.
bb_stop_all() {
	local pid
	for pid in "${BB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BB_PIDS[@]}"; do
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		wait "$pid" 2>/dev/null
	done
}

bb_done() {
	# In a sanitizer build, a report in any log of hafen or the mock fails
	# the script even when every request above got the right answer.
	bb_stop_all
	local reports
	reports=$(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$BB_DIR"/*.log 2>/dev/null)
	if ! bb_ok "no sanitizer reports in the logs of hafen and the mock" test -z "$reports"; then
		for f in $reports; do
			bb_diag "$f:" "$(grep -m1 -A12 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f")"
		done
	fi
	echo "1..$bb_n"
	[ "$bb_failed" -eq 0 ]
}

# bb_skip_all REASON: the whole script cannot run here.
bb_skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# ---- JSON ----

# bb_json FILE EXPR: evaluate a Python expression over the parsed JSON `j`
# (the json module is there as `json`) and print it (strings raw, everything else as JSON). Exit 1 if FILE is not
# JSON or EXPR fails.
bb_json() {
	"$PYTHON3" - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        j = json.load(f)
    v = eval(sys.argv[2], {"j": j, "json": json})
except Exception as e:
    print("bb_json: %s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# bb_audit_records DB OUT: `hafenctl audit export` of DB (one TAP line for
# its exit status), its records written to OUT as one JSON object keyed by
# request id.
bb_audit_records() {
	"$CTL" audit export --db "$1" --format jsonl >"$BB_DIR/export.jsonl" 2>"$BB_DIR/export.err"
	bb_is "$?" 0 "hafenctl audit export"
	"$PYTHON3" - "$BB_DIR/export.jsonl" >"$2" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(json.dumps({r.get("request_id"): r for r in recs}))
PY
}

# bb_json_true FILE EXPR: exit status from a Python boolean over `j`.
bb_json_true() {
	[ "$(bb_json "$1" "bool($2)" 2>/dev/null)" = true ]
}

# An OpenAI-shaped error: {"error":{"message":str,"type":str,"code":...}}.
bb_is_openai_error() {
	bb_json_true "$1" 'isinstance(j["error"]["message"], str) and j["error"]["message"] != "" and isinstance(j["error"]["type"], str) and "code" in j["error"]'
}

# ---- certificates ----

# A CA, a server cert for localhost/127.0.0.1, a client cert from the CA and
# one from a second, unrelated CA.
bb_certs() {
	local d=$BB_DIR/pki
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		set -e
		local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
		openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=hafen test CA" 2>/dev/null
		openssl req -x509 "${ec[@]}" -keyout other-ca.key -out other-ca.pem -days 2 -subj "/CN=other CA" 2>/dev/null
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.pem 2>/dev/null
		openssl req "${ec[@]}" -keyout client.key -out client.csr -subj "/CN=client" 2>/dev/null
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile client.ext -out client.pem 2>/dev/null
		openssl req "${ec[@]}" -keyout other-client.key -out other-client.csr -subj "/CN=intruder" 2>/dev/null
		openssl x509 -req -in other-client.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial \
			-days 2 -extfile client.ext -out other-client.pem 2>/dev/null
	) || return 1
	CA=$d/ca.pem
	OTHER_CA=$d/other-ca.pem
	SERVER_CERT=$d/server.pem
	SERVER_KEY=$d/server.key
	CLIENT_CERT=$d/client.pem
	CLIENT_KEY=$d/client.key
	OTHER_CLIENT_CERT=$d/other-client.pem
	OTHER_CLIENT_KEY=$d/other-client.key
}

# ---- processes ----

# bb_free_port: a port nobody listens on right now (the caller retries if it
# is taken before use).
bb_free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bb_free_ports N: N distinct free ports on one line (held open together
# while they are chosen, so they differ from each other).
bb_free_ports() {
	"$PYTHON3" -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# bb_start_mock NAME [mock options]: start a mock upstream; sets NAME_PORT,
# NAME_PID, NAME_RECORD (its --record file).
bb_start_mock() {
	local name=$1
	shift
	local pf=$BB_DIR/$name.port rec=$BB_DIR/$name.record.jsonl
	rm -f "$pf"
	"$MOCK" --quiet --port-file "$pf" --record "$rec" "$@" >"$BB_DIR/$name.log" 2>&1 &
	local pid=$!
	BB_PIDS+=("$pid")
	for _ in $(seq 1 100); do
		[ -s "$pf" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -s "$pf" ]; then
		bb_diag "mock upstream $name did not start:" "$(cat "$BB_DIR/$name.log")"
		return 1
	fi
	printf -v "${name}_PORT" '%s' "$(cat "$pf")"
	printf -v "${name}_PID" '%s' "$pid"
	printf -v "${name}_RECORD" '%s' "$rec"
}

# bb_mock_stat NAME COUNTER: one counter from the mock's /__mock/stats.
bb_mock_stat() {
	local port_var="${1}_PORT"
	curl -sS --max-time 5 "http://127.0.0.1:${!port_var}/__mock/stats" >"$BB_DIR/stats.json" || return 1
	bb_json "$BB_DIR/stats.json" "j[\"$2\"]"
}

# bb_new_key NAME: a random API key in NAME (its SHA-256 in NAME_SHA256).
bb_new_key() {
	local k
	k="hk-$(openssl rand -hex 16)"
	printf -v "$1" '%s' "$k"
	printf -v "${1}_SHA256" '%s' "$(printf '%s' "$k" | openssl dgst -sha256 -r | cut -d' ' -f1)"
}

# bb_config FILE [PATCH_JSON]: write a hafen config with the ports in
# TLS_PORT, PLAIN_PORT, ADMIN_PORT, the upstream at UPSTREAM_URL, the key in
# KEY_SHA256, then deep-merge PATCH_JSON (objects merge, anything else
# replaces). In PATCH_JSON, @TLS_PORT@, @PLAIN_PORT@ and @ADMIN_PORT@ stand
# for the ports chosen (for patches that replace the listener list).
bb_config() {
	local file=$1 patch='{}'
	[ $# -ge 2 ] && patch=$2
	"$PYTHON3" - "$file" "$patch" <<EOF
import json, sys
cfg = {
    "workers": 1,
    "listeners": [
        {"address": "127.0.0.1", "port": $TLS_PORT,
         "tls": {"certificates": [{"cert": "$SERVER_CERT", "key": "$SERVER_KEY"}],
                 "client_ca": "$CA", "client_auth": "none"}},
        {"address": "127.0.0.1", "port": $PLAIN_PORT, "plain": True}],
    "admin": {"address": "127.0.0.1", "port": $ADMIN_PORT},
    "limits": {"max_header_bytes": 16384, "max_body_bytes": 65536, "max_connections": 256,
               "header_timeout_ms": 1000, "request_timeout_ms": 20000, "idle_timeout_ms": 10000},
    "upstreams": [{"name": "engine", "url": "$UPSTREAM_URL", "ca_file": None, "server_name": None,
                   "connect_timeout_ms": 1000, "first_byte_timeout_ms": 1000,
                   "total_timeout_ms": 20000, "max_idle_connections": 16}],
    "keys": [{"name": "test", "tenant": "test", "purpose": "chat", "sha256": "$KEY_SHA256"}],
    "access_log": "stderr", "user": None, "drain_timeout_ms": 5000}

def merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            merge(a[k], v)
        else:
            a[k] = v

patch = sys.argv[2]
for name, value in (("@TLS_PORT@", $TLS_PORT), ("@PLAIN_PORT@", $PLAIN_PORT), ("@ADMIN_PORT@", $ADMIN_PORT)):
    patch = patch.replace(name, str(value))
merge(cfg, json.loads(patch))
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump(cfg, f, indent=1)
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
EOF
}

# bb_start_hafen NAME [PATCH_JSON]: pick free ports, write NAME.json and start
# hafen on it; waits until the admin /healthz answers 200. Sets TLS_PORT,
# PLAIN_PORT, ADMIN_PORT, HAFEN_PID, HAFEN_CONFIG, HAFEN_LOG. Retries with
# new ports when startup fails (a port taken by a parallel test).
bb_start_hafen() {
	local name=$1 patch='{}' try
	[ $# -ge 2 ] && patch=$2
	HAFEN_CONFIG=$BB_DIR/$name.json
	HAFEN_LOG=$BB_DIR/$name.log
	for try in 1 2 3; do
		read -r TLS_PORT PLAIN_PORT ADMIN_PORT < <(bb_free_ports 3)
		bb_config "$HAFEN_CONFIG" "$patch" || return 1
		"$HAFEN" -c "$HAFEN_CONFIG" >"$HAFEN_LOG" 2>&1 &
		HAFEN_PID=$!
		BB_PIDS+=("$HAFEN_PID")
		for _ in $(seq 1 100); do
			if ! kill -0 "$HAFEN_PID" 2>/dev/null; then
				break
			fi
			if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
				"http://127.0.0.1:$ADMIN_PORT/healthz")" = 200 ]; then
				return 0
			fi
			sleep 0.05
		done
		kill -TERM "$HAFEN_PID" 2>/dev/null
		wait "$HAFEN_PID" 2>/dev/null
		# port clash? try again; anything else will fail the same way
		grep -qi 'in use' "$HAFEN_LOG" || break
	done
	bb_diag "hafen ($name) did not become healthy; its log:" "$(tail -n 20 "$HAFEN_LOG")"
	return 1
}

# bb_curl [curl args]: curl against the TLS listener with our CA and key;
# prints the body, writes headers to $BB_DIR/h and the status to $BB_DIR/code.
bb_curl() {
	rm -f "$BB_DIR/h" "$BB_DIR/body" "$BB_DIR/code" # nothing stale if curl fails
	curl -sS --max-time 10 --cacert "$CA" -H "Authorization: Bearer $KEY" \
		-D "$BB_DIR/h" -o "$BB_DIR/body" -w '%{http_code}' "$@" >"$BB_DIR/code" 2>"$BB_DIR/curl.err"
	local rc=$?
	cat "$BB_DIR/body" 2>/dev/null
	return $rc
}

bb_code() {
	cat "$BB_DIR/code" 2>/dev/null
}

# bb_header NAME: value of a response header from the last bb_curl.
bb_header() {
	tr -d '\r' <"$BB_DIR/h" 2>/dev/null | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" '
		{ split($0, a, ":"); if (tolower(a[1]) == n) { sub(/^[^:]*:[ \t]*/, ""); v = $0 } }
		END { print v }'
}

bb_url() {
	echo "https://localhost:$TLS_PORT$1"
}

# bb_post PATH JSON [curl args]: POST JSON to the TLS listener.
bb_post() {
	local path=$1 body=$2
	shift 2
	bb_curl -H 'Content-Type: application/json' --data-binary "$body" "$@" "$(bb_url "$path")"
}

bb_require_binaries() {
	[ -x "$HAFEN" ] || bb_skip_all "no $HAFEN"
	[ -x "$MOCK" ] || bb_skip_all "no $MOCK"
	command -v curl >/dev/null || bb_skip_all "curl is not installed"
	command -v openssl >/dev/null || bb_skip_all "openssl is not installed"
}
