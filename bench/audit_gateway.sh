#!/usr/bin/env bash
# What the audit log costs the gateway: hafen without the audit log, with it
# under "batch" durability and with it under "request" durability, side by
# side in front of the same mock upstream, measured interleaved (A B C A B C
# ...) so that the load of this shared machine hits them alike.
#
#   bench/audit_gateway.sh [BUILD_DIR]     (default: build/ in the checkout)
#
# Per configuration: req/s at 32 connections (wrk -t1 -c32, the POST of
# bench/gateway.sh), CPU seconds per 1,000 requests of the hafen process (all
# its threads, the audit writer included, from /proc/PID/stat; in brackets
# the writer thread's share, from /proc/PID/task/TID/stat), p50/p99 at 1
# connection; medians over RUNS rounds. Every server is pinned to CPU 0 and
# wrk to the last CPU (as PIN=1 in bench/gateway.sh). Environment: RUNS (5),
# DURATION (seconds per wrk run, 4), USERS=N (each request names one of N
# end users in its "user" field, drawn at random; default: no user),
# CONFIGS (plain batch request; also
# batch-idx: batch on a database created with the request_id index that
# databases made before 5cf43df have), PROFILE=1 (after the rounds, one more
# 32-connection run per configuration under `perf record`, then its hottest
# functions per thread: the loop thread "hafen" and the writer "hafen-audit";
# needs perf and kernel.perf_event_paranoid <= 2 for one's own processes;
# PERF_DIR=DIR keeps the perf.CONFIG files there, PERF_OPTS adds options to
# perf record, e.g. "--call-graph dwarf"), OTHER=BUILD_DIR (a configuration
# name ending in .o, e.g. "plain.o batch.o", runs that build's hafen in the
# same interleaved rounds: an older build measured next to this one), INSTR=1 (also count the
# instructions of the hafen process during each run with `perf stat`: on
# this shared machine the count per request repeats where times do not),
# STRACE=1 (after the rounds, `strace -c -w` on the writer thread during one
# more 32-connection run per configuration: its syscalls per record).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
RUNS=${RUNS:-5}
DURATION=${DURATION:-4}
CONFIGS=${CONFIGS:-plain batch request}
HAFEN=$build/gateway/hafen
CTL=$build/gateway/hafenctl
MOCK=$build/tests/mock-upstream
PY=/usr/bin/python3
. "$top/bench/lib.sh"
bench_name=bench/audit_gateway.sh
[ -x "$HAFEN" ] && [ -x "$MOCK" ] && [ -x "$CTL" ] || die "build hafen, hafenctl and tests/mock-upstream in $build first"
command -v wrk >/dev/null || die "wrk is not installed"
ncpu=$(nproc)
pin_srv=(taskset -c 0)
pin_load=(taskset -c $((ncpu - 1)))
[ "$ncpu" -ge 2 ] || { pin_srv=(); pin_load=(); }

bench_init bench/audit_gateway.sh hafen-auditbench
bench_certs
"$CTL" audit keygen --dir "$dir/keys" >/dev/null
"${pin_srv[@]}" "$MOCK" --quiet --port-file "$dir/mock.port" >"$dir/mock.log" 2>&1 &
pids+=("$!")
wait_for test -s "$dir/mock.port" || die "mock upstream did not start"
MOCK_PORT=$(cat "$dir/mock.port")
KEY="hk-bench-$(openssl rand -hex 16)"
KEY_SHA=$(printf '%s' "$KEY" | openssl dgst -sha256 -r | cut -d' ' -f1)

declare -A PORT PID
for c in $CONFIGS; do
	audit=""
	bin=$HAFEN
	base=${c%.o}
	if [ "$base" != "$c" ]; then
		[ -x "${OTHER:-}/gateway/hafen" ] || die "$c needs OTHER=BUILD_DIR with gateway/hafen"
		bin=$OTHER/gateway/hafen
	fi
	dur=${base%-idx}
	[ "$base" = plain ] || audit=", \"audit\": {\"database\": \"$dir/$c.db\", \"checkpoints\": \"$dir/$c.cp\", \"signing_key\": \"$dir/keys/audit-signing.key\", \"hmac_key\": \"$dir/keys/audit-hmac.key\", \"durability\": \"$dur\"}"
	[ "$dur" = "$base" ] || sqlite3 "$dir/$c.db" "CREATE TABLE audit_records(seq INTEGER PRIMARY KEY, leaf BLOB NOT NULL, body BLOB, kind INTEGER NOT NULL, request_id TEXT, subject TEXT, purpose TEXT, data_class TEXT, t_start INTEGER); CREATE INDEX audit_records_request ON audit_records(request_id);"
	PORT[$c]=$(free_port)
	cat >"$dir/$c.json" <<EOF
{"workers": 1,
 "listeners": [{"address": "127.0.0.1", "port": ${PORT[$c]},
   "tls": {"certificates": [{"cert": "$dir/server.pem", "key": "$dir/server.key"}], "client_auth": "none"}}],
 "admin": {"address": "127.0.0.1", "port": $(free_port)},
 "upstreams": [{"name": "engine", "url": "http://127.0.0.1:$MOCK_PORT", "max_idle_connections": 64}],
 "keys": [{"name": "bench", "tenant": "bench", "purpose": "chat", "sha256": "$KEY_SHA"}],
 "access_log": "off"$audit}
