#!/usr/bin/env bash
# Gateway benchmark: hafen next to nginx, both in front of the same mock
# upstream, measured in one run (see shared design note performance.md).
#
#   bench/gateway.sh [BUILD_DIR]      (default: build/ in the checkout)
#
# Targets, all on loopback:
#   direct  the mock upstream itself (plain HTTP)
#   nginx   nginx-light, 1 worker, TLS, upstream keep-alive, in front of it
#   hafen   hafen, 1 worker, TLS, full pipeline, in front of it
# Measures, interleaving the targets in each round so drift on this shared
# machine hits them alike: req/s at 32 connections (wrk -t1 -c32, POST chat
# completion via a Lua script; median of RUNS), latency at one connection
# from bench/latency (one keep-alive connection per target, the same POST
# sent to each target in strict rotation, exact percentiles; added =
# target - direct at each percentile; one run per round, medians over
# RUNS: this is the figure for the p99 floor, because a stall of the machine
# hits all targets alike), the old wrk -t1 -c1 --latency figures for
# comparison,
# time to first SSE event and per-event cost of a stream
# (bench/gateway_ttft.py), CPU seconds per 1,000
# requests and RSS of the proxies. Prints a Markdown section for
# docs/benchmarks.md on stdout; progress goes to stderr.
#
# Environment: HAFEN_EXTRA_CONFIG (JSON members added to hafen's config,
# e.g. '"policy": {...}, "audit": {...}'), RUNS (5), DURATION (seconds per wrk run, 5), TTFT_N (300),
# LAT_N (timed rounds per bench/latency run, 20000), LATENCY_ONLY=1 (only
# the bench/latency runs and their table: for hunting tail latency),
# PROFILE=1 (also profile hafen with perf and print its hottest functions),
# RSS_1M=1 (load hafen up to RSS_REQUESTS, default a million, requests and
# report its RSS then), PIN=1 (see below).
#
# HAFEN_B=PATH (a hafen binary, or a build folder holding gateway/hafen)
# measures a second hafen in the same run as target
# "hafen_b" (e.g. a build of the commit before a feature, to price the
# feature); HAFEN_B_LABEL names it in the table, HAFEN_B_EXTRA_CONFIG gives
# its extra config members (default: HAFEN_EXTRA_CONFIG).
# FAILOVER=1 (with TWO_INSTANCES=1) ends the run with wrk on the pool while
# its second mock instance is killed after 2 of 6 seconds, and reports how
# many requests failed (issue 5: none may, for failures before the first byte).
# TWO_INSTANCES=1 adds a target "pool": a second hafen (same settings) whose
# upstream is a pool of two mock instances (least outstanding requests over
# power of two choices, gateway/balance.c), measured in the same rounds as
# hafen over the single mock, so the routing cost shows as pool vs hafen.
#
# PIN=1 pins, for every target alike, the load generators (wrk and
# gateway_ttft.py) to the last CPU and the servers (the mock, nginx and its
# workers, hafen) to the others with taskset, so that the scheduler does not
# move them around or stack the client on the proxy's CPU mid-run; on a
# small, shared VM this is what dominates the p99 at one connection. The
# p99 figure is the median of the per-run p99s either way.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
TTFT_N=${TTFT_N:-300}
LAT_N=${LAT_N:-20000}
LATENCY_ONLY=${LATENCY_ONLY:-0}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

. "$top/bench/lib.sh"
bench_name=bench/gateway.sh

# ---- tools: wrk and nginx-light, installed on a fresh machine ----
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
pin_srv=()
pin_load=()
if [ "${PIN:-0}" = 1 ]; then
	ncpu=$(nproc)
	command -v taskset >/dev/null || die "PIN=1 needs taskset (util-linux)"
	[ "$ncpu" -ge 2 ] || die "PIN=1 needs at least 2 CPUs"
	pin_srv=(taskset -c "0-$((ncpu - 2))")
	pin_load=(taskset -c "$((ncpu - 1))")
	say "pinning: servers to CPUs 0-$((ncpu - 2)), load generators to CPU $((ncpu - 1))"
