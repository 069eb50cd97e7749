#!/bin/sh
# hafenctl report aiact on a real audit log whose records are known
# (tests/audit/aiact_writer.c has the table): Art. 5 blocks by letter,
# Annex III point 4 flags and blocks, overrides, kill-switch events with
# who pulled them, the high-risk preconditions per purpose from hafen.json,
# the --from/--to window, the table format and the --audit-config form.
set -u
: "${top_builddir:=.}"
CTL="$top_builddir/gateway/hafenctl"
W="$top_builddir/tests/audit/aiact_writer"
T=$(mktemp -d /tmp/hafen-aiact-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
py() { "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); P={p['purpose']: p for p in d['purposes']}; print($1)" "$2"; }

"$CTL" audit keygen --dir "$T/k" >/dev/null
"$W" "$T/a.db" "$T/a.cp" "$T/k"
ok $? "12 records written through the audit log"
cat >"$T/hafen.json" <<JSON
{ "audit": { "database": "$T/a.db", "checkpoints": "$T/a.cp", "signing_key": "$T/k/audit-signing.key" },
  "purposes": {
    "chat": { "description": "assistant", "retention_days": 30 },
    "support": { "risk": "limited", "retention_days": 90 },
    "hr-recruiting": { "area": "recruitment", "retention_days": 365,
      "high_risk": { "enabled": true, "workers_informed": "2026-01-15", "overseer": "Dr. Weber" } },
    "hr-perf": { "area": "performance_monitoring", "retention_days": 90,
      "high_risk": { "enabled": false, "workers_informed": "2026-01-15" } } } }
JSON
"$CTL" report aiact --config "$T/hafen.json" --from 2020-01-01 --to 2100-01-01 >"$T/r.json"
ok $? "report aiact (json)"
v=$(py "sorted(d['totals']['art5_blocks'].items())" "$T/r.json")
[ "$v" = "[('c', 1), ('f', 2), ('g', 1)]" ]; ok $? "Art. 5 blocks by letter in the window: c=1 f=2 g=1 ($v)"
v=$(py "P['chat']['art5_blocks']['f'], P['chat']['art5_blocks']['c'], P['chat']['requests']" "$T/r.json")
[ "$v" = "2 1 5" ]; ok $? "chat: f=2, c=1 of 5 requests ($v)"
v=$(py "d['totals']['annex3_4']['flagged'], d['totals']['annex3_4']['blocked'], P['support']['annex3_4']" "$T/r.json")
[ "$v" = "1 1 {'flagged': 1, 'blocked': 1}" ]; ok $? "Annex III point 4: one flagged, one blocked ($v)"
v=$(py "d['totals']['overrides'], sorted(d['totals']['overrides_by_rule'].items()), P['hr-recruiting']['overrides']" "$T/r.json")
[ "$v" = "2 [('aiact-5-1-b', 1), ('aiact-annex3-4', 1)] 1" ]; ok $? "overrides: an AI Act rule fired, no block ($v)"
v=$(py "[(e['action'], e.get('upstream', e.get('model')), e['by']) for e in d['oversight_events']], d['totals']['oversight']" "$T/r.json")
[ "$v" = "[('kill', 'gpu-a', 'alice'), ('release', 'qwen', 'bob')] {'kill': 1, 'release': 1}" ]
ok $? "kill-switch events with target and who ($v)"
v=$(py "P['hr-recruiting']['high_risk'], P['hr-recruiting']['preconditions']['met'], P['hr-recruiting']['preconditions']['overseer']" "$T/r.json")
[ "$v" = "True True Dr. Weber" ]; ok $? "hr-recruiting: high-risk (Annex III 4), preconditions met ($v)"
v=$(py "P['hr-perf']['preconditions']['met'], [m['name'] for m in P['hr-perf']['preconditions']['missing']]" "$T/r.json")
[ "$v" = "False ['enabled', 'overseer', 'retention_days']" ]; ok $? "hr-perf: not met, names what is missing ($v)"
v=$(py "P['chat']['risk'], P['chat']['high_risk'], P['chat']['preconditions'], P['support']['risk'], P['support']['high_risk']" "$T/r.json")
[ "$v" = "minimal False {'required': False} limited False" ]; ok $? "chat and support: not high-risk, nothing required ($v)"
v=$(py "P['legacy']['in_config'], P['legacy']['art5_blocks']" "$T/r.json")
[ "$v" = "False {'g': 1}" ]; ok $? "a purpose only in the log is reported too ($v)"
"$CTL" report aiact --config "$T/hafen.json" >"$T/all.json"
v=$(py "d['totals']['art5_blocks'].get('a')" "$T/all.json")
[ "$v" = 1 ]; ok $? "without a window the 2001 record counts (a=$v)"
"$CTL" report aiact --config "$T/hafen.json" --from 2020-01-01 --format table >"$T/r.txt"
ok $? "report aiact --format table"
grep -q "Art. 5(1) blocks by letter: a=0 b=0 c=1 d=0 e=0 f=2 g=1" "$T/r.txt"; ok $? "table: blocks by letter"
grep -Eq "^hr-perf .*NOT MET: enabled overseer retention_days" "$T/r.txt"; ok $? "table: unmet preconditions named"
grep -q "kill upstream=gpu-a by=alice" "$T/r.txt"; ok $? "table: kill-switch event with who"
printf '{ "purposes": { "chat": {} } }\n' >"$T/p.json"
"$CTL" report aiact --audit-config "$T/hafen.json" --config "$T/p.json" --from 2020-01-01 >"$T/ac.json"
v=$(py "[p['purpose'] for p in d['purposes']][0], d['totals']['art5_blocks']['f']" "$T/ac.json")
[ "$v" = "chat 2" ]; ok $? "--audit-config names the log, --config the purposes ($v)"
"$CTL" report aiact --db "$T/a.db" --format xml >/dev/null 2>&1
[ $? = 2 ]; ok $? "unknown format: usage error"
"$CTL" report aiact --config "$T/p.json" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "no audit database" "$T/err"; ok $? "no log named: a clear error"
echo "1..$n"
exit $fail
