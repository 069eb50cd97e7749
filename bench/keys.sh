#!/usr/bin/env bash
# Key benchmark: does a key store of 10,000 keys cost request throughput?
#
#   bench/keys.sh [BUILD_DIR]      (default: build/ in the checkout)
#
# Three hafen processes (1 worker, TLS, same config otherwise: purposes on,
# usage accounting on, each into its own file, no policy, no audit, access
# log off) in front of the same mock upstream,
# measured in one run, interleaved per round so that drift on this shared
# machine hits them alike:
#   config   the key is a static config key (the peer)
#   store    the key is one of 10,001 keys in the key store
#   limits   the same store key with rpm, tpm and concurrency limits set
#            high enough never to refuse (the cost of the striped counters
#            and the usage parse of each answer)
# Each: req/s at 32 connections (wrk -t1 -c32, POST chat completion),
# median of RUNS. Prints a Markdown section for docs/benchmarks.md on
# stdout with the load average before and after; progress on stderr.
# Environment: RUNS (5), DURATION (seconds per wrk run, 5), NKEYS (10000).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
NKEYS=${NKEYS:-10000}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
MOCK=$build/tests/mock-upstream
HAFEN=$build/gateway/hafen
CTL=$build/gateway/hafenctl

. "$top/bench/lib.sh"
bench_name=bench/keys.sh
command -v wrk >/dev/null || die "needs wrk (apt-get install wrk)"
for b in "$MOCK" "$HAFEN" "$CTL"; do [ -x "$b" ] || die "no $b: build first"; done

bench_init bench/keys.sh hafen-bench-keys
bench_certs

"$MOCK" --quiet --port-file "$dir/mock.port" >"$dir/mock.log" 2>&1 &
pids+=("$!")
wait_for test -s "$dir/mock.port" || die "mock upstream did not start"
MOCK_PORT=$(cat "$dir/mock.port")

# hafen_config NAME EXTRA: a config file for one target.
CKEY="hk-bench-$(openssl rand -hex 16)"
CKEY_SHA=$(printf '%s' "$CKEY" | openssl dgst -sha256 -r | cut -d' ' -f1)
hafen_config() {
	local port admin
	port=$(free_port)
	admin=$(free_port)
	echo "$port" >"$dir/$1.port"
	cat >"$dir/$1.json" <<EOF
{"workers": 1,
 "listeners": [{"address": "127.0.0.1", "port": $port,
   "tls": {"certificates": [{"cert": "$dir/server.pem", "key": "$dir/server.key"}], "client_auth": "none"}}],
 "admin": {"address": "127.0.0.1", "port": $admin},
 "upstreams": [{"name": "engine", "url": "http://127.0.0.1:$MOCK_PORT", "max_idle_connections": 64}],
 "keys": [{"name": "bench", "tenant": "bench", "purpose": "chat", "sha256": "$CKEY_SHA"}],
 "purposes": {"chat": {"description": "bench", "lawful_basis": "legitimate_interests",
   "data_classes": ["public", "internal", "confidential"], "retention_days": 30}},
 "access_log": "off"$2}
EOF
}

# ---- the store: NKEYS random digests plus the two keys we send ----
hafen_config config ", \"usage_store\": \"$dir/usage-config.db\""
hafen_config store ", \"key_store\": \"$dir/keys.db\", \"usage_store\": \"$dir/usage-store.db\""
hafen_config limits ", \"key_store\": \"$dir/keys.db\", \"usage_store\": \"$dir/usage-limits.db\""
SKEY=$("$CTL" key create --config "$dir/store.json" --name bench-store --tenant bench --purpose chat 2>/dev/null)
LKEY=$("$CTL" key create --config "$dir/store.json" --name bench-limits --tenant bench --purpose chat \
	--rpm 100000000 --tpm 100000000000 --concurrency 100000 2>/dev/null)
"$PY" - "$dir/keys.db" "$NKEYS" <<'EOF'
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
db.executemany("INSERT INTO keys(name, tenant, purpose, sha256, created) VALUES(?, ?, ?, ?, ?)",
               (("bulk%05d" % i, "t%d" % (i % 50), "chat", os.urandom(32), now) for i in range(int(sys.argv[2]))))
db.commit()
EOF
nkeys=$("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from keys").fetchone()[0])' "$dir/keys.db")
say "key store: $nkeys keys"

targets=(config store limits)
declare -A key_of=([config]=$CKEY [store]=$SKEY [limits]=$LKEY)
for t in "${targets[@]}"; do
	"$HAFEN" -c "$dir/$t.json" >"$dir/$t.log" 2>&1 &
	pids+=("$!")
	wait_for curl -sf --cacert "$dir/ca.pem" -H "Authorization: Bearer ${key_of[$t]}" \
		"https://localhost:$(cat "$dir/$t.port")/v1/models" || die "hafen ($t) did not start: $(tail -5 "$dir/$t.log")"
	cat >"$dir/$t.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"model":"mock-model","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Please summarise the minutes of the Tuesday meeting in three sentences."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${key_of[$t]}"
EOF
done
grep -h "live keys loaded" "$dir"/store.log >&2 || true

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "req/s at 32 connections: $RUNS rounds of ${DURATION}s per target (load average $load_before)"
: >"$dir/results.txt"
for r in $(seq 1 "$RUNS"); do
	for t in "${targets[@]}"; do
		out=$(wrk -t1 -c32 -d"${DURATION}s" -s "$dir/$t.lua" "https://localhost:$(cat "$dir/$t.port")/v1/chat/completions" 2>&1)
		rps=$(printf '%s\n' "$out" | awk '/Requests\/sec:/ { print $2 }')
		bad=$(printf '%s\n' "$out" | awk '/Non-2xx/ { print $5 }')
		echo "$t ${rps:-nan} ${bad:-0}" >>"$dir/results.txt"
	done
	say "round $r done"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
sleep 1.5 # one usage flush
usage_rows=$("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select coalesce(sum(requests),0) from usage").fetchone()[0])' "$dir/usage-limits.db")

"$PY" - "$dir/results.txt" "$RUNS" "$DURATION" "$nkeys" "$load_before" "$load_after" "$usage_rows" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
runs, dur, nkeys, lb, la, usage = sys.argv[2:]
by = {}
bad = {}
for t, rps, b in rows:
    by.setdefault(t, []).append(float(rps))
    bad[t] = bad.get(t, 0) + int(b)
base = statistics.median(by["config"])
names = {"config": "static config key (peer)", "store": "one of %s store keys" % nkeys,
         "limits": "store key with rpm/tpm/concurrency limits"}
print("| key | req/s at 32 conns (median of %s x %s s) | all runs | vs. config key | non-2xx |" % (runs, dur))
print("|---|---|---|---|---|")
for t in ("config", "store", "limits"):
    m = statistics.median(by[t])
    print("| %s | %.0f | %s | %+.1f%% | %d |" % (names[t], m, " ".join("%.0f" % v for v in by[t]),
          100 * (m - base) / base, bad[t]))
print()
print("Load average (1, 5, 15 min) before: %s, after: %s. Requests counted in the usage table of the limits target: %s." % (lb, la, usage))
EOF
