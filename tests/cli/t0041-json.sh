#!/bin/bash
# --json on every command that does work: stdout holds only JSON objects,
# one a line, "event" first, with the fields CI parses; errors stay text on
# stderr with the usual exit codes.
. "$(dirname "$0")/testlib.sh"

# jcheck NAME PYEXPR: every line of $OUT is a JSON object whose first key is
# "event", there is at least one, and PYEXPR holds.  In PYEXPR, E is the
# list of objects and ev(KIND) those whose "event" is KIND.
jcheck() {
	local msg
	if msg=$(python3 - "$OUT" "$2" 2>&1 <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
E = []
for n, line in enumerate(lines, 1):
    try:
        o = json.loads(line)
    except ValueError:
        sys.exit("stdout line %d is not JSON: %r" % (n, line))
    if not isinstance(o, dict) or next(iter(o), None) != "event":
        sys.exit("stdout line %d is not an object with \"event\" first: %r" % (n, line))
    E.append(o)
if not E:
    sys.exit("no JSON lines on stdout")
def ev(kind):
    return [e for e in E if e["event"] == kind]
if not eval(sys.argv[2]):
    sys.exit("false: %s\n# stdout: %s" % (sys.argv[2], "\n# stdout: ".join(lines)))
PY
	); then pass "$1"; else fail "$1" "$msg"; fi
}

# empty NAME FILE: FILE has no bytes.
empty() {
	if [ ! -s "$2" ]; then pass "$1"; else fail "$1" "$(basename "$2") has: $(head -c 200 "$2")"; fi
}

# dcheck NAME PYEXPR: the whole of $OUT is one JSON document D (not events:
# no "event" key in it or in its elements) and PYEXPR holds.
dcheck() {
	local msg
	if msg=$(python3 - "$OUT" "$2" 2>&1 <<'PY'
import json, sys
text = open(sys.argv[1]).read()
try:
    D = json.loads(text)
except ValueError as e:
    sys.exit("stdout is not one JSON document (%s): %r" % (e, text[:200]))
if any(isinstance(x, dict) and "event" in x for x in (D if isinstance(D, list) else [D])):
    sys.exit("a document holds an \"event\" key: %r" % text[:200])
if not eval(sys.argv[2]):
    sys.exit("false: %s\n# stdout: %s" % (sys.argv[2], text[:400]))
PY
	); then pass "$1"; else fail "$1" "$msg"; fi
}

# Each command's usage names --json.
while IFS='|' read -r c usage; do
	"$STITCH" $c --help >"$TMP/help" 2>&1
	has "$c --help: $usage" "$TMP/help" "$usage"
done <<'U'
init|stitch init [--switch DIR] [--json]
update|stitch update [--json]
repo|stitch repo add NAME PATH [--priority N] [--json]
repo|stitch repo list [--json]
repo|stitch repo remove NAME [--json]
repo|stitch repo export DIR OUT.json[.gz] [--json]
repo|stitch repo pack DIR [-o OUT.tar.gz] [--update-index] [--json]
pin|stitch pin add PKG [DIR] [--json]
pin|stitch pin remove PKG [--json]
pin|stitch pin list [--json]
source|stitch source PKG[=VERSION] [DIR] [--json]
cache|stitch cache remote URL [--read-only] [--json]
cache|stitch cache clean [--unused-days N] [--json]
test|stitch test [--target T] [-j N] [--json]
U

# init
run "init --json" 0 st init --json
jcheck "init: created" "E == [{'event': 'init', 'switch': '$ROOT/switches/default', 'action': 'created'}]"
run "init --json again" 0 st init --json
jcheck "init: exists" "E == [{'event': 'init', 'switch': '$ROOT/switches/default', 'action': 'exists'}]"
run "init --json on a file" 1 st --switch /dev/null/sw init --json
empty "init error: stdout empty" "$OUT"
has "init error on stderr" "$ERR" "error: "

