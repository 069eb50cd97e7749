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
# hafenctl appends event records while a writer runs: the writer picks up
# the new tail inside its next transaction and the chain stays whole.
"$W" "$T/a.db" "$T/a.cp" "$T/k" 100000000 --every 500 --prefix r3 --capture user-1 "secret" >"$T/acks3" 2>/dev/null &
pid=$!
sleep 0.5
"$CTL" subject hold --db "$T/a.db" --key-dir "$T/k" --user user-2 --reason test >/dev/null 2>"$T/err"
h=$?
"$CTL" subject erase --db "$T/a.db" --key-dir "$T/k" --user user-1 >/dev/null 2>>"$T/err"
e=$?
# let the writer commit after the erasure event (bounded wait, no fixed sleep)
after() { sqlite3 "$T/a.db" "SELECT (SELECT max(seq) FROM audit_records WHERE request_id LIKE 'r3-%') > (SELECT max(seq) FROM audit_records WHERE kind = 2)" 2>/dev/null; }
i=0
while [ $i -lt 100 ] && [ "$(after)" != 1 ]; do sleep 0.1; i=$((i+1)); done
kill -9 $pid
wait $pid 2>/dev/null
[ $h = 0 ] && [ $e = 0 ]; ok $? "hold and erasure appended beside a running writer ($(cat "$T/err"))"
out=$("$CTL" audit verify --db "$T/a.db" --checkpoints "$T/a.cp" --key-dir "$T/k")
ok $? "log verifies with events interleaved ($out)"
c=$(sqlite3 "$T/a.db" "SELECT count(*) FROM audit_records WHERE kind IN (2, 4)")
[ "$c" = 2 ]; ok $? "both events are in the chain"
last=$(sqlite3 "$T/a.db" "SELECT max(seq) FROM audit_records WHERE request_id LIKE 'r3-%'")
ev=$(sqlite3 "$T/a.db" "SELECT max(seq) FROM audit_records WHERE kind = 2")
[ "$last" -gt "$ev" ]; ok $? "the writer went on after the erasure (record $last after event $ev)"
echo "1..$n"
exit $fail