fi
MOCK=$build/tests/mock-upstream
HAFEN=$build/gateway/hafen
LATENCY=$build/bench/latency
[ -x "$MOCK" ] || die "no $MOCK: build first (make -C $build)"
[ -x "$LATENCY" ] || die "no $LATENCY: build first (make -C $build)"

bench_init bench/gateway.sh hafen-bench
# nginx workers drop to an unprivileged user when started as root
chmod 755 "$dir"

# ---- certificates ----
bench_certs
chmod 644 "$dir/server.key"

# ---- the mock upstream ----
"${pin_srv[@]}" "$MOCK" --quiet --port-file "$dir/mock.port" --events 8 >"$dir/mock.log" 2>&1 &
MOCK_PID=$!
pids+=("$MOCK_PID")
wait_for test -s "$dir/mock.port" || die "mock upstream did not start"
MOCK_PORT=$(cat "$dir/mock.port")

# ---- nginx ----
NGINX_PORT=$(free_port)
sed -e "s|@DIR@|$dir|g" -e "s|@UPSTREAM_PORT@|$MOCK_PORT|g" -e "s|@PORT@|$NGINX_PORT|g" \
	-e "s|@CERT@|$dir/server.pem|g" -e "s|@KEY@|$dir/server.key|g" \
	"$top/bench/nginx.conf.in" >"$dir/nginx.conf"
"${pin_srv[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" &
NGINX_PID=$!
pids+=("$NGINX_PID")
wait_for curl -sf --cacert "$dir/ca.pem" "https://localhost:$NGINX_PORT/v1/models" ||
	die "nginx did not start: $(cat "$dir/nginx-error.log" 2>/dev/null)"

# ---- hafen ----
KEY="hk-bench-$(openssl rand -hex 16)"
KEY_SHA=$(printf '%s' "$KEY" | openssl dgst -sha256 -r | cut -d' ' -f1)
HAFEN_PORT=$(free_port)
HAFEN_PLAIN=$(free_port)
HAFEN_ADMIN=$(free_port)
cat >"$dir/hafen.json" <<EOF
{"workers": 1,
 "listeners": [{"address": "127.0.0.1", "port": $HAFEN_PORT,
   "tls": {"certificates": [{"cert": "$dir/server.pem", "key": "$dir/server.key"}], "client_auth": "none"}}],
 "admin": {"address": "127.0.0.1", "port": $HAFEN_ADMIN},
 "upstreams": [{"name": "engine", "url": "http://127.0.0.1:$MOCK_PORT", "max_idle_connections": 64}],
 "keys": [{"name": "bench", "tenant": "bench", "purpose": "chat", "sha256": "$KEY_SHA"}],
 "access_log": "off"${HAFEN_EXTRA_CONFIG:+, $HAFEN_EXTRA_CONFIG}}
EOF
have_hafen=0
if [ -x "$HAFEN" ]; then
	"${pin_srv[@]}" "$HAFEN" -c "$dir/hafen.json" >"$dir/hafen.log" 2>&1 &
	HAFEN_PID=$!
	pids+=("$HAFEN_PID")
	if wait_for curl -sf --cacert "$dir/ca.pem" -H "Authorization: Bearer $KEY" \
		"https://localhost:$HAFEN_PORT/v1/models"; then
		have_hafen=1
	else
		say "hafen did not start; measuring the peers only. Its log:"
		tail -n 20 "$dir/hafen.log" >&2
	fi
else
	say "no $HAFEN; measuring the peers only"
fi

