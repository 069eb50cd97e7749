#!/bin/sh
# docs/compliance.md must not rot: every file a row of its tables names
# exists, every test file it cites is registered with `make check` (TESTS
# or FUZZ_TARGETS in a *.am fragment), and every quoted test name appears
# in the file cited before it. A quoted name is the TAP name as it prints;
# "…" stands for a part made at run time (a number, a letter, a prefix),
# and each literal piece between must be in the test's source. Rows marked
# "(in progress)" may cite what is not in the tree yet (the map's own
# convention) and are only listed. A doctored copy of the map with a made-up
# name must fail, so the check itself can fail.
set -u
: "${PYTHON3:=python3}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/check.py" <<'PY'
import glob, os, re, sys

top, doc_path = sys.argv[1], sys.argv[2]
PATH_RE = re.compile(r'(?<![\w/.-])((?:tests|bench|policies|gateway|engine|docs|contrib|tools)/[\w/.-]*[\w/])')
QUOTE_RE = re.compile(r'"([^"]*)"')

registered = ""
for am in glob.glob(os.path.join(top, "*.am")) + glob.glob(os.path.join(top, "*", "*.am")):
    registered += open(am, encoding="utf-8").read() + "\n"

def cells(line):
    return [c.strip() for c in re.split(r'(?<!\\)\|', line.strip().strip('|'))]

problems, rows, names, pending = [], 0, 0, 0
for no, line in enumerate(open(doc_path, encoding="utf-8"), 1):
    if not line.startswith("| Art."):
        continue
    rows += 1
    c = cells(line)
    where = "line %d (%s)" % (no, c[0])
    if len(c) != 4 or not c[3]:
        problems.append("%s: expected 4 cells with evidence" % where)
        continue
    in_progress = "(in progress)" in line
    pending += in_progress
    for cell in c[:3]:
        for p in PATH_RE.findall(cell):
            if not os.path.exists(os.path.join(top, p)) and not in_progress:
                problems.append("%s: %s does not exist" % (where, p))
    # Evidence: each quoted name belongs to the last path before it.
    ev = c[3]
    tokens = sorted([(m.start(), "path", m.group(1)) for m in PATH_RE.finditer(ev)] +
                    [(m.start(), "name", m.group(1)) for m in QUOTE_RE.finditer(ev)])
    current = None
    for _, kind, val in tokens:
        if kind == "path":
            current = val
            full = os.path.join(top, val)
            if not os.path.exists(full):
                if not in_progress:
                    problems.append("%s: %s does not exist" % (where, val))
                current = None
                continue
            base = re.sub(r'\.c$', '', val)
            if val.startswith("tests/") and os.path.isfile(full) and base not in registered:
                problems.append("%s: %s is not registered in any *.am fragment (make check would not run it)"
                                % (where, val))
            continue
        if current is None:
            if not in_progress:
                problems.append("%s: the name \"%s\" follows no existing test file" % (where, val))
            continue
        full = os.path.join(top, current)
        if os.path.isdir(full):
            problems.append("%s: the name \"%s\" follows a folder (%s)" % (where, val, current))
            continue
        src = open(full, encoding="utf-8", errors="replace").read()
        names += 1
        pieces = [p.strip() for p in val.split("\u2026") if p.strip()]
        missing = [p for p in pieces if p not in src]
        if not pieces or missing:
            problems.append("%s: %s has no test named \"%s\" (missing: %s)" % (where, current, val,
                            "; ".join(missing) or "an empty name"))
for p in problems:
    print("# " + p)
print("# %d rows, %d quoted test names checked, %d rows marked (in progress)" % (rows, names, pending))
sys.exit(1 if problems or rows == 0 or names == 0 else 0)
PY
echo "1..3"
if out=$("$PYTHON3" "$tmp/check.py" "$top_srcdir" "$top_srcdir/docs/compliance.md" 2>&1); then
	echo "ok 1 - docs/compliance.md: every cited file exists and is run by make check, every quoted test name exists"
else
	echo "not ok 1 - docs/compliance.md: every cited file exists and is run by make check, every quoted test name exists"
fi
printf '%s\n' "$out"
# The check can fail: a made-up name and a missing file in a copy.
sed -e 's/"hafen -t: a purpose without a lawful basis is refused"/"hafen -t: a purpose without a lawful basis is welcomed"/' \
	-e 's#tests/audit/erase.sh#tests/audit/erase-nothing.sh#' "$top_srcdir/docs/compliance.md" >"$tmp/doctored.md"
out=$("$PYTHON3" "$tmp/check.py" "$top_srcdir" "$tmp/doctored.md" 2>&1)
rc=$?
case "$out" in
*'has no test named "hafen -t: a purpose without a lawful basis is welcomed"'*) [ $rc -eq 1 ] && echo "ok 2 - a made-up test name is reported" || echo "not ok 2 - a made-up test name is reported (rc $rc)";;
*) echo "not ok 2 - a made-up test name is reported"; printf '%s\n' "$out" | sed 's/^/# /';;
esac
case "$out" in
*"tests/audit/erase-nothing.sh does not exist"*) echo "ok 3 - a missing test file is reported";;
*) echo "not ok 3 - a missing test file is reported";;
esac
