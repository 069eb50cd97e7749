#!/bin/sh
# GDPR Art. 15 / 17 on a real database: a canary captured for one subject
# is readable through `subject export` before erasure; afterwards neither
# the canary nor the wrapped data key is anywhere in the database file or
# its WAL, the erasure is itself recorded, and the chain still verifies.
# Legal holds refuse erasure; retention purges keep the tree verifying.
set -u
: "${top_builddir:=.}"
CTL="$top_builddir/gateway/hafenctl"
W="$top_builddir/tests/audit/audit_writer"
if ! command -v sqlite3 >/dev/null 2>&1; then echo "1..0 # SKIP no sqlite3 CLI"; exit 0; fi
T=$(mktemp -d /tmp/hafen-erase-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
# byte search in the database file and its WAL (binary-safe)
absent() { ! grep -qa -- "$1" "$T/a.db" "$T/a.db-wal" 2>/dev/null; }
hexabsent() { ! od -An -v -tx1 "$T/a.db" "$T/a.db-wal" 2>/dev/null | tr -d ' \n' | grep -q "$1"; }
verify() { "$CTL" audit verify --db "$T/a.db" --checkpoints "$T/a.cp" --key-dir "$T/k"; }

CANARY="CANARY-7f3e9a-Zebra"
"$CTL" audit keygen --dir "$T/k" >/dev/null
"$W" "$T/a.db" "$T/a.cp" "$T/k" 30 --capture user-1 "$CANARY prompt text" >/dev/null 2>&1
ok $? "writer with content capture for user-1"
absent "$CANARY"; ok $? "canary is never stored in plaintext (encrypted at rest)"
"$CTL" subject export --db "$T/a.db" --key-dir "$T/k" --user user-1 >"$T/before.json"
ok $? "subject export"
c=$(grep -c "\"content\": \"$CANARY prompt text\"" "$T/before.json")
[ "$c" = 10 ]; ok $? "export holds the 10 captured records of user-1 decrypted (got $c)"
grep -q '"purpose"' "$T/before.json" && ! grep -q "user-2" "$T/before.json"
ok $? "export holds metadata and nothing of other subjects"
sub=$(sed -n 's/^  "subject": "\(.*\)",$/\1/p' "$T/before.json")
key=$(sqlite3 "$T/a.db" "SELECT lower(hex(wrapped)) FROM audit_subject_keys WHERE subject='$sub'")
[ ${#key} = 120 ]; ok $? "wrapped data key present before erasure"

"$CTL" subject hold --db "$T/a.db" --key-dir "$T/k" --user user-1 --reason "case 2026-17" >/dev/null
ok $? "legal hold placed"
out=$("$CTL" subject erase --db "$T/a.db" --key-dir "$T/k" --user user-1 2>&1)
[ $? = 1 ] && case "$out" in *"legal hold"*) true ;; *) false ;; esac
ok $? "erasure refused under a legal hold ($out)"
"$CTL" subject release --db "$T/a.db" --key-dir "$T/k" --user user-1 >/dev/null
ok $? "legal hold released"

"$CTL" subject erase --db "$T/a.db" --key-dir "$T/k" --user user-1 >/dev/null
ok $? "subject erase"
hexabsent "$key"; ok $? "wrapped key bytes gone from the database file and WAL"
absent "$CANARY"; ok $? "canary absent from the database file and WAL"
"$CTL" subject export --db "$T/a.db" --key-dir "$T/k" --user user-1 >"$T/after.json"
! grep -q "$CANARY" "$T/after.json" && grep -q '"content_status": "erased"' "$T/after.json"
ok $? "export after erasure: content reported erased, canary gone"
c=$(sqlite3 "$T/a.db" "SELECT count(*) FROM audit_records WHERE kind=2")
[ "$c" = 1 ]; ok $? "erasure recorded as an event"
! sqlite3 "$T/a.db" "SELECT hex(body) FROM audit_records WHERE kind=2" | grep -qi "$(printf %s "$sub" | od -An -tx1 | tr -d ' \n' | cut -c1-40)"
ok $? "the erasure event holds no pseudonym"
out=$(verify); ok $? "chain verifies after erasure ($out)"
"$CTL" audit checkpoint --db "$T/a.db" --checkpoints "$T/a.cp" --key-dir "$T/k" && out=$(verify)
ok $? "erasure event signed into a new checkpoint ($out)"

# retention: back-dated records are purged, proofs issued before still hold
"$W" "$T/a.db" "$T/a.cp" "$T/k" 12 --prefix old --t-start 1000000000 >/dev/null 2>&1
"$CTL" audit prove --db "$T/a.db" --checkpoints "$T/a.cp" --id old-2 >"$T/proof.json"
ok $? "proof of a back-dated record"
out=$("$CTL" audit purge --db "$T/a.db" --purpose hr-assistant --days 90 --high-risk 2>&1)
[ $? = 1 ] && case "$out" in *"180"*) true ;; *) false ;; esac
ok $? "high-risk purpose with 90 days refused ($out)"
out=$("$CTL" audit purge --db "$T/a.db" --purpose support --days 30)
[ "$out" = "purged 6 records" ]; ok $? "purge drops the 6 expired support records ($out)"
c=$(sqlite3 "$T/a.db" "SELECT count(*) FROM audit_records WHERE body IS NULL AND leaf IS NOT NULL")
[ "$c" = 6 ]; ok $? "purged rows keep their leaf hashes"
c=$(sqlite3 "$T/a.db" "SELECT count(*) FROM audit_records WHERE kind=3")
[ "$c" = 1 ]; ok $? "purge recorded as an event"
out=$(verify); ok $? "chain verifies after the purge ($out)"
"$CTL" audit verify-proof --proof "$T/proof.json" --key-dir "$T/k" >/dev/null
ok $? "a proof issued before the purge still verifies"
echo "1..$n"
exit $fail