# ---- a second hafen (HAFEN_B) ----
have_hafen_b=0
if [ -n "${HAFEN_B:-}" ]; then
	[ -d "$HAFEN_B" ] && HAFEN_B=$(cd "$HAFEN_B" && pwd)/gateway/hafen
	HAFEN_B_PORT=$(free_port)
	HAFEN_B_ADMIN=$(free_port)
	sed -e "s|\"port\": $HAFEN_PORT,|\"port\": $HAFEN_B_PORT,|" -e "s|\"port\": $HAFEN_ADMIN}|\"port\": $HAFEN_B_ADMIN}|" \
		"$dir/hafen.json" >"$dir/hafen_b.json"
	if [ -n "${HAFEN_B_EXTRA_CONFIG+x}" ]; then
		"$PY" - "$dir/hafen_b.json" "${HAFEN_EXTRA_CONFIG:-}" "$HAFEN_B_EXTRA_CONFIG" <<'PYEOF'
import json, sys
cfg = json.load(open(sys.argv[1]))
for k in json.loads("{" + sys.argv[2] + "}") if sys.argv[2] else {}:
    cfg.pop(k, None)
cfg.update(json.loads("{" + sys.argv[3] + "}") if sys.argv[3] else {})
json.dump(cfg, open(sys.argv[1], "w"))
PYEOF
	fi
	"${pin_srv[@]}" "$HAFEN_B" -c "$dir/hafen_b.json" >"$dir/hafen_b.log" 2>&1 &
	HAFEN_B_PID=$!
	pids+=("$HAFEN_B_PID")
	if wait_for curl -sf --cacert "$dir/ca.pem" -H "Authorization: Bearer $KEY" \
		"https://localhost:$HAFEN_B_PORT/v1/models"; then
		have_hafen_b=1
	else
		say "HAFEN_B did not start. Its log:"
		tail -n 20 "$dir/hafen_b.log" >&2
	fi
fi

# ---- TWO_INSTANCES=1: hafen over a pool of two mock instances ----
have_pool=0
if [ "${TWO_INSTANCES:-0}" = 1 ] && [ "$have_hafen" = 1 ]; then
	"${pin_srv[@]}" "$MOCK" --quiet --port-file "$dir/mock2.port" --events 8 >"$dir/mock2.log" 2>&1 &
	MOCK2_PID=$!
	pids+=("$MOCK2_PID")
	wait_for test -s "$dir/mock2.port" || die "second mock upstream did not start"
	MOCK2_PORT=$(cat "$dir/mock2.port")
	POOL_PORT=$(free_port)
	POOL_ADMIN=$(free_port)
	cat >"$dir/hafen-pool.json" <<EOF
{"workers": 1,
 "listeners": [{"address": "127.0.0.1", "port": $POOL_PORT,
   "tls": {"certificates": [{"cert": "$dir/server.pem", "key": "$dir/server.key"}], "client_auth": "none"}}],
 "admin": {"address": "127.0.0.1", "port": $POOL_ADMIN},
 "upstreams": [{"name": "engine", "max_idle_connections": 64,
   "instances": [{"url": "http://127.0.0.1:$MOCK_PORT"}, {"url": "http://127.0.0.1:$MOCK2_PORT"}]}],
 "keys": [{"name": "bench", "tenant": "bench", "purpose": "chat", "sha256": "$KEY_SHA"}],
 "access_log": "off"${HAFEN_EXTRA_CONFIG:+, $HAFEN_EXTRA_CONFIG}}
EOF
	"${pin_srv[@]}" "$HAFEN" -c "$dir/hafen-pool.json" >"$dir/hafen-pool.log" 2>&1 &
	POOL_PID=$!
	pids+=("$POOL_PID")
	if wait_for curl -sf --cacert "$dir/ca.pem" -H "Authorization: Bearer $KEY" \
		"https://localhost:$POOL_PORT/v1/models"; then
		have_pool=1
	else
		say "hafen over the pool did not start. Its log:"
		tail -n 20 "$dir/hafen-pool.log" >&2
	fi
fi

# ---- load ----
cat >"$dir/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"model":"mock-model","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Please summarise the minutes of the Tuesday meeting in three sentences."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
EOF

