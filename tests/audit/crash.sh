#!/bin/sh
# kill -9 of a writer under load with `request` durability: afterwards the
# log verifies and every record the writer acknowledged is present.
set -u
: "${top_builddir:=.}"
CTL="$top_builddir/gateway/hafenctl"
W="$top_builddir/tests/audit/audit_writer"
if ! command -v sqlite3 >/dev/null 2>&1; then echo "1..0 # SKIP no sqlite3 CLI"; exit 0; fi
T=$(mktemp -d /tmp/hafen-crash-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
"$CTL" audit keygen --dir "$T/k" >/dev/null
for round in 1 2; do
	"$W" "$T/a.db" "$T/a.cp" "$T/k" 100000000 --every 500 --prefix "r$round" >"$T/acks$round" 2>/dev/null &
	pid=$!
	sleep 1
	kill -9 $pid
	wait $pid 2>/dev/null
	grep '^ack ' "$T/acks$round" | cut -d' ' -f2 | sort >"$T/acked$round"
	a=$(wc -l <"$T/acked$round")
	[ "$a" -gt 100 ]; ok $? "round $round: writer killed under load after $a acknowledged records"
done
out=$("$CTL" audit verify --db "$T/a.db" --checkpoints "$T/a.cp" --key-dir "$T/k")
ok $? "log verifies after two kill -9 ($out)"
sqlite3 "$T/a.db" "SELECT request_id FROM audit_records" | sort >"$T/stored"
missing=$(cat "$T/acked1" "$T/acked2" | sort | comm -23 - "$T/stored" | wc -l)
[ "$missing" = 0 ]; ok $? "every acknowledged record is stored ($missing missing)"
echo "1..$n"
exit $fail
