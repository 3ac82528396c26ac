#!/bin/bash
# The small things: show marks the installed version and gives the
# homepage; "no solution" lists the versions that exist, and with --json is
# one no-solution line; update says what became of each remote repository;
# source refuses a directory that is already there.  Loopback only; no root
# needed.
. "$(dirname "$0")/testlib.sh"

# jcheck NAME EXPR: evaluate a Python expression over $OUT parsed as JSON lines (E)
# or, when it is one document, D.
jcheck() {
	if python3 - "$OUT" "$2" <<'PY'; then pass "$1"; else fail "$1" "false: $2 ($(head -c 400 "$OUT"))"; fi
import json, sys
text = open(sys.argv[1]).read()
E = [json.loads(l) for l in text.splitlines() if l.strip().startswith("{")] if text.lstrip().startswith("{\"") else []
try:
    D = json.loads(text)
except ValueError:
    D = None
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4"
src_pkg "$R" tcp 1.1.0 "ipv4"
src_pkg "$R" http 1.0.0 "tcp"
src_pkg "$R" http 1.1.0 "tcp {>= 1.1}"
python3 - "$R/packages/tcp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["homepage"] = "https://example.org/tcp"
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
# A package with many versions, for the shortened list (solve only: no archives).
add_pkg "$R" many "many versions" 1.0 1.1 1.2 1.3 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11
st init >/dev/null
st repo add test "$R" --priority 50 >/dev/null

# ---- show: the homepage, and the installed version marked in the list ----
run "show, nothing installed" 0 st show tcp
has "show gives the homepage" "$OUT" "  homepage:   https://example.org/tcp"
lacks "no version marked before install" "$OUT" "(installed)"
run "install an older tcp" 0 st install "tcp {< 1.1}"
run "show after install" 0 st show tcp
has "installed version marked in the list" "$OUT" "  1.0.0 (installed)"
if grep -qx "  1.1.0" "$OUT"; then pass "newer version listed unmarked"; else fail "newer version listed unmarked" "$(cat "$OUT")"; fi
lacks "newer version not marked" "$OUT" "1.1.0 (installed)"
has "installed line kept" "$OUT" "  installed:  1.0.0"
run "show --json after install" 0 st show --json tcp
jcheck "show --json: homepage and installed" "D['homepage'] == 'https://example.org/tcp' and D['installed'] == '1.0.0'"
jcheck "show --json: each version says whether it is installed" "[(v['version'], v['installed']) for v in D['versions']] == [('1.1.0', False), ('1.0.0', True)]"
run "show --json of a package without homepage" 0 st show --json ipv4
jcheck "no homepage key when the index gives none" "'homepage' not in D and D['installed'] == '1.0.0'"

# ---- no solution: the versions that exist ----
run "install with a range nothing matches" 3 st install "tcp {> 9}"
has "the range is named" "$ERR" "you asked for 'tcp {> 9}' (no version of tcp matches > 9)"
has "the versions that exist are listed" "$ERR" "  candidate versions of tcp: 1.1.0, 1.0.0"
empty_out() { if [ -s "$OUT" ]; then fail "$1" "stdout: $(head -c 200 "$OUT")"; else pass "$1"; fi; }
empty_out "no solution without --json: stdout empty"
run "installed set unchanged after no solution" 0 st list
has "tcp still 1.0.0" "$OUT" "1.0.0"
run "install --json with a range nothing matches" 3 st install "tcp {> 9}" --json
jcheck "install --json: one no-solution line" "len(E) == 1 and E[0]['event'] == 'no-solution'"
jcheck "no-solution: candidates" "E[0]['candidates'] == {'tcp': ['1.1.0', '1.0.0']}"
jcheck "no-solution: reason and steps" "E[0]['reason'].startswith('no solution: ') and E[0]['steps'] == [\"you asked for 'tcp {> 9}' (no version of tcp matches > 9)\", \"so the root requirement 'tcp {> 9}' cannot be satisfied\"] and E[0]['hints'] == []"
has "install --json: the text stays on stderr" "$ERR" "candidate versions of tcp"

run "a package no repository has" 3 st install tpc
has "did you mean applies" "$ERR" "hint: no repository has a package named 'tpc'; did you mean 'tcp'?"
lacks "no candidates for a missing package" "$ERR" "candidate versions"
run "a package no repository has, --json" 3 st install tpc --json
jcheck "no-solution: the hint, no candidates" "E[0]['candidates'] == {} and E[0]['hints'] == [\"no repository has a package named 'tpc'; did you mean 'tcp'?\"]"

run "a conflict through a dependency" 3 st solve "tcp {< 1.1}" "http {>= 1.1}"
has "the dependency is in the steps" "$ERR" "http 1.1.0 depends on tcp >= 1.1"
has "http's versions listed" "$ERR" "candidate versions of http: 1.1.0, 1.0.0"
has "tcp's versions listed" "$ERR" "candidate versions of tcp: 1.1.0, 1.0.0"
run "solve --json, a conflict" 3 st solve "tcp {< 1.1}" "http {>= 1.1}" --json
jcheck "solve --json: the no-solution line, not the document" "len(E) == 1 and 'packages' not in E[0] and E[0]['candidates'] == {'http': ['1.1.0', '1.0.0'], 'tcp': ['1.1.0', '1.0.0']}"

run "a pinned version in the way" 3 st solve "tcp {>= 1.1}" --pin tcp=1.0.0
has "the pin's package listed" "$ERR" "candidate versions of tcp: 1.1.0, 1.0.0"
has "the pin hint" "$ERR" "hint: tcp is pinned to 1.0.0"
if [ "$(tail -n 1 "$ERR" | cut -c1-5)" = "hint:" ]; then pass "hints after the candidates"; else fail "hints after the candidates" "last line: $(tail -n 1 "$ERR")"; fi

run "many versions: the list is shortened" 3 st solve "many {> 5}"
has "ten shown, then the count" "$ERR" "candidate versions of many: 1.11, 1.10, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, ... (12 in all)"
run "many versions, --json" 3 st solve "many {> 5}" --json
jcheck "--json lists every version" "len(E[0]['candidates']['many']) == 12 and E[0]['candidates']['many'][-1] == '1.0'"


# ---- update: one line for each remote repository ----
WWW=$TMP/www
W=$TMP/web
make_repo "$W" web
add_pkg "$W" alpha "alpha" 1.0
add_pkg "$W" beta "beta" 1.0
mkdir -p "$WWW"
st repo export "$W" "$WWW/index.json" >/dev/null
cp "$WWW/index.json" "$WWW/other.json"
python3 "$TOP/tests/server/faulty.py" --port 0 --dir "$WWW" >"$TMP/port" 2>"$TMP/server.err" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
URL=http://127.0.0.1:$(head -n1 "$TMP/port")

run "update without remote repositories" 0 st update
has "update says there is none" "$OUT" "no remote repository to update"
st repo add web "$URL/etag/index.json" >/dev/null
st repo add other "$URL/etag/other.json" >/dev/null
run "update, unchanged" 0 st update
has "web unchanged, with its packages" "$OUT" "web: unchanged (2 packages)"
has "other unchanged, with its packages" "$OUT" "other: unchanged (2 packages)"
if [ "$(wc -l <"$OUT")" -eq 2 ]; then pass "one line a remote repository"; else fail "one line a remote repository" "$(cat "$OUT")"; fi
add_pkg "$W" gamma "gamma" 1.0
st repo export "$W" "$WWW/index.json" >/dev/null
run "update --json, one updated" 0 st update --json
jcheck "update --json: one line each, in priority order" "[e['name'] for e in E] == ['other', 'web'] and all(e['event'] == 'update' for e in E)"
jcheck "update --json: web updated with 3 packages" "E[1] == {'event': 'update', 'name': 'web', 'url': '$URL/etag/index.json', 'result': 'updated', 'changed': True, 'packages': 3}"
jcheck "update --json: other unchanged" "E[0]['result'] == 'unchanged' and E[0]['changed'] is False and E[0]['packages'] == 2 and 'error' not in E[0]"
rm "$WWW/other.json"
run "update, a repository gone" 1 st update
has "the failure on stderr" "$ERR" "error: cannot fetch 'other.json': HTTP 404"
has "the failure on stdout, with the copy in use" "$OUT" "other: failed (the copy in use lists 2 packages)"
has "the other repository still updated" "$OUT" "web: unchanged (3 packages)"
run "update --json, a repository gone" 1 st update --json
jcheck "update --json: failed, the previous copy counted" "E[0]['result'] == 'failed' and E[0]['packages'] == 2 and 'HTTP 404' in E[0]['error'] and E[1]['result'] == 'unchanged'"
echo '{"format": 1, "name": "web", "packages": [' >"$WWW/index.json"
run "update --json, not JSON" 1 st update --json
jcheck "update --json: not JSON is refused, the previous copy kept" "E[1]['result'] == 'failed' and E[1]['packages'] == 3 and 'did not send a JSON document' in E[1]['error']"
echo '{"format": 99, "name": "web", "packages": {}}' >"$WWW/index.json"
run "update --json, a broken index" 1 st update --json
jcheck "update --json: a fetched index that breaks the format fails" "E[1]['name'] == 'web' and E[1]['result'] == 'failed' and E[1]['packages'] is None and \"cannot read repository 'web'\" in E[1]['error']"
has "the broken index is named on stderr" "$ERR" "cannot read repository 'web'"
st repo remove web >/dev/null
st repo remove other >/dev/null
kill $server 2>/dev/null
wait $server 2>/dev/null

# ---- source: never into a directory that is there ----
mkdir -p "$TMP/work"
cd "$TMP/work" || exit 1
run "source tcp" 0 st source tcp
has "source unpacked into ./tcp" "$OUT" "into tcp"
touch tcp/mine
ls -R tcp >"$TMP/before"
run "source tcp again" 1 st source tcp
has "says ./tcp exists" "$ERR" "error: './tcp' already exists"
has "suggests a DIR" "$ERR" "hint: unpack it elsewhere with 'stitch source tcp DIR'"
lacks "no internal path named" "$ERR" "$ROOT"
ls -R tcp >"$TMP/after"
same "the tree is left as it was" "$TMP/before" "$TMP/after"
mkdir empty
run "source into an existing empty DIR" 1 st source tcp empty
has "names the DIR given" "$ERR" "error: 'empty' already exists"
if [ -z "$(ls -A empty)" ]; then pass "the DIR is left empty"; else fail "the DIR is left empty" "$(ls -A empty)"; fi
ln -s nowhere dangling
run "source onto a dangling symlink" 1 st source tcp dangling
if [ -L dangling ] && [ ! -e nowhere ]; then pass "the symlink is left alone"; else fail "the symlink is left alone" "$(ls -l)"; fi
run "source --json into a new DIR" 0 st source tcp=1.0.0 fresh --json
jcheck "source --json: the unpacked line" "E == [{'event': 'source', 'action': 'unpacked', 'name': 'tcp', 'version': '1.0.0', 'path': 'fresh'}]"
run "source --json, ./tcp exists" 1 st source tcp --json
empty_out "source --json refused: stdout empty"