targets=(direct nginx)
[ "$have_hafen" = 1 ] && targets+=(hafen)
[ "$have_hafen_b" = 1 ] && targets+=(hafen_b)
[ "$have_pool" = 1 ] && targets+=(pool)
url_of() {
	case "$1" in
	direct) echo "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" ;;
	nginx) echo "https://localhost:$NGINX_PORT/v1/chat/completions" ;;
	hafen) echo "https://localhost:$HAFEN_PORT/v1/chat/completions" ;;
	hafen_b) echo "https://localhost:$HAFEN_B_PORT/v1/chat/completions" ;;
	pool) echo "https://localhost:$POOL_PORT/v1/chat/completions" ;;
	esac
}
# CPU ticks (utime + stime) of a process and its children threads/workers.
cpu_ticks() {
	local p sum=0 f
	for p in "$@"; do
		f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
		sum=$((sum + ${f% *} + ${f#* }))
	done
	echo "$sum"
}
procs_of() {
	case "$1" in
	nginx) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
	hafen) echo "$HAFEN_PID $(pgrep -P "$HAFEN_PID" | tr '\n' ' ')" ;;
	hafen_b) echo "$HAFEN_B_PID $(pgrep -P "$HAFEN_B_PID" | tr '\n' ' ')" ;;
	pool) echo "$POOL_PID" ;;
	direct) echo "$MOCK_PID" ;;
	esac
}

# run_wrk TARGET CONNS: one line "req/s p50_us p99_us requests non2xx cpu_ticks"
run_wrk() {
	local t=$1 c=$2 out before after
	# shellcheck disable=SC2046
	before=$(cpu_ticks $(procs_of "$t"))
	out=$("${pin_load[@]}" wrk -t1 -c"$c" -d"${DURATION}s" --latency -s "$dir/post.lua" "$(url_of "$t")" 2>&1)
	# shellcheck disable=SC2046
	after=$(cpu_ticks $(procs_of "$t"))
	printf '%s\n' "$out" >>"$dir/wrk-$t-c$c.txt"
	printf '%s\n' "$out" | "$PY" -c '
import re, sys
text = sys.stdin.read()
def us(v, unit):
    return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
lat = dict((p, us(v, u)) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M))
n = re.search(r"(\d+) requests in", text)
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
err = re.search(r"Socket errors: (.*)", text)
if not rps or "50" not in lat:
    print("nan nan nan 0 0", end="")
else:
    print(rps.group(1), lat["50"], lat["99"], n.group(1), (bad.group(1) if bad else "0") + ("+sockerr" if err else ""), end="")
'
	echo " $((after - before))"
}

# run_latency: one run of bench/latency over every target in rotation, one
# JSON line (exact percentiles per target, added = target - direct).
run_latency() {
	local args=() t
	for t in "${targets[@]}"; do
		args+=("$t=$(url_of "$t")")
	done
	"${pin_load[@]}" "$LATENCY" -n "$LAT_N" -w 500 --json --ca "$dir/ca.pem" --key "$KEY" "${args[@]}" ||
		die "bench/latency failed (see above): no latency figures from a run with errors"
}

if [ "$LATENCY_ONLY" = 1 ]; then
	say "latency only: $RUNS runs of bench/latency, $LAT_N rounds each"
else
	say "req/s at 32 connections and latency at 1 connection: $RUNS rounds of ${DURATION}s per target, then bench/latency ($LAT_N rounds)"
fi
: >"$dir/results.txt"
: >"$dir/latency.txt"
for r in $(seq 1 "$RUNS"); do
	if [ "$LATENCY_ONLY" != 1 ]; then
		for t in "${targets[@]}"; do
			echo "$t c32 $(run_wrk "$t" 32)" >>"$dir/results.txt"
			echo "$t c1 $(run_wrk "$t" 1)" >>"$dir/results.txt"
		done
	fi
	run_latency >>"$dir/latency.txt"
	say "round $r done"
done

