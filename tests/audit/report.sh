#!/bin/sh
# hafenctl audit report / export and report processing on a real log whose
# contents are known (the writer's pattern: even records purpose support /
# tenant sales, odd ones hr-assistant / hr; records 3 and 10 blocked).
set -u
: "${top_builddir:=.}"
CTL="$top_builddir/gateway/hafenctl"
W="$top_builddir/tests/audit/audit_writer"
T=$(mktemp -d /tmp/hafen-report-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
py() { "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

"$CTL" audit keygen --dir "$T/k" >/dev/null
"$W" "$T/a.db" "$T/a.cp" "$T/k" 14 >/dev/null 2>&1
"$CTL" audit report --db "$T/a.db" --from 2000-01-01 --to 2100-01-01 >"$T/r.json"
ok $? "audit report"
v=$(py "d['purposes']['hr-assistant']['tenants']['hr']['requests']" "$T/r.json")
[ "$v" = 7 ]; ok $? "hr-assistant/hr: 7 requests (got $v)"
v=$(py "d['purposes']['support']['tenants']['sales']['blocks_by_rule']['gdpr-art9-health']" "$T/r.json")
[ "$v" = 1 ]; ok $? "support/sales: 1 block by rule gdpr-art9-health (got $v)"
v=$(py "d['purposes']['support']['tenants']['sales']['findings']['EMAIL']" "$T/r.json")
[ "$v" = 14 ]; ok $? "findings summed by type (got $v)"
v=$(py "d['restricted_served_off_premises']" "$T/r.json")
[ "$v" = 0 ]; ok $? "no restricted request served off premises (got $v)"
"$CTL" audit report --db "$T/a.db" --from 2000-01-01 --to 2100-01-01 --purpose support >"$T/s.json"
v=$(py "list(d['purposes'])" "$T/s.json")
[ "$v" = "['support']" ]; ok $? "--purpose filters ($v)"
"$CTL" audit report --db "$T/a.db" --from 2000-01-01 --to 2001-01-01 >"$T/e.json"
v=$(py "len(d['purposes'])" "$T/e.json")
[ "$v" = 0 ]; ok $? "--from/--to window excludes everything outside"
"$CTL" audit report --db "$T/a.db" --from 2000-01-01 --to 2100-01-01 --format csv >"$T/r.csv"
grep -q '^"hr-assistant","hr","requests","","7"' "$T/r.csv"; ok $? "CSV report row"
v=$("$CTL" audit export --db "$T/a.db" | wc -l)
[ "$v" = 14 ]; ok $? "export: 14 JSON lines"
v=$("$CTL" audit export --db "$T/a.db" | "$PYTHON3" -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["kind"]=="request"))')
[ "$v" = 14 ]; ok $? "export lines are JSON records"
v=$("$CTL" audit export --db "$T/a.db" --format csv | "$PYTHON3" -c 'import csv,sys; r=list(csv.DictReader(sys.stdin)); print(len(r), r[3]["decision"])')
[ "$v" = "14 block" ]; ok $? "export CSV parses, record 3 is a block ($v)"
"$CTL" audit report --db "$T/a.db" --from yesterday >/dev/null 2>&1
[ $? = 2 ]; ok $? "bad time is a usage error"

cat >"$T/hafen.json" <<JSON
{ "controller": "Example GmbH",
  "audit": { "database": "$T/a.db", "checkpoints": "$T/a.cp", "signing_key": "$T/k/audit-signing.key" },
  "purposes": { "support": { "description": "customer support answers", "lawful_basis": "contract",
                             "data_classes": ["internal", "confidential"], "retention_days": 90 } } }
JSON
"$CTL" report processing -c "$T/hafen.json" >"$T/p.json"
ok $? "report processing"
v=$(py "d['purposes'][0]['lawful_basis']['value'], d['purposes'][0]['statistics']['requests'], d['purposes'][0]['transfer_basis']['value']" "$T/p.json")
[ "$v" = "contract 7 (not declared)" ]; ok $? "Art. 30 fields from config plus live statistics ($v)"
out=$("$CTL" audit verify -c "$T/hafen.json")
ok $? "verify with -c hafen.json ($out)"
echo "1..$n"
exit $fail
