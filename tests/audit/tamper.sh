#!/bin/sh
# Tamper tests on real SQLite files: every change listed in the audit
# issue must make `hafenctl audit verify` exit non-zero and name the first
# bad record. Tampering uses the sqlite3 CLI; hashes use $PYTHON3.
set -u
: "${top_builddir:=.}"
CTL="$top_builddir/gateway/hafenctl"
W="$top_builddir/tests/audit/audit_writer"
if ! command -v sqlite3 >/dev/null 2>&1; then echo "1..0 # SKIP no sqlite3 CLI"; exit 0; fi
T=$(mktemp -d /tmp/hafen-tamper-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

"$CTL" audit keygen --dir "$T/k" >/dev/null || { echo "1..0 # SKIP keygen failed"; exit 1; }
mkdir "$T/pub" && cp "$T/k/audit-signing.pub" "$T/pub/"
"$W" "$T/base.db" "$T/base.cp" "$T/k" 40 --every 8 >/dev/null 2>&1
sqlite3 "$T/base.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

# fresh copy of the clean log into case $1
fresh() { cp "$T/base.db" "$T/$1.db"; cp "$T/base.cp" "$T/$1.cp"; }
# verify case $1 with only the public key; expect failure matching $2
expect_fail() {
	out=$("$CTL" audit verify --db "$T/$1.db" --checkpoints "$T/$1.cp" --pubkey "$T/pub/audit-signing.pub" 2>&1)
	rc=$?
	case "$out" in *"$2"*) m=0 ;; *) m=1 ;; esac
	[ $rc = 1 ] && [ $m = 0 ]; r=$?
	ok $r "$1: detected ($out)"
}
hexof() { sqlite3 "$T/$1.db" "SELECT hex(body) FROM audit_records WHERE seq=$2"; }
leafof() { printf '%s' "$1" | "$PYTHON3" -c 'import sys,hashlib; print(hashlib.sha256(b"\0"+bytes.fromhex(sys.stdin.read())).hexdigest())'; }

out=$("$CTL" audit verify --db "$T/base.db" --checkpoints "$T/base.cp" --pubkey "$T/pub/audit-signing.pub")
ok $? "clean log verifies with only the public key ($out)"

# 1. a modified field (tenant 'sales' -> 'salez' in record 6)
fresh modified
h=$(hexof modified 6 | sed 's/73616C6573/73616C657A/')
sqlite3 "$T/modified.db" "UPDATE audit_records SET body = X'$h' WHERE seq=6"
expect_fail modified "first bad record 6: record 6: content does not match its leaf hash"

# 1b. modified field with its leaf recomputed: the chain names it
fresh releafed
h=$(hexof releafed 6 | sed 's/73616C6573/73616C657A/')
l=$(leafof "$h")
sqlite3 "$T/releafed.db" "UPDATE audit_records SET body = X'$h', leaf = X'$l' WHERE seq=6"
expect_fail releafed "first bad record 6: record 7: chain link to record 6 broken"

# 2. a deleted record
fresh deleted
sqlite3 "$T/deleted.db" "DELETE FROM audit_records WHERE seq=10"
expect_fail deleted "first bad record 10: record 10: missing"

# 3. a reordered pair
fresh reordered
sqlite3 "$T/reordered.db" "UPDATE audit_records SET seq=-1 WHERE seq=3; UPDATE audit_records SET seq=3 WHERE seq=4; UPDATE audit_records SET seq=4 WHERE seq=-1;"
expect_fail reordered "first bad record 3: record 3: holds record 4"

# 4. an inserted record (a replay of record 11 slipped in at 12)
fresh inserted
sqlite3 "$T/inserted.db" "UPDATE audit_records SET seq=seq+1000000 WHERE seq>=12; UPDATE audit_records SET seq=seq-1000000+1 WHERE seq>=1000000; INSERT INTO audit_records SELECT 12, leaf, body, kind, request_id, subject, purpose, data_class, t_start FROM audit_records WHERE seq=11;"
expect_fail inserted "first bad record 12: record 12: holds record 11"

