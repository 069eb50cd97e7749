#!/bin/sh
# Logits of a model loaded as a file mapping (--load mmap: the standard
# Q4_0 layout) and as a copy (--load copy: matrices repacked into 16-row
# groups, docs/engine-kernels.md "Repacked Q4_0") are the same bytes, at
# every SIMD level the CPU has, for batched prefill (the integer GEMM) and
# token-by-token decoding, on models whose rows have a main loop of 8
# blocks and a tail (small preset) and matrices with rows past the last
# 16-row group.  TAP output.
set -u
B=${top_builddir:-.}
E=$B/engine/hafen-engine
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
TOKS=3,17,91,200,5,77,140,33,8,250,19,64,120,7,99,180,42,11,230,60
for m in "olmoe small" "qwen3moe small" "llama tiny"; do
	set -- $m
	f=$T/$1-$2.gguf
	if ! "$E" make-model --arch "$1" --preset "$2" --type q4_0 -o "$f" >/dev/null 2>"$T/err"; then
		ok 1 "make-model $1 $2 q4_0: $(cat "$T/err")"
		continue
	fi
	for simd in scalar avx2 avx512; do
		if ! "$E" logits -m "$f" --tokens "$TOKS" -o "$T/mmap.bin" --threads 2 --split 12 --simd $simd \
			--load mmap 2>"$T/err"; then
			if grep -q 'not supported by this CPU' "$T/err"; then
				echo "ok $((n = n + 1)) # SKIP $1 $2 $simd: not on this CPU"
			else
				ok 1 "$1 $2 $simd mmap: $(cat "$T/err")"
			fi
			continue
		fi
		"$E" logits -m "$f" --tokens "$TOKS" -o "$T/copy.bin" --threads 2 --split 12 --simd $simd --load copy \
			2>"$T/err"
		cmp -s "$T/mmap.bin" "$T/copy.bin"
		ok $? "$1 $2 q4_0 $simd: prefill + decode logits, mmap == copy (repacked), bit for bit"
	done
done
echo "1..$n"
[ "$fail" -eq 0 ]