# repo add, list, export, pack, remove
R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4"
run "repo add --json" 0 st repo add test "$R" --priority 50 --json
jcheck "repo add: fields" "E == [{'event': 'repo', 'action': 'added', 'name': 'test', 'location': '$R', 'priority': 50, 'packages': 2}]"
run "repo list --json" 0 st repo list --json
jcheck "repo list: configured repository" "{'event': 'repo', 'name': 'test', 'priority': 50, 'location': '$R', 'from': 'config'} in E"
jcheck "repo list: bundled repository" "any(e.get('from') == 'bundled' and e['name'] and 'priority' in e for e in E)"
run "repo list --json with --repo" 0 st --repo "$R" repo list --json
jcheck "repo list: --repo" "E == [{'event': 'repo', 'name': None, 'priority': 1, 'location': '$R', 'from': '--repo'}]"
run "repo export --json" 0 st repo export "$R" "$TMP/index.json" --json
jcheck "repo export: fields" "E == [{'event': 'repo', 'action': 'exported', 'dir': '$R', 'path': '$TMP/index.json'}]"
if [ -s "$TMP/index.json" ]; then pass "repo export wrote the document"; else fail "repo export wrote the document" "missing"; fi
mkdir -p "$R/src" && cp -R "$TMP/src/ipv4-1.0.0" "$R/src/"
run "repo pack --json" 0 st repo pack "$R/src/ipv4-1.0.0" --update-index --json
sha=$(sha256sum "$R/archives/ipv4-1.0.0.tar.gz" | cut -d' ' -f1)
jcheck "repo pack: path and sha256" "ev('pack') == [{'event': 'pack', 'path': '$R/archives/ipv4-1.0.0.tar.gz', 'sha256': '$sha'}]"
jcheck "repo pack: index updated" "ev('index') == [{'event': 'index', 'action': 'updated', 'path': '$R/packages/ipv4.json', 'name': 'ipv4', 'version': '1.0.0', 'sha256': '$sha'}] and len(E) == 2"
run "repo pack --json -o" 0 st repo pack "$TMP/src/tcp-1.0.0" -o "$TMP/tcp.tar.gz" --json
jcheck "repo pack -o: one event" "len(E) == 1 and E[0]['path'] == '$TMP/tcp.tar.gz' and E[0]['sha256'] == '$(sha256sum "$TMP/tcp.tar.gz" | cut -d' ' -f1)'"
run "repo remove --json of a missing one" 1 st repo remove nosuch --json
empty "repo remove error: stdout empty" "$OUT"
has "repo remove error on stderr" "$ERR" "error: "
run "repo add --json, a second name" 0 st repo add other "$R" --json
run "repo remove --json" 0 st repo remove other --json
jcheck "repo remove: fields" "E == [{'event': 'repo', 'action': 'removed', 'name': 'other'}]"

# update, against a server on loopback
WWW=$TMP/www
mkdir -p "$WWW"
cp "$TMP/index.json" "$WWW/index.json"
cp "$TMP/index.json" "$WWW/gone.json"
faulty_server "$WWW"
run "update --json without remotes" 0 st update --json
empty "update without remotes: stdout empty" "$OUT"
st repo add web "$URL/etag/index.json" >/dev/null 2>&1
run "update --json, unchanged" 0 st update --json
jcheck "update: unchanged" "E == [{'event': 'update', 'name': 'web', 'url': '$URL/etag/index.json', 'result': 'unchanged', 'changed': False, 'packages': 2}]"
echo >>"$WWW/index.json"
run "update --json, changed" 0 st update --json
jcheck "update: changed" "E == [{'event': 'update', 'name': 'web', 'url': '$URL/etag/index.json', 'result': 'updated', 'changed': True, 'packages': 2}]"
st repo add gone "$URL/etag/gone.json" >/dev/null 2>&1
rm "$WWW/gone.json"
run "update --json with a failing repository" 1 st update --json
jcheck "update: the failure is an event" "len(E) == 2 and [e['name'] for e in E] == ['gone', 'web'] and E[0]['changed'] is False and E[0]['result'] == 'failed' and E[0]['error'] and 'error' not in E[1]"
has "update failure on stderr as text" "$ERR" "error: "
st repo remove gone >/dev/null 2>&1
st repo remove web >/dev/null 2>&1