# 4b. a forged record appended after the last checkpoint
fresh appended
sqlite3 "$T/appended.db" "INSERT INTO audit_records SELECT 40, leaf, body, kind, 'forged', subject, purpose, data_class, t_start FROM audit_records WHERE seq=0;"
expect_fail appended "first bad record 40: record 40: holds record 0"

# 5. a truncated tail
fresh truncated
sqlite3 "$T/truncated.db" "DELETE FROM audit_records WHERE seq>=30"
expect_fail truncated "first bad record 30: the database holds 30 records but checkpoint"

# 6. the database replaced by an older copy
fresh older
"$W" "$T/older.db" "$T/older.cp" "$T/k" 20 --prefix later >/dev/null 2>&1
cp "$T/base.db" "$T/older.db"; rm -f "$T/older.db-wal" "$T/older.db-shm"
expect_fail older "tail truncated or database replaced by an older copy"

# 7. a forged checkpoint: a bigger size under the old signature
fresh forged
sed '$ s/^hafen-checkpoint v1 40 /hafen-checkpoint v1 41 /' "$T/base.cp" >"$T/forged.cp"
expect_fail forged "checkpoint signature invalid"

# 7b. a checkpoint signed by another key
fresh otherkey
"$CTL" audit keygen --dir "$T/k2" >/dev/null
sqlite3 "$T/otherkey.db" "INSERT INTO audit_records SELECT 40, leaf, body, kind, 'x', subject, purpose, data_class, t_start FROM audit_records WHERE seq=0;"
"$CTL" audit checkpoint --db "$T/otherkey.db" --checkpoints "$T/otherkey.cp" --key-dir "$T/k2" >/dev/null 2>&1
expect_fail otherkey "checkpoint signature invalid"

# 8. a purged record's leaf altered (body gone, leaf is all that is left)
fresh purgedleaf
sqlite3 "$T/purgedleaf.db" "UPDATE audit_records SET body=NULL WHERE seq=39; UPDATE audit_records SET leaf=X'$(printf '%064d' 0)' WHERE seq=39"
expect_fail purgedleaf "root does not match"

# 8b. an unhashed lookup column changed (hides a record from subject export)
fresh lookup
sqlite3 "$T/lookup.db" "UPDATE audit_records SET subject='0000' WHERE seq=5"
expect_fail lookup "first bad record 5: record 5: a lookup column"

# 8c. the writer refuses to extend a log that no longer matches its checkpoint
out=$("$W" "$T/releafed.db" "$T/releafed.cp" "$T/k" 1 2>&1)
[ $? = 1 ] && case "$out" in *"does not match the last checkpoint"*) true ;; *) false ;; esac
ok $? "writer refuses to open a log rewritten under its last checkpoint"
out=$("$W" "$T/truncated.db" "$T/truncated.cp" "$T/k" 1 2>&1)
[ $? = 1 ] && case "$out" in *"truncated or replaced by an older copy"*) true ;; *) false ;; esac
ok $? "writer refuses to open a truncated log"

# 9. inclusion proof, and a proof that lies
"$CTL" audit prove --db "$T/base.db" --checkpoints "$T/base.cp" --id req-17 >"$T/proof.json"
ok $? "prove --id req-17"
out=$("$CTL" audit verify-proof --proof "$T/proof.json" --pubkey "$T/pub/audit-signing.pub")
ok $? "verify-proof with the public key only ($out)"
sed 's/"leaf_index": 17/"leaf_index": 18/' "$T/proof.json" >"$T/bad.json"
"$CTL" audit verify-proof --proof "$T/bad.json" --pubkey "$T/pub/audit-signing.pub" >/dev/null 2>&1
[ $? = 1 ]; ok $? "a proof with the wrong index is rejected"
"$CTL" audit prove --db "$T/base.db" --checkpoints "$T/base.cp" --id nope >/dev/null 2>&1
[ $? = 1 ]; ok $? "prove of an unknown id fails"

echo "1..$n"
exit $fail
