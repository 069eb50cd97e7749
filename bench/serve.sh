#!/bin/sh
# Engine server benchmark: decode speed through `hafen-engine serve` (SSE
# streaming over loopback HTTP) next to `hafen-engine bench` on the same
# model in the same run, for one stream and for PAR concurrent streams
# (--parallel PAR: the slots decode together, one forward pass per step for
# all of them, so the aggregate should exceed the single-stream speed).  The
# random-weight model is generated into a temporary folder.
#
# usage: bench/serve.sh [BUILDDIR]   (env: PRESET=small TYPE=q4_0 ARCH=olmoe
#                                     THREADS=2 GEN=64 PAR=2 MODEL=path-to-reuse)
set -eu
builddir=${1:-${top_builddir:-build}}
engine=$builddir/engine/hafen-engine
PRESET=${PRESET:-small}
TYPE=${TYPE:-q4_0}
ARCH=${ARCH:-olmoe}
THREADS=${THREADS:-2}
GEN=${GEN:-64}
PAR=${PAR:-2}
PY=${PYTHON3:-/usr/bin/python3}
[ -x "$engine" ] || { echo "bench/serve.sh: $engine not built" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
model=${MODEL:-}
if [ -z "$model" ]; then
	model=$tmp/$ARCH-$PRESET-$TYPE.gguf
	"$engine" make-model --arch "$ARCH" --preset "$PRESET" --type "$TYPE" -o "$model" >/dev/null
fi

peer=$("$engine" bench -m "$model" -p 16 -n "$GEN" --threads "$THREADS" --reps 3)
"$engine" serve -m "$model" --port 0 --threads "$THREADS" --parallel "$PAR" --ctx $((GEN + 64)) 2>"$tmp/err" &
pid=$!
port=
while [ -z "$port" ]; do
	sleep 0.1
	port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/err")
done
"$PY" - "$port" "$GEN" "$PAR" "$peer" <<'PYEOF'
import json, sys, threading, time, urllib.request
port, gen, par, peer = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
url = 'http://127.0.0.1:%d/v1/completions' % port

def stream(res, i):
    body = json.dumps({'prompt': 'Es war einmal %d' % i, 'max_tokens': gen, 'temperature': 0,
                       'stream': True, 'stream_options': {'include_usage': True}}).encode()
    t0 = time.monotonic()
    first = None
    n = 0
    with urllib.request.urlopen(urllib.request.Request(url, body, {'Content-Type': 'application/json'})) as r:
        for line in r:
            if line.startswith(b'data: {'):
                e = json.loads(line[6:])
                if e.get('usage'):
                    n = e['usage']['completion_tokens']
                elif first is None:
                    first = time.monotonic()
    res[i] = (n, first - t0, time.monotonic() - t0)

def run(k):
    res = [None] * k
    ts = [threading.Thread(target=stream, args=(res, i)) for i in range(k)]
    t0 = time.monotonic()
    for t in ts: t.start()
    for t in ts: t.join()
    return res, time.monotonic() - t0

run(1)  # warm-up
one, t1 = run(1)
many, tk = run(par)
n1 = one[0][0]
nk = sum(r[0] for r in many)
print('peer  hafen-engine bench: decode %.1f tok/s' % peer['decode_tok_s'])
print('serve 1 stream:  %d tokens in %.3f s = %.1f tok/s (first event after %.1f ms)' % (n1, t1, n1 / t1, one[0][1] * 1e3))
print('serve %d streams: %d tokens in %.3f s = %.1f tok/s aggregate, %.1f per stream' % (par, nk, tk, nk / tk, nk / tk / par))
PYEOF