EOF
	"${pin_srv[@]}" "$bin" -c "$dir/$c.json" >"$dir/$c.log" 2>&1 &
	PID[$c]=$!
	pids+=("${PID[$c]}")
	wait_for curl -sf --cacert "$dir/ca.pem" -H "Authorization: Bearer $KEY" "https://localhost:${PORT[$c]}/v1/models" ||
		die "hafen ($c) did not start: $(tail -n 5 "$dir/$c.log")"
done
cat >"$dir/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"model":"mock-model","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Please summarise the minutes of the Tuesday meeting in three sentences."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
EOF
if [ "${USERS:-0}" -gt 0 ]; then
	# each request names one of USERS end users (the OpenAI "user" field):
	# every record then has a pseudonym, as behind a chat front end
	cat >>"$dir/post.lua" <<EOF
math.randomseed(42)
request = function()
	return wrk.format(nil, nil, nil, '{"model":"mock-model","user":"employee-' .. math.random(1, $USERS) .. '","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Please summarise the minutes of the Tuesday meeting in three sentences."}]}')
end
EOF
fi
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# CPU ticks of the audit writer thread (named hafen-audit) alone
wticks() {
	local t s=0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = hafen-audit ] && s=$((s + $(awk '{ print $14 + $15 }' "$t/stat")))
	done
	echo "$s"
}
hz=$(getconf CLK_TCK)
# run CONFIG CONNS: prints "requests seconds_cpu p50_us p99_us"
run() {
	local c=$1 n=$2 t0 t1 w0 w1 ps=""
	t0=$(ticks "${PID[$c]}")
	w0=$(wticks "${PID[$c]}")
	rm -f "$dir/instr.out"
	if [ "${INSTR:-0}" = 1 ]; then
		perf stat -x, -e instructions -p "${PID[$c]}" -o "$dir/instr.out" >/dev/null 2>&1 &
		ps=$!
	fi
	"${pin_load[@]}" wrk -t1 -c"$n" -d"${DURATION}s" --latency -s "$dir/post.lua" "https://localhost:${PORT[$c]}/v1/chat/completions" >"$dir/wrk.out" 2>&1
	if [ -n "$ps" ]; then
		kill -INT "$ps" 2>/dev/null || true
		wait "$ps" 2>/dev/null || true
	fi
	t1=$(ticks "${PID[$c]}")
	w1=$(wticks "${PID[$c]}")
	"$PY" - "$dir/wrk.out" "$((t1 - t0))" "$hz" "$dir/instr.out" "$((w1 - w0))" <<'PY'
import os, re, sys
out = open(sys.argv[1]).read()
req = int(re.search(r"(\d+) requests in", out).group(1))
instr = 0
if os.path.exists(sys.argv[4]):
    for line in open(sys.argv[4]):
        f = line.split(",")
        if len(f) > 2 and f[2].startswith("instructions") and f[0].isdigit():
            instr += int(f[0])
def us(label):
    m = re.search(r"\s%s\s+([\d.]+)(us|ms|s)\b" % label, out)
    if not m:
        return -1
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(req, int(sys.argv[2]) / int(sys.argv[3]), us("50%"), us("99%"), bad.group(1) if bad else 0, instr,
      int(sys.argv[5]) / int(sys.argv[3]))
PY
}
say "load $(cut -d' ' -f1-3 /proc/loadavg); $RUNS rounds of ${DURATION}s per configuration, interleaved"
for r in $(seq 1 "$RUNS"); do
	for c in $CONFIGS; do
		echo "$c 32 $(run "$c" 32)" >>"$dir/results"
		echo "$c 1 $(run "$c" 1)" >>"$dir/results"
	done
	say "round $r done (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
