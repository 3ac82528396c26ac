#!/bin/bash
# stitch tree and stitch why: a switch's graph, a project's, --dot (checked
# with Graphviz's dot) and --json; and the root's record of its switches.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4 {>= 1.0}"
src_pkg "$R" udp 1.0.0 "ipv4 {>= 1.0}"
src_pkg "$R" http 1.0.0 "tcp {>= 1.0}" "udp"
SW=$ROOT/switches/default
st init >/dev/null
st --repo "$R" install http >/dev/null 2>&1

run "tree" 0 st --repo "$R" tree
has "root with version" "$OUT" "http 1.0.0"
has "edge with its requirement" "$OUT" "├── tcp 1.0.0 (tcp {>= 1.0})"
has "shared leaf shown under tcp" "$OUT" "│   └── ipv4 1.0.0 (ipv4 {>= 1.0})"
has "last child" "$OUT" "└── udp 1.0.0 (udp)"
if [ "$(grep -c 'ipv4' "$OUT")" -eq 2 ]; then pass "ipv4 under both"; else fail "ipv4 under both" "$(cat "$OUT")"; fi
run "tree PKG" 0 st --repo "$R" tree tcp
if [ "$(head -n1 "$OUT")" = "tcp 1.0.0" ] && ! grep -q http "$OUT"; then pass "subtree only"; else fail "subtree only" "$(cat "$OUT")"; fi
run "why" 0 st --repo "$R" why ipv4
has "why: tcp needs it" "$OUT" "├── tcp 1.0.0 (ipv4 {>= 1.0})"
has "why: up to http" "$OUT" "│   └── http 1.0.0 (tcp {>= 1.0})"
has "why: http again under udp" "$OUT" "    └── http 1.0.0 (udp)"
st --repo "$R" tree --invert ipv4 >"$TMP/inv"
same "why is tree --invert" "$OUT" "$TMP/inv"
run "why needs a package" 2 st --repo "$R" why
run "two packages refused" 2 st --repo "$R" tree tcp udp
run "unknown package" 1 st --repo "$R" why nosuch
has "unknown named" "$ERR" "no package 'nosuch' in the repositories in use"
src_pkg "$R" dns 1.0.0
run "uninstalled package" 1 st --repo "$R" why dns
has "uninstalled named" "$ERR" "package 'dns' is not installed in '$SW'"

run "tree --json" 0 st --repo "$R" tree --json
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["roots"] == ["http"] and d["project"] is None, d
p = {x["name"]: x for x in d["packages"]}
assert set(p) == {"http", "tcp", "udp", "ipv4"}, p
assert p["http"]["depends"] == [{"name": "tcp", "version": "1.0.0", "requirement": "tcp {>= 1.0}"},
                                {"name": "udp", "version": "1.0.0", "requirement": "udp"}], p["http"]
assert sorted(x["name"] for x in p["ipv4"]["needed_by"]) == ["tcp", "udp"]
' "$OUT"; then pass "tree --json content"; else fail "tree --json content" "$(cat "$OUT")"; fi
run "why --json" 0 st --repo "$R" why --json tcp
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["roots"] == ["tcp"]
assert sorted(x["name"] for x in d["packages"]) == ["http", "tcp"], d
' "$OUT"; then pass "why --json: tcp and who needs it"; else fail "why --json: tcp and who needs it" "$(cat "$OUT")"; fi

run "tree --dot" 0 st --repo "$R" tree --dot
has "dot edge" "$OUT" '"http" -> "tcp" [label="tcp {>= 1.0}"];'
if command -v dot >/dev/null; then
	if dot -Tsvg "$OUT" >"$TMP/g.svg" 2>"$ERR"; then pass "dot -Tsvg accepts it"; else fail "dot -Tsvg accepts it" "dot failed"; fi
	for p in http tcp udp ipv4; do has "svg names $p" "$TMP/g.svg" ">$p"; done
else
	fail "dot -Tsvg accepts it" "Graphviz (dot) is not installed: make check installs it"
fi

# The bundled example: its resolved set, rooted at the project.
cp -R "$TOP/share/examples/static-website" "$TMP/site"
(cd "$TMP/site" && "$STITCH" --root "$TMP/r2" tree >"$OUT" 2>"$ERR")
has "project is the root" "$OUT" "static-website"
has "project edge" "$OUT" "├── http 1.1.0 (http)"
has "platform added" "$OUT" "└── platform-unix 1.1.0 (platform-unix)"
has "shared subtree marked" "$OUT" "(*)"
(cd "$TMP/site" && "$STITCH" --root "$TMP/r2" why tcp >"$OUT" 2>"$ERR")
has "why reaches the project" "$OUT" "    └── static-website (http)"
(cd "$TMP/site" && "$STITCH" --root "$TMP/r2" why --json dns >"$OUT" 2>"$ERR")
has "not needed by the project" "$ERR" "no package 'dns'"
(cd "$TMP/site" && "$STITCH" --root "$TMP/r2" tree --dot >"$TMP/site.dot" 2>"$ERR")
if command -v dot >/dev/null && dot -Tsvg "$TMP/site.dot" >"$TMP/site.svg"; then
	has "stack svg names the project" "$TMP/site.svg" "static&#45;website"
else
	fail "stack svg" "dot missing or failed"
fi