# cache remote and clean
run "cache remote --json" 0 st cache remote "$URL/cache" --read-only --json
jcheck "cache remote: set" "E == [{'event': 'cache', 'action': 'remote-set', 'remote': '$URL/cache', 'push': False}]"
run "cache remote --off --json" 0 st cache remote --off --json
jcheck "cache remote: off" "E == [{'event': 'cache', 'action': 'remote-off', 'remote': None, 'push': False}]"
run "cache remote --json, not a URL" 2 st cache remote /tmp/x --json
empty "cache remote error: stdout empty" "$OUT"

# A project with a test, for source, pin, test and cache clean.
platform_pkg "$R"
PROJ=$TMP/proj
value_project "$PROJ" tcp '{"name": "app", "depends": ["tcp"], "sources": ["main.c"], "test": ["sh", "-c", "$STITCH_IMAGE"]}'
cd "$PROJ" || exit 1
s() { st --repo "$R" "$@"; }

# source
run "source --json" 0 s source ipv4=1.0.0 "$TMP/unpacked" --json
jcheck "source: fields" "E == [{'event': 'source', 'action': 'unpacked', 'name': 'ipv4', 'version': '1.0.0', 'path': '$TMP/unpacked'}]"
if [ -f "$TMP/unpacked/ipv4.c" ]; then pass "source unpacked"; else fail "source unpacked" "no ipv4.c"; fi
run "source --json of a missing package" 1 s source nosuch --json
empty "source error: stdout empty" "$OUT"

# test: the build's events, then the result; the test's output on stderr.
run "test --json" 0 s test --json
jcheck "test: packages built" "sorted(e['name'] for e in ev('package')) == ['ipv4', 'platform-unix', 'tcp'] and all(e['action'] == 'built' for e in ev('package'))"
jcheck "test: linked" "len(ev('link')) == 1 and ev('link')[0]['action'] == 'linked'"
jcheck "test: passed, last" "E[-1] == {'event': 'test', 'result': 'passed', 'command': 'sh', 'status': 0}"
has "test output on stderr" "$ERR" "value 2"
lacks "test output not on stdout" "$OUT" "value 2"
sed -i 's/"test": .*}/"test": ["sh", "-c", "echo skipping; exit 77"]}/' unikernel.json
run "test --json, skipped" 77 s test --json
jcheck "test: skipped" "E[-1] == {'event': 'test', 'result': 'skipped', 'command': 'sh', 'status': 77} and ev('link')[0]['action'] == 'kept'"
has "skipped test's output on stderr" "$ERR" "skipping"
sed -i 's/exit 77/exit 3/' unikernel.json
run "test --json, failed" 1 s test --json
jcheck "test: failed" "E[-1] == {'event': 'test', 'result': 'failed', 'command': 'sh', 'status': 3}"
has "failed test: error on stderr" "$ERR" "error: test 'sh' failed (status 3)"
sed -i 's/echo skipping; exit 3/kill -9 $$/' unikernel.json
run "test --json, killed" 1 s test --json
jcheck "test: killed" "E[-1] == {'event': 'test', 'result': 'failed', 'command': 'sh', 'status': None, 'signal': 9}"

# pin add, list, remove
run "pin add --json" 0 s pin add ipv4 --json
jcheck "pin add: unpacked, then pinned" "E == [{'event': 'source', 'action': 'unpacked', 'name': 'ipv4', 'version': '1.0.0', 'path': 'ipv4'}, {'event': 'pin', 'action': 'added', 'name': 'ipv4', 'version': '1.0.0', 'path': '$PROJ/ipv4', 'files': E[1]['files']}] and E[1]['files'] >= 3"
run "pin list --json" 0 s pin list --json
jcheck "pin list: unchanged" "E == [{'event': 'pin', 'name': 'ipv4', 'version': '1.0.0', 'path': '$PROJ/ipv4', 'state': 'unchanged'}]"
sed -i 's/return 1/return 5/' ipv4/ipv4.c
run "pin list --json after an edit" 0 s pin list --json
jcheck "pin list: changed" "[e['state'] for e in E] == ['changed']"
run "build with the pin" 0 s build

