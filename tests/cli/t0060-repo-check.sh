#!/bin/bash
# Repositories that are damaged: a corrupt compiled index is never used,
# a malformed package or version is dropped with a warning naming
# file:line:column while the rest loads, and `stitch repo check` lists
# every problem for the repository's maintainer.
. "$(dirname "$0")/testlib.sh"

# A quick run of tests/torture/index-corrupt.sh (200 corruptions there).
out=$(STITCH_TOP=$TOP bash "$TOP/tests/torture/index-corrupt.sh" 20 7 2>&1)
rc=$?
summary=$(printf '%s\n' "$out" | tail -n 1)
if [ $rc -eq 0 ] && [ "$summary" = "corruptions: 20, caught/rebuilt: 20, wrong answers: 0" ]; then
	pass "20 corruptions of the compiled index: all caught and rebuilt"
else
	printf '%s\n' "$out" | grep -v '^#   ' | tail -n 8 | sed 's/^/# /'
	fail "20 corruptions of the compiled index: all caught and rebuilt" "exit $rc: $summary"
fi

# A clean repository: nothing to report.
run "repo check: the bundled index is clean" 0 st repo check "$TOP/repo-index"
has "repo check: says so" "$OUT" "no problems in '$TOP/repo-index' (10 packages)"

# A repository with one problem of each kind, and packages that are fine.
B=$TMP/b
make_repo "$B" broken
add_pkg "$B" ipv4 "IPv4" 1.0.0 1.1.0
add_pkg "$B" arp "ARP" 1.0.0:ipv4
cat >"$B/packages/tcp.json" <<'JSON'
{"name": "tcp", "versions": {
  "1.0.0": {"source": {"url": "a.tar.gz"}, "depends": ["ipv4 {>= 1.0"]},
  "1.1.0": {"source": {"url": "b.tar.gz"}},
  "5.5.0+introcaml0": {"source": {"url": "c.tar.gz"}},
  "5.5.0+introcaml": {"source": {"url": "d.tar.gz"}},
  "1.2.0": {"source": {"url": 12}}}}
JSON
printf '{"name": "udp", "versions": []}\n' >"$B/packages/udp.json"
printf '{"name": "Dns", "versions": {}}\n' >"$B/packages/dns.json"
touch -d '1 hour ago' "$B/repo.json" "$B"/packages/*.json
run "repo check: problems found" 1 st repo check "$B"
has "repo check: bad requirement with its place" "$OUT" \
	"$B/packages/tcp.json:2:56: package 'tcp', version '1.0.0': field 'depends': item 0: invalid requirement 'ipv4 {>= 1.0'"
has "repo check: equal versions, both named" "$OUT" \
	"$B/packages/tcp.json:5:22: package 'tcp', version '5.5.0+introcaml': versions '5.5.0+introcaml0' (line 4, column 23) and '5.5.0+introcaml' order as the same version: both are unavailable"
has "repo check: wrong type with its place" "$OUT" \
	"$B/packages/tcp.json:6:31: package 'tcp', version '1.2.0': field 'source.url': expected a non-empty string"
has "repo check: wrong type of a package's field" "$OUT" \
	"$B/packages/udp.json:1:29: package 'udp': field 'versions': expected an object, found an array"
has "repo check: name mismatch" "$OUT" \
	"$B/packages/dns.json:1:10: package 'dns': field 'name': \"Dns\" does not match the file's base name \"dns\""
n=$(grep -c "^$B/" "$OUT")
if [ "$n" -eq 5 ]; then pass "repo check: five problems, one line each"; else fail "repo check: five problems, one line each" "found $n"; fi
has "repo check: count" "$ERR" "5 problems in '$B'"

run "repo check --json" 1 st repo check --json "$B"
n=$(grep -c '"event":"problem"' "$OUT")
if [ "$n" -eq 5 ]; then pass "repo check --json: five problem events"; else fail "repo check --json: five problem events" "found $n"; fi
has "repo check --json: summary" "$OUT" '"problems":5'

# The rest of the repository is usable, with the problems as warnings.
export STITCH_DEBUG=index
run "broken repo: a good package solves" 0 st --repo "$B" solve arp
has "broken repo: arp chosen" "$OUT" "arp 1.0.0"
has "broken repo: warning printed" "$ERR" "warning: $B/packages/tcp.json:2:56: "
run "broken repo: the good version of tcp is there" 0 st --repo "$B" show tcp
has "broken repo: tcp 1.1.0 shown" "$OUT" "1.1.0"
lacks "broken repo: a bad version is not" "$OUT" "1.2.0"
lacks "broken repo: nor equal ones" "$OUT" "introcaml"
has "broken repo: second load from the compiled cache" "$ERR" "read from the compiled cache"
has "broken repo: warnings kept in the compiled cache" "$ERR" "warning: $B/packages/udp.json:1:29: "
run "broken repo: a dropped package is absent" 1 st --repo "$B" show udp
unset STITCH_DEBUG

# What makes the whole repository unreadable is still an error.
printf '{"format": 1, "name": "x", "packages": {"a": }}\n' >"$TMP/bad.json"
run "repo check: not JSON" 1 st repo check "$TMP/bad.json"
has "repo check: not JSON, with its place" "$ERR" "$TMP/bad.json:1:46: invalid JSON"

# An index of opam-repository's size (4,600 packages) with one pair of equal
# versions loads with exactly that one warning and answers.
G=$TMP/big.json
name=$(python3 "$TOP/tests/index/gen-opam-size" --packages 4600 --versions 3 --format doc "$G")
touch -d '1 hour ago' "$G"
run "opam-sized index: solve" 0 st --repo "$G" solve "$name"
has "opam-sized index: answer" "$OUT" "$name "
n=$(grep -c "^warning: " "$ERR")
if [ "$n" -eq 1 ]; then pass "opam-sized index: exactly one warning"; else fail "opam-sized index: exactly one warning" "found $n"; fi
has "opam-sized index: the warning" "$ERR" "versions '5.5.0+introcaml0' (line 1, column"
run "opam-sized index: repo check" 1 st repo check "$G"
n=$(wc -l <"$OUT")
if [ "$n" -eq 1 ]; then pass "opam-sized index: one problem"; else fail "opam-sized index: one problem" "found $n"; fi

# A document with problems in every one of 1,000 packages: each placed
# right (checked against the text), in one pass rather than one per problem.
M=$TMP/many.json
python3 "$TOP/tests/bench/gen-index" --packages 1000 --versions 2 --seed 2 --format doc "$M"
python3 - "$M" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["packages"].values():
    p["versions"]["9.9"] = {"source": {"url": 5}}
    p["versions"]["5.5.0+x0"] = {"source": {"url": "a"}}
    p["versions"]["5.5.0+x"] = {"source": {"url": "a"}}
open(sys.argv[1], "w").write(json.dumps(d, indent=1))
PY
run "many problems: repo check" 1 timeout 60 "$STITCH" --root "$ROOT" repo check "$M"
placed=$(python3 - "$M" "$OUT" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
good = 0
for l in open(sys.argv[2]):
    m = re.match(r".*many\.json:(\d+):(\d+): package '[^']*', version '([^']*)'", l)
    if not m:
        continue
    line, at = lines[int(m.group(1)) - 1], int(m.group(2)) - 1
    if m.group(3) == "9.9":
        good += line[at:].startswith("5")
    else:
        good += line[at:].startswith("{") and ('"%s"' % m.group(3)) in line
print(good)
PY
)
if [ "$placed" = 2000 ]; then pass "many problems: 2,000 placed right"; else fail "many problems: 2,000 placed right" "$placed placed right"; fi
