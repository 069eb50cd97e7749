#!/bin/sh
# Engine benchmark: the machine's read bandwidth (bench/stream) next to
# hafen-engine's prefill and decode speed on a random-weight model in the
# shape of OLMoE-1B-7B (Q4_0), and decode as a fraction of the bandwidth
# bound (bandwidth / weight bytes read per token), and the dot-product kernel
# alone (bench/qdot) in GB/s per core.  The model (~3.9 GB) is
# generated into a temporary folder and deleted afterwards; never commit it.
#
# usage: bench/engine.sh [BUILDDIR]     (env: THREADS=2 PROMPT=128 GEN=32 REPS=3
#                                         PRESET=olmoe-1b-7b TYPE=q4_0 MODEL=path-to-reuse)
set -eu
builddir=${1:-${top_builddir:-build}}
engine=$builddir/engine/hafen-engine
stream=$builddir/bench/stream
THREADS=${THREADS:-2}
PROMPT=${PROMPT:-128}
GEN=${GEN:-32}
REPS=${REPS:-3}
PRESET=${PRESET:-olmoe-1b-7b}
TYPE=${TYPE:-q4_0}
PY=${PYTHON3:-/usr/bin/python3}
for b in "$engine" "$stream"; do
	[ -x "$b" ] || { echo "bench/engine.sh: $b not built (make -C $builddir)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
model=${MODEL:-}
if [ -z "$model" ]; then
	model=$tmp/$PRESET-$TYPE.gguf
	echo "# generating $PRESET ($TYPE) ..." >&2
	"$engine" make-model --arch olmoe --preset "$PRESET" --type "$TYPE" -o "$model"
fi

# the machine is shared: the load average goes with every row
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
bw=$("$stream" --threads "$THREADS" --mb 2048 --reps 5)
res=$("$engine" bench -m "$model" -p "$PROMPT" -n "$GEN" --threads "$THREADS" --reps "$REPS")
bw2=$("$stream" --threads "$THREADS" --mb 2048 --reps 5)
echo "$bw"
echo "$res"
echo "$bw2"
# the decode kernel alone, per core (CPU time, so less sensitive to load)
qd=$([ -x "$builddir/bench/qdot" ] && "$builddir/bench/qdot" --type "$TYPE" --mb 256 --reps 3 2>/dev/null || echo '{}')
echo "$qd"
"$PY" - "$bw" "$res" "$bw2" "$qd" <<'PYEOF'
import json, sys
b1, r, b2 = (json.loads(a) for a in sys.argv[1:4])
# qdot prints one line per kernel family (q4_0: a second line for the
# repacked 16-row kernel); merge them
q = {}
for line in (sys.argv[4] or '{}').splitlines():
    q.update(json.loads(line))
gbs = max(b1['read_gb_s'], b2['read_gb_s'])
bound = gbs * 1e9 / r['active_bytes_per_token']
print('| threads | read GB/s | prefill tok/s (%d) | decode tok/s | active MB/token | decode GB/s | bound tok/s | fraction of bound |'
      % r['n_prompt'])
print('|---|---|---|---|---|---|---|---|')
print('| %d | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f | %.0f%% |' % (
    r['threads'], gbs, r['prefill_tok_s'], r['decode_tok_s'], r['active_bytes_per_token'] / 1e6,
    r['decode_gb_s'], bound, 100 * r['decode_tok_s'] / bound))
if 'load_s' in r:
    d = r.get('decode_ms_per_token', {})
    print()
    print('model loaded by %s%s in %.1f s; decode per token: %.1f ms CPU, %.1f page faults; '
          'attention %.1f ms, FFN %.1f ms, head %.1f ms, in parallel regions %.1f ms (their tails %.1f ms)' % (
              r['load'], ' (copied)' if r.get('copied') else ' (mapped)', r['load_s'],
              r.get('decode_cpu_ms_per_token', 0), r.get('decode_faults_per_token', 0),
              d.get('attention', 0), d.get('ffn', 0), d.get('head', 0), d.get('in_regions', 0),
              d.get('region_tails', 0)))
if q.get('mem_gb_s'):
    print()
    print('kernel alone (bench/qdot, one thread, GB/s of weights per CPU second): '
          'one row %.1f in L2, %.1f from memory; %s; plain read loop %.1f' % (
              q['l2_gb_s'], q['mem_gb_s'],
              '4 rows per pass (decode) %.1f in L2, %.1f from memory' % (q['rows_l2_gb_s'], q['rows_mem_gb_s'])
              if q.get('rows_mem_gb_s') else 'no 4-row kernel', q['read_gb_s']))
    if q.get('rows_mem_huge_gb_s'):
        print('on 2 MiB pages: 4 rows per pass %.1f from memory; plain read loop %.1f' % (
            q['rows_mem_huge_gb_s'], q['read_huge_gb_s']))
    if q.get('x16_mem_gb_s'):
        t = q['two_threads_huge']
        print('repacked 16-row groups (what a copied model decodes with; results %s the 4-row kernel\'s): '
              '%.1f in L2, %.1f from memory, %.1f on 2 MiB pages; two threads on 2 MiB pages (wall clock): '
              'repacked %.1f, 4 rows per pass %.1f, plain read loop %.1f' % (
                  'identical to' if q['x16_same_as_rows'] else 'DIFFERENT from', q['x16_l2_gb_s'], q['x16_mem_gb_s'],
                  q['x16_mem_huge_gb_s'], t['x16_gb_s'], t['rows_gb_s'], t['read_gb_s']))
PYEOF
