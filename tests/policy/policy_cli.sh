#!/bin/sh
# hafenctl policy test / lint, run as the real binary.
ctl="$top_builddir/gateway/hafenctl"
packs="$top_srcdir/policies/packs"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

"$ctl" policy lint "$packs/gdpr-default.json" "$packs/secrets.json" "$packs/special-categories.json" > "$tmp/lint.out" 2>&1
ok $? "lint: shipped packs are valid"
grep -q '^policy hash [0-9a-f]\{64\}$' "$tmp/lint.out"
ok $? "lint: prints the set hash"

printf '{"rules":[{"id":"a","entities":["email"],"action":"x"}]}' > "$tmp/bad.json"
"$ctl" policy lint "$tmp/bad.json" > "$tmp/bad.out" 2>&1
ok $([ $? -eq 1 ] && echo 0 || echo 1) "lint: a bad file exits 1"
grep -qx 'bad.json: rules\[0\].action: expected one of redact, pseudonymize, block, classify, flag' "$tmp/bad.out"
ok $? "lint: the error names file, path and what was expected"

"$ctl" policy lint "$packs/secrets.json" "$packs/secrets.json" > "$tmp/dup.out" 2>&1
ok $([ $? -eq 1 ] && echo 0 || echo 1) "lint: the same rule id in two files exits 1"

cat > "$tmp/site.json" <<'JSON'
{
  "name": "site",
  "detectors": [
    { "id": "customers", "entity": "customer", "label": "CUSTOMER", "literals": ["Acme GmbH"] },
    { "id": "projects", "entity": "project_code", "label": "PROJECT", "class": "internal", "pattern": "PRJ-\\d{4}" }
  ],
  "rules": [
    { "id": "site.pseudo", "entities": ["email", "customer"], "action": "pseudonymize" },
    { "id": "site.redact-projects", "entities": ["project_code"], "action": "redact" },
    { "id": "site.block-projects-for-interns", "entities": ["project_code"], "purposes": ["intern"], "action": "block" }
  ]
}
JSON
"$ctl" policy test --policy "$tmp/site.json" --purpose support \
	--text "Acme GmbH asks about PRJ-2024, mail anna.schmidt@example.com or acme gmbh" > "$tmp/test.out"
ok $? "test: runs"
"$PYTHON3" - "$tmp/test.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["text"] == "<CUSTOMER_1> asks about [PROJECT], mail <EMAIL_1> or <CUSTOMER_2>", d["text"]
assert d["decision"]["action"] == "pseudonymize", d["decision"]
assert sorted(d["decision"]["rules_fired"]) == ["site.pseudo", "site.redact-projects"]
assert d["data_class"] == "confidential"
kinds = {(f["type"], f["value"], f["action"], f["rule"]) for f in d["findings"]}
assert ("email", "anna.schmidt@example.com", "pseudonymize", "site.pseudo") in kinds, kinds
assert ("project_code", "PRJ-2024", "redact", "site.redact-projects") in kinds, kinds
assert any(f["detector"] == "customers" for f in d["findings"])
assert len(d["policy_hash"]) == 64
PY
ok $? "test: findings, actions, rules, class and rewritten text"

"$ctl" policy test --policy "$tmp/site.json" --purpose intern --text "see PRJ-2024" > "$tmp/block.out"
"$PYTHON3" - "$tmp/block.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["decision"]["action"] == "block"
assert d["decision"]["block_rule"] == "site.block-projects-for-interns"
assert d["decision"]["block_entity"] == "project_code"
assert d["text"] is None
PY
ok $? "test: block names the rule and the entity, no text"

printf 'Kontakt: anna.schmidt@example.com' > "$tmp/in.txt"
HAFEN_PACKS_DIR="$packs" "$ctl" policy test --file "$tmp/in.txt" > "$tmp/packs.out"
"$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["text"]=="Kontakt: <EMAIL_1>", d' "$tmp/packs.out"
ok $? "test: default packs from HAFEN_PACKS_DIR, text from a file"

"$ctl" policy test --policy "$tmp/site.json" > /dev/null 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "test: no text is a usage error"
"$ctl" policy frobnicate > /dev/null 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "unknown subcommand is a usage error"

echo "1..$n"
exit $fail