# ---- report of the paired latency runs ----
latency_report() {
	"$PY" - "$dir/latency.txt" "$RUNS" "$LAT_N" <<'PYEOF'
import json, statistics, sys, os
path, runs, n = sys.argv[1:]
data = [json.loads(l) for l in open(path) if l.strip()]
if not data:
    sys.exit(0)
names = list(data[0]["targets"])
label = {"direct": "mock upstream direct (plain)", "nginx": "nginx TLS proxy, 1 worker",
         "hafen": "hafen TLS, 1 worker", "hafen_b": "%s TLS, 1 worker" % os.environ.get("HAFEN_B_LABEL", "hafen B"),
         "pool": "hafen TLS, pool of 2 mock instances"}
def med(t, k):
    return statistics.median(d["targets"][t][k] for d in data)
def rng(t, k):
    v = [d["targets"][t][k] for d in data]
    return "%.0f to %.0f" % (min(v), max(v)) if len(v) > 1 else "%.0f" % v[0]
print()
print("Latency at one connection, paired (`bench/latency`: one keep-alive connection per target, "
      "the same POST sent to direct, nginx, hafen, direct, ... in strict rotation, %s timed rounds per run, "
      "exact percentiles; medians over %s runs, range in brackets; µs):" % (n, runs))
print()
print("| target | p50 | p90 | p99 | p99.9 | added p50 | added p99 (range) | added p99.9 |")
print("|---|---|---|---|---|---|---|---|")
for t in names:
    row = "| %s | %.0f | %.0f | %.0f (%s) | %.0f |" % (label.get(t, t), med(t, "p50_us"), med(t, "p90_us"),
        med(t, "p99_us"), rng(t, "p99_us"), med(t, "p999_us"))
    if t == names[0]:
        row += " - | - | - |"
    else:
        row += " %+.0f | **%+.0f** (%s) | %+.0f |" % (med(t, "added_p50_us"), med(t, "added_p99_us"),
            rng(t, "added_p99_us"), med(t, "added_p999_us"))
    print(row)
print()
if "hafen" in names:
    a = med("hafen", "added_p99_us")
    worst = max(d["targets"]["hafen"]["added_p99_us"] for d in data)
    held = sum(1 for d in data if d["targets"]["hafen"]["added_p99_us"] < 150)
    print("- hafen added p99 at one connection (paired): median **%+.0f µs** over %d runs, %d of %d runs under "
          "150 µs, worst %+.0f µs (floor < 150 µs: %s)." % (a, len(data), held, len(data), worst,
          "met" if a < 150 and held == len(data) else ("met in the median" if a < 150 else "NOT met")))
    if "nginx" in names:
        print("- nginx added p99 (paired, same runs): median %+.0f µs (%s)." % (
            med("nginx", "added_p99_us"), rng("nginx", "added_p99_us")))
    print("- per-round paired difference hafen - direct: p50 %+.0f µs, p99 %+.0f µs (medians over runs)." % (
        med("hafen", "paired_p50_us"), med("hafen", "paired_p99_us")))
PYEOF
}

if [ "$LATENCY_ONLY" = 1 ]; then
	now=$(date -u '+%Y-%m-%d %H:%M UTC')
	echo "### Latency run of $now"
	echo
	echo "Command: \`${PIN:+PIN=$PIN }LATENCY_ONLY=1 RUNS=$RUNS LAT_N=$LAT_N bench/gateway.sh BUILD_DIR\`;" \
		"load average at the end (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)."
	latency_report
	exit 0
fi

say "time to first SSE event: $TTFT_N sequential streams per target"
: >"$dir/ttft.txt"
: >"$dir/chunks.txt"
for t in "${targets[@]}"; do
	case "$t" in
	direct) args=(--port "$MOCK_PORT") ;;
	nginx) args=(--port "$NGINX_PORT" --ca "$dir/ca.pem") ;;
	hafen) args=(--port "$HAFEN_PORT" --ca "$dir/ca.pem") ;;
	hafen_b) args=(--port "$HAFEN_B_PORT" --ca "$dir/ca.pem") ;;
	pool) args=(--port "$POOL_PORT" --ca "$dir/ca.pem") ;;
	esac
	echo "$t $("${pin_load[@]}" "$PY" "$top/bench/gateway_ttft.py" "${args[@]}" --key "$KEY" -n "$TTFT_N")" >>"$dir/ttft.txt"
	# per-event cost: 200 events back to back, whole stream time
	echo "$t $("${pin_load[@]}" "$PY" "$top/bench/gateway_ttft.py" "${args[@]}" --key "$KEY" -n 100 --events 200 --delay-ms 0)" \
		>>"$dir/chunks.txt"
