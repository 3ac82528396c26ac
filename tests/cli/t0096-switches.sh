#!/bin/bash
# stitch switch list and stitch switch remove: the root's record of its switches.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
st init >/dev/null
st init --switch "$TMP/a" >/dev/null
st --repo "$R" --switch "$TMP/a" install ipv4 >/dev/null 2>&1
mkdir -p "$TMP/b"
run "switch list" 0 st switch list
has "default listed" "$OUT" "$ROOT/switches/default"
has "a with its package" "$OUT" "$TMP/a"
has "a counts one package" "$OUT" "1 package"
run "switch list --json" 0 st switch list --json
if python3 -c '
import json, sys
d = {x["switch"]: x for x in json.load(open(sys.argv[1]))}
assert d[sys.argv[2] + "/a"] == {"switch": sys.argv[2] + "/a", "exists": True, "packages": 1}, d
assert d[sys.argv[3]]["packages"] == 0
' "$OUT" "$TMP" "$ROOT/switches/default"; then pass "list --json content"; else fail "list --json content" "$(cat "$OUT")"; fi

run "remove a plain directory" 1 st switch remove "$TMP/b"
has "not a switch named" "$ERR" "'$TMP/b' is not a stitch switch"
if [ -d "$TMP/b" ]; then pass "plain directory kept"; else fail "plain directory kept" "gone"; fi
st init --switch "$TMP/other" >/dev/null
run "remove a switch of another root" 1 "$STITCH" --root "$TMP/root2" switch remove "$TMP/other"
has "unknown switch named" "$ERR" "is not one this root knows"
if [ -d "$TMP/other/.stitch" ]; then pass "other root's switch kept"; else fail "other root's switch kept" "gone"; fi

run "remove a" 0 st switch remove "$TMP/a"
has "remove says so" "$OUT" "removed the switch $TMP/a"
if [ ! -e "$TMP/a" ] && [ ! -e "$TMP/.a.stitch-removed" ]; then pass "a deleted"; else fail "a deleted" "still there"; fi
run "list after remove" 0 st switch list
lacks "a no longer listed" "$OUT" "$TMP/a"

# A switch whose directory went away by other means: listed as gone, then forgotten.
rm -rf "$TMP/other"
run "list shows a gone switch" 0 st switch list
has "gone marked" "$OUT" "(gone)"
run "remove a gone switch" 0 st switch remove --json "$TMP/other"
has "forgotten event" "$OUT" '"action":"forgotten"'
run "list after forget" 0 st switch list
lacks "gone switch forgotten" "$OUT" "$TMP/other"
run "remove it again" 1 st switch remove "$TMP/other"
run "bad usage" 2 st switch frobnicate

# A switch made before the root kept records: listed once a command opens it.
st init --switch "$TMP/old" >/dev/null
rm -rf "$ROOT/known-switches"
run "list without records" 0 st switch list
lacks "unrecorded switch not listed" "$OUT" "$TMP/old"
has "root's own switches still listed" "$OUT" "$ROOT/switches/default"
st --switch "$TMP/old" list >/dev/null 2>&1
run "list after opening it" 0 st switch list
has "opened switch recorded" "$OUT" "$TMP/old"