# list, search, show: one document each, the same words for the same things
run "list --json" 0 s list --json
dcheck "list: one array, one object a package" "isinstance(D, list) and {'ipv4', 'tcp'} <= {x['name'] for x in D} and all(set(x) == {'name', 'version', 'repository', 'pinned', 'requested'} for x in D)"
dcheck "list: the pin and the requested package" "[x['pinned'] for x in D if x['name'] == 'ipv4'] == [True] and [x['requested'] for x in D if x['name'] == 'tcp'] == [True]"
run "list --pinned --json" 0 s list --pinned --json
dcheck "list --pinned: name, version, path" "D == [{'name': 'ipv4', 'version': '1.0.0', 'path': '$PROJ/ipv4'}]"
run "search --json" 0 s search --json tcp
dcheck "search: name, version, repository, synopsis" "[{k: x[k] for k in ('name', 'version', 'repository')} for x in D] == [{'name': 'tcp', 'version': '1.0.0', 'repository': 'test'}] and set(D[0]) == {'name', 'version', 'repository', 'synopsis'}"
run "search --json, no match" 1 s search --json nosuchthing
dcheck "search, no match: an empty array" "D == []"
run "show --json" 0 s show --json tcp
dcheck "show: one object, the words of list and search" "D['name'] == 'tcp' and D['repository'] == 'test' and D['installed'] == '1.0.0' and [v['version'] for v in D['versions']] == ['1.0.0'] and D['versions'][0]['depends'] == ['ipv4']"
src_pkg "$R" udp 1.0.0 "ipv4"
run "show --json of a package not installed" 0 s show --json udp
dcheck "show: installed is null when it is not" "D['installed'] is None"
run "show --json of no package" 1 s show --json nosuch
empty "show error: stdout empty" "$OUT"

# a pin whose directory is gone: the word of the events' table
mv ipv4 "$TMP/ipv4.away"
run "pin list --json, the directory gone" 0 s pin list --json
jcheck "pin list: missing" "E == [{'event': 'pin', 'name': 'ipv4', 'version': '1.0.0', 'path': '$PROJ/ipv4', 'state': 'missing'}]"
mv "$TMP/ipv4.away" ipv4
run "pin remove --json" 0 s pin remove ipv4 --json
jcheck "pin remove: the pin event first" "E[0] == {'event': 'pin', 'action': 'removed', 'name': 'ipv4', 'version': '1.0.0', 'path': '$PROJ/ipv4'}"
jcheck "pin remove: the release build comes from the cache, as package events" "any(e['event'] == 'package' and e['name'] == 'ipv4' and e['action'] == 'cached' and e['from'] == 'local' for e in E)"
run "pin remove --json of no pin" 1 s pin remove nosuch --json
empty "pin remove error: stdout empty" "$OUT"
has "pin remove error on stderr" "$ERR" "error: "

# cache clean, after the builds above stored artifacts
n_art=$(find "$ROOT/cache/artifacts" -name '*.json' | wc -l)
run "cache clean --json" 0 s cache clean --json
jcheck "cache clean: fields" "len(E) == 1 and E[0]['event'] == 'cache' and E[0]['action'] == 'cleaned' and E[0]['dir'] == '$ROOT/cache/artifacts' and E[0]['artifacts'] == $n_art > 0 and E[0]['bytes'] > 0"
if [ ! -e "$ROOT/cache/artifacts" ]; then pass "cache cleaned"; else fail "cache cleaned" "still there"; fi
