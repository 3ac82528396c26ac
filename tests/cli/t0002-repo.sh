#!/bin/bash
# Repositories: --repo, repo add/list/remove, priorities and overlays.
. "$(dirname "$0")/testlib.sh"

A=$TMP/a
B=$TMP/b
make_repo "$A" alpha
add_pkg "$A" tcp "TCP from alpha" 1.0.0 "1.1.0:ipv4 {>= 1.0}"
add_pkg "$A" ipv4 "IPv4 with ICMP" 1.0.0
make_repo "$B" beta
add_pkg "$B" tcp "TCP from beta" 0.9.0

run "show on --repo" 0 st --repo "$A" show tcp
has "--repo package shown" "$OUT" "TCP from alpha"
run "search on --repo" 0 st search ICMP --repo "$A"
has "--repo search finds by synopsis" "$OUT" "ipv4"
run "--repo=PATH form" 0 st --repo="$A" show ipv4

# First --repo has the highest priority; the whole package is hidden.
run "two --repo, first wins" 0 st --repo "$B" --repo "$A" show tcp
has "first --repo's tcp" "$OUT" "TCP from beta"
lacks "lower tcp's versions hidden" "$OUT" "1.1.0"
has "show says what it hides" "$OUT" "hides:      tcp in 'alpha'"
run "lower repo's other packages visible" 0 st --repo "$B" --repo "$A" show ipv4

# repo add / list / remove
run "repo add alpha" 0 st repo add alpha "$A"
has "repo add reports packages" "$OUT" "2 packages"
run "show on an added repo" 0 st show tcp
has "added repo's package" "$OUT" "TCP from alpha"
run "search on an added repo" 0 st search tcp
has "search lists newest version" "$OUT" "1.1.0"
run "repo add beta below alpha" 0 st repo add beta "$B" --priority 5
run "repo list" 0 st repo list
has "list shows alpha" "$OUT" "alpha"
has "list shows beta priority" "$OUT" "       5  $B"
# alpha (10) above beta (5) above the bundled default (0)
if [ "$(awk 'NR>1 {print $1}' "$OUT" | tr '\n' ' ')" = "alpha beta default " ]; then
	pass "list is in priority order"
else
	fail "list is in priority order" "got: $(awk 'NR>1 {print $1}' "$OUT" | tr '\n' ' ')"
fi
run "alpha hides beta's tcp" 0 st show tcp
has "alpha's tcp shown" "$OUT" "TCP from alpha"
run "repo add without priority goes on top" 0 st repo add beta2 "$B"
run "beta2 now hides alpha" 0 st show tcp
has "beta's tcp shown" "$OUT" "TCP from beta"
run "duplicate name refused" 1 st repo add alpha "$B"
has "duplicate name message" "$ERR" "a repository named 'alpha' already exists"
cp "$ROOT/config.json" "$TMP/config.before"
mkdir -p "$TMP/broken/packages"
echo '{"format": 1, "name": "broken"}' >"$TMP/broken/repo.json"
echo '{"name": "x", "versions": {' >"$TMP/broken/packages/x.json"
run "unreadable repository refused" 1 st repo add broken "$TMP/broken"
has "refusal names file:line:col" "$ERR" "broken/packages/x.json:2:0: invalid JSON"
same "config unchanged by a refused add" "$ROOT/config.json" "$TMP/config.before"
run "missing path refused" 1 st repo add ghost "$TMP/nope"
same "config unchanged by a missing path" "$ROOT/config.json" "$TMP/config.before"
run "repo remove" 0 st repo remove beta2
run "repo remove unknown" 1 st repo remove nope
has "unknown repo named" "$ERR" "no repository named 'nope'"
run "alpha visible again" 0 st show tcp
has "alpha's tcp after remove" "$OUT" "TCP from alpha"
run "remove the bundled index" 0 st repo remove default
run "list without bundled" 0 st repo list
lacks "bundled gone" "$OUT" "(bundled)"

# A corrupt configuration is reported, not ignored.
echo '{"repos": [' >"$ROOT/config.json"
run "corrupt config is an error" 1 st search tcp
has "corrupt config names the file" "$ERR" "config.json:2:0"

# show --json
run "show --json" 0 st --repo "$A" show --json tcp
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["name"] == "tcp" and d["repository"] == "alpha"
assert [v["version"] for v in d["versions"]] == ["1.1.0", "1.0.0"]
assert d["versions"][0]["depends"] == ["ipv4 {>= 1.0}"]
assert d["versions"][0]["source"]["url"] == "archives/tcp-1.1.0.tar.gz"
' "$OUT"; then pass "show --json content"; else fail "show --json content" "bad JSON"; fi
run "search --json" 0 st --repo "$A" search --json i
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["name"] for p in d] == ["ipv4"], d
' "$OUT"; then pass "search --json content"; else fail "search --json content" "bad JSON"; fi