if [ "${PROFILE:-0}" = 1 ]; then
	command -v perf >/dev/null || die "PROFILE=1 needs perf"
	for c in $CONFIGS; do
		perf record -q -F 2000 ${PERF_OPTS:-} -p "${PID[$c]}" -o "${PERF_DIR:-$dir}/perf.$c" -- sleep "$DURATION" >/dev/null 2>&1 &
		prec=$!
		"${pin_load[@]}" wrk -t1 -c32 -d"${DURATION}s" -s "$dir/post.lua" "https://localhost:${PORT[$c]}/v1/chat/completions" >"$dir/wrk.out" 2>&1
		wait "$prec" || true
		say "profile of $c: $(perf report -i "${PERF_DIR:-$dir}/perf.$c" --stdio 2>/dev/null | sed -n 's/^# Samples: \([^ ]*\) .*/\1/p' | head -n 1) samples at 2 kHz, $(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$dir/wrk.out") requests; share of the samples by thread (comm) and function:"
		perf report -q -i "${PERF_DIR:-$dir}/perf.$c" --no-children --sort comm 2>/dev/null | sed -e 's/[[:space:]]*$//' -e '/^$/d' >&2
		perf report -q -i "${PERF_DIR:-$dir}/perf.$c" --no-children --sort comm,sym --percent-limit 0.7 2>/dev/null |
			sed -e 's/[[:space:]]*$//' -e '/^$/d' | head -n 45 >&2
	done
fi
if [ "${STRACE:-0}" = 1 ]; then
	command -v strace >/dev/null || die "STRACE=1 needs strace"
	for c in $CONFIGS; do
		[ "${c%.o}" = plain ] && continue
		wt=$(for t in /proc/"${PID[$c]}"/task/*; do [ "$(cat "$t/comm")" = hafen-audit ] && basename "$t"; done; true)
		strace -c -w -p "$wt" -o "$dir/strace.$c" &
		sp=$!
		sleep 0.2
		n0=$(sqlite3 "$dir/$c.db" 'SELECT count(*) FROM audit_records' 2>/dev/null || echo 0)
		"${pin_load[@]}" wrk -t1 -c32 -d"${DURATION}s" -s "$dir/post.lua" "https://localhost:${PORT[$c]}/v1/chat/completions" >"$dir/wrk.out" 2>&1
		sleep 0.2
		kill -INT "$sp" 2>/dev/null || true
		wait "$sp" 2>/dev/null || true
		say "syscalls of the writer thread of $c during one 32-connection run of $(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$dir/wrk.out") requests (records before: $n0):"
		cat "$dir/strace.$c" >&2
	done
fi
for c in $CONFIGS; do
	[ "${c%.o}" = plain ] && continue
	n=$(sqlite3 "$dir/$c.db" 'SELECT count(*) FROM audit_records' 2>/dev/null || echo "?")
	echo "records $c $n" >>"$dir/results"
done
"$PY" - "$dir/results" "$DURATION" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
dur = float(sys.argv[2])
recs = {r[1]: r[2] for r in rows if r[0] == "records"}
cfgs = []
for r in rows:
    if r[0] != "records" and r[0] not in cfgs:
        cfgs.append(r[0])
def med(c, n, f):
    v = [f(r) for r in rows if r[0] == c and r[1] == str(n) and int(r[2]) > 0]
    return statistics.median(v) if v else float("nan")
instr = any(len(r) > 7 and int(r[7]) > 0 for r in rows if r[0] != "records")
print("| hafen | req/s at 32 conn | CPU s / 1k req at 32 conn (writer thread) | CPU s / 1k req at 1 conn | p50 / p99 at 1 conn | non-2xx | records |%s"
      % (" k instructions / req at 32 conn |" if instr else ""))
print("|---|---|---|---|---|---|---|%s" % ("---|" if instr else ""))
bases = {}
ibases = {}
for c in cfgs:
    b = "o" if c.endswith(".o") else ""
    base = bases.get(b)
    ibase = ibases.get(b)
    rps = med(c, 32, lambda r: int(r[2]) / dur)
    cpu32 = med(c, 32, lambda r: float(r[3]) / int(r[2]) * 1000)
    cpu1 = med(c, 1, lambda r: float(r[3]) / int(r[2]) * 1000)
    p50 = med(c, 1, lambda r: float(r[4]))
    p99 = med(c, 1, lambda r: float(r[5]))
    bad = sum(int(r[6]) for r in rows if r[0] == c and r[0] != "records")
    rel = ""
    if base:
        rel = " (%.2fx, %+.0f%% CPU)" % (rps / base[0], (cpu32 / base[1] - 1) * 100)
    else:
        bases[b] = (rps, cpu32)
    icol = ""
    if instr:
        ins = med(c, 32, lambda r: int(r[7]) / int(r[2]) / 1000)
        icol = " %.1f%s |" % (ins, " (%+.1f%%)" % ((ins / ibase - 1) * 100) if ibase else "")
        ibases[b] = ibase or ins
    wcpu = med(c, 32, lambda r: float(r[8]) / int(r[2]) * 1000)
    print("| %s | %.0f%s | %.4f (%.4f) | %.4f | %.0f / %.0f µs | %d | %s |%s" % (
        ("no audit" if c.split(".")[0] == "plain" else "audit, " + c.split(".")[0]) + (" (OTHER)" if b else ""), rps, rel, cpu32, wcpu, cpu1, p50, p99, bad, recs.get(c, "-"), icol))
print()
print("load average at the end: %s" % sys.argv[3])
PY