done

# PROFILE=1: one more 32-connection run of hafen under `perf record`, and
# the top of the report on stderr (for finding what to make faster).
if [ "${PROFILE:-0}" = 1 ] && [ "$have_hafen" = 1 ] && command -v perf >/dev/null; then
	say "profiling hafen under load (perf record -g, ${DURATION}s)"
	perf record -q -g -o "$dir/perf.data" -p "$HAFEN_PID" -- sleep "$DURATION" 2>/dev/null &
	perf_pid=$!
	wrk -t1 -c32 -d"${DURATION}s" -s "$dir/post.lua" "$(url_of hafen)" >/dev/null 2>&1
	wait "$perf_pid" || true
	perf report -i "$dir/perf.data" --no-children --percent-limit 1.5 --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -40 >&2
	perf report -i "$dir/perf.data" --no-children --sort dso --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -12 >&2
fi

rss_kb() {
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# RSS_1M=1: keep loading hafen (32 connections) until it has served a
# million requests in all, then report its RSS (a leak shows up here).
rss_1m=""
if [ "${RSS_1M:-0}" = 1 ] && [ "$have_hafen" = 1 ]; then
	served=$(awk '{ s += $6 } END { print s + 0 }' <(grep '^hafen' "$dir/results.txt"))
	say "loading hafen up to ${RSS_REQUESTS:-1000000} requests for the RSS figure (served so far: $served)"
	while [ "$served" -lt "${RSS_REQUESTS:-1000000}" ]; do
		n=$(wrk -t1 -c32 -d10s -s "$dir/post.lua" "$(url_of hafen)" 2>&1 | awk '/requests in/ { print $1 }')
		[ -n "$n" ] && [ "$n" -gt 0 ] || die "wrk failed against hafen during the RSS run"
		served=$((served + n))
	done
	# shellcheck disable=SC2046
	rss_1m="$served $(rss_kb $(procs_of hafen))"
fi

# shellcheck disable=SC2046
rss_nginx=$(rss_kb $(procs_of nginx))
rss_hafen=0
# shellcheck disable=SC2046
[ "$have_hafen" = 1 ] && rss_hafen=$(rss_kb $(procs_of hafen))

# ---- report ----
TICK=$(getconf CLK_TCK)
HAFEN_B_LABEL=${HAFEN_B_LABEL:-hafen B} "$PY" - "$dir/results.txt" "$dir/ttft.txt" "$dir/chunks.txt" "$TICK" "$rss_nginx" "$rss_hafen" "$RUNS" "$DURATION" "$rss_1m" <<'EOF'
import json, statistics, sys, datetime, platform, os
results, ttft_file, chunks_file, tick, rss_nginx, rss_hafen, runs, duration, rss_1m = sys.argv[1:]
tick = int(tick)
rows = {}
for line in open(results):
    f = line.split()
    target, conns = f[0], f[1]
    rows.setdefault((target, conns), []).append(f[2:])
ttft = {}
for line in open(ttft_file):
    t, j = line.split(" ", 1)
    try:
        ttft[t] = json.loads(j)
    except ValueError:
        pass
chunks = {}
for line in open(chunks_file):
    t, j = line.split(" ", 1)
    try:
        chunks[t] = json.loads(j)
    except ValueError:
        pass
targets = [t for t in ("direct", "nginx", "hafen", "hafen_b", "pool") if (t, "c32") in rows]

def med(t, c, i):
    return statistics.median(float(r[i]) for r in rows[(t, c)])

def cpu_per_1000(t, c="c32"):
    reqs = sum(int(r[3]) for r in rows[(t, c)])
    ticks = sum(int(r[5]) for r in rows[(t, c)])
    return ticks / tick / reqs * 1000 if reqs else float("nan")

def errors(t):
    return sorted(set(r[4] for c in ("c32", "c1") for r in rows[(t, c)]) - {"0"})

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
cpu = ""
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
print("### Run of %s" % now)
print()
print("Machine: %s, %d cores visible (shared with other jobs), Linux %s." % (cpu, os.cpu_count(), platform.release()))
print("Command: `%s%sRUNS=%s DURATION=%s LAT_N=%s bench/gateway.sh BUILD_DIR`; wrk -t1, POST /v1/chat/completions "
      "(small JSON body, Lua script), medians of %s runs, targets interleaved." % (
      "PIN=1 " if os.environ.get("PIN") == "1" else "",
      "TWO_INSTANCES=1 " if os.environ.get("TWO_INSTANCES") == "1" else "", runs, duration,
      os.environ.get("LAT_N", "20000"), runs))
try:
    print("Load average at the end of the run (1, 5, 15 min): %s." % " ".join(open("/proc/loadavg").read().split()[:3]))
except OSError:
    pass
print()
print("| target | req/s at 32 conn | p50 at 1 conn | p99 at 1 conn (range over runs) | CPU s / 1k req | first SSE event p50 / p99 |")
print("|---|---|---|---|---|---|")
for t in targets:
    tt = ttft.get(t)
    p99s = [float(r[2]) for r in rows[(t, "c1")]]
    print("| %s | %.0f | %.0f µs | %.0f µs (%.0f-%.0f) | %s | %s |" % (
        {"direct": "mock upstream direct (plain)", "nginx": "nginx TLS proxy, 1 worker",
         "hafen": "hafen TLS, 1 worker",
         "hafen_b": "%s TLS, 1 worker" % os.environ.get("HAFEN_B_LABEL", "hafen B"),
         "pool": "hafen TLS, 1 worker, pool of 2 mock instances"}[t],
        med(t, "c32", 0), med(t, "c1", 1), med(t, "c1", 2), min(p99s), max(p99s),
        "%.3f" % cpu_per_1000(t) if t != "direct" else "-",
        "%.0f / %.0f µs" % (tt["ttft_p50_us"], tt["ttft_p99_us"]) if tt else "-"))
print()
if "nginx" in targets:
    print("- nginx added latency at 1 connection: p50 %+.0f µs, p99 %+.0f µs; RSS %s KiB (master + worker)." % (
        med("nginx", "c1", 1) - med("direct", "c1", 1), med("nginx", "c1", 2) - med("direct", "c1", 2), rss_nginx))
if "hafen" in targets:
    ratio = med("hafen", "c32", 0) / med("nginx", "c32", 0)
    add50 = med("hafen", "c1", 1) - med("direct", "c1", 1)
    add99 = med("hafen", "c1", 2) - med("direct", "c1", 2)
    print("- hafen / nginx req/s at 32 connections: **%.2fx** (floor 0.8x: %s)." % (ratio, "met" if ratio >= 0.8 else "NOT met"))
    print("- CPU per request at 1 connection (the latency's critical path): hafen %.0f µs, nginx %.0f µs." % (
        cpu_per_1000("hafen", "c1") * 1000, cpu_per_1000("nginx", "c1") * 1000))
    print("- hafen added latency at 1 connection from wrk -c1 (separate runs per target, for comparison; "
          "the paired figures below are the ones to go by): p50 %+.0f µs, p99 %+.0f µs; RSS %s KiB after the run." % (
        add50, add99, rss_hafen))
    if "hafen" in ttft and "direct" in ttft:
        print("- hafen added time to first token: p50 %+.0f µs (nginx: %+.0f µs)." % (
            ttft["hafen"]["ttft_p50_us"] - ttft["direct"]["ttft_p50_us"],
            ttft["nginx"]["ttft_p50_us"] - ttft["direct"]["ttft_p50_us"] if "nginx" in ttft else float("nan")))
    if "hafen_b" in targets:
        print("- HAFEN_B build: req/s at 32 conn %.2fx nginx; CPU s / 1k req %.3f (this build %.3f); "
              "CPU per request at 1 conn %.0f µs; added p50 / p99 at 1 conn %+.0f / %+.0f µs." % (
              med("hafen_b", "c32", 0) / med("nginx", "c32", 0), cpu_per_1000("hafen_b"), cpu_per_1000("hafen"),
              cpu_per_1000("hafen_b", "c1") * 1000, med("hafen_b", "c1", 1) - med("direct", "c1", 1),
              med("hafen_b", "c1", 2) - med("direct", "c1", 2)))
else:
    print("- hafen: not measured (binary missing or did not start).")
if "hafen" in targets and "hafen_b" in targets:
    print("- hafen / %s: req/s at 32 connections %.3fx; CPU per request at 32 connections %+.1f µs; "
          "p50 at 1 connection %+.0f µs." % (os.environ.get("HAFEN_B_LABEL", "hafen B"),
          med("hafen", "c32", 0) / med("hafen_b", "c32", 0),
          (cpu_per_1000("hafen") - cpu_per_1000("hafen_b")) * 1000,
          med("hafen", "c1", 1) - med("hafen_b", "c1", 1)))
    if "hafen" in chunks and "hafen_b" in chunks:
        print("- hafen - %s time per SSE event (200-event stream): %+.2f µs." % (
            os.environ.get("HAFEN_B_LABEL", "hafen B"),
            (chunks["hafen"]["total_p50_us"] - chunks["hafen_b"]["total_p50_us"]) / 200))
if "pool" in targets and "hafen" in targets:
    pr = med("pool", "c32", 0) / med("hafen", "c32", 0)
    print("- routing over a pool of two instances / a single upstream, req/s at 32 connections: **%.3fx** "
          "(floor: within 5%%, i.e. >= 0.95x: %s); p50 at 1 connection %+.0f µs, CPU per 1k requests %.3f s vs %.3f s." % (
          pr, "met" if pr >= 0.95 else "NOT met", med("pool", "c1", 1) - med("hafen", "c1", 1),
          cpu_per_1000("pool"), cpu_per_1000("hafen")))
if rss_1m:
    n, kb = rss_1m.split()
    print("- hafen RSS after %s requests in all: %s KiB." % (n, kb))
if "direct" in chunks:
    for t in ("nginx", "hafen", "hafen_b"):
        if t in chunks:
            print("- %s added time per SSE event (200-event stream, back to back, p50 of whole-stream time / 200): %+.2f µs." % (
                t, (chunks[t]["total_p50_us"] - chunks["direct"]["total_p50_us"]) / 200))
for t in targets:
    e = errors(t)
    if e:
        print("- WARNING: %s had non-2xx responses or socket errors in some runs: %s (see wrk output)." % (t, ", ".join(e)))
EOF

latency_report

# ---- FAILOVER=1: one pool instance killed under wrk load ----
if [ "${FAILOVER:-0}" = 1 ] && [ "${have_pool:-0}" = 1 ]; then
	say "failover: wrk -c32 for 6 s on the pool, its second instance killed after 2 s"
	(sleep 2 && kill -KILL "$MOCK2_PID") &
	killer=$!
	out=$("${pin_load[@]}" wrk -t1 -c32 -d6s -s "$dir/post.lua" "$(url_of pool)" 2>&1)
	wait "$killer" || true
	printf '%s\n' "$out" | "$PY" -c '
import re, sys
t = sys.stdin.read()
n = re.search(r"(\d+) requests in", t)
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err = re.search(r"Socket errors: (.*)", t)
print("- failover (wrk -c32, 6 s, the second of two pool instances killed at 2 s): %s requests, %s non-2xx, socket errors: %s." % (
    n.group(1) if n else "?", bad.group(1) if bad else "0", err.group(1).strip() if err else "none"))
'
fi
