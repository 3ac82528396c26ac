#!/bin/bash
# The switch: init, install, list, which, doctor, remove, upgrade; builds
# that fail leave what was installed working.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4 {>= 1.0}"
src_pkg "$R" http 1.0.0 "tcp {>= 1.0}"
SW=$ROOT/switches/default

run "install before init fails" 1 st --repo "$R" install tcp
has "missing switch explained" "$ERR" "no switch at '$SW'"
has "hint to init" "$ERR" "hint: run 'stitch init'"
run "init" 0 st init
has "init names the switch" "$OUT" "initialized switch: $SW"
run "init again is fine" 0 st init
run "dry run" 0 st --repo "$R" install --dry-run http
has "dry run lists ipv4" "$OUT" "install   ipv4 1.0.0"
if [ ! -e "$SW/lib" ]; then pass "dry run installs nothing"; else fail "dry run installs nothing" "lib exists"; fi

run "install http" 0 st --repo "$R" install http
has "ipv4 installed" "$OUT" "ipv4 1.0.0: installed"
if [ "$(grep -n 'installed' "$OUT" | cut -d: -f2 | awk '{print $1}' | tr '\n' ' ')" = "ipv4 tcp http " ]; then
	pass "dependency order"
else
	fail "dependency order" "$(cat "$OUT")"
fi
for f in lib/libtcp.a include/tcp.h lib/pkgconfig/http.pc lib/libipv4.a; do
	if [ -f "$SW/$f" ]; then pass "installed $f"; else fail "installed $f" "missing"; fi
done
run "list" 0 st list
has "list shows http" "$OUT" "http                     1.0.0"
has "list marks dependencies" "$OUT" "(dependency)"
run "list --json" 0 st list --json
if python3 -c '
import json, sys
d = {p["name"]: p for p in json.load(open(sys.argv[1]))}
assert set(d) == {"http", "ipv4", "tcp"}, d
assert d["http"]["requested"] and not d["tcp"]["requested"]
assert d["tcp"]["version"] == "1.0.0" and d["tcp"]["repository"] == "test"
' "$OUT"; then pass "list --json content"; else fail "list --json content" "$(cat "$OUT")"; fi

run "which header" 0 st which tcp.h
has "which header names the package" "$OUT" "tcp 1.0.0 provides it (header include/tcp.h)"
run "which symbol" 0 st which http_hello
has "which symbol names the archive" "$OUT" "http 1.0.0 provides it (symbol lib/libhttp.a)"
run "which path" 0 st which "$SW/lib/libipv4.a"
has "which absolute path" "$OUT" "ipv4 1.0.0 provides it (file lib/libipv4.a)"
run "which --json" 0 st which --json tcp_hello
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d == [{"package": "tcp", "file": "lib/libtcp.a", "kind": "symbol", "version": "1.0.0"}], d
' "$OUT"; then pass "which --json content"; else fail "which --json content" "$(cat "$OUT")"; fi
run "which unknown" 1 st which no_such_symbol
has "which unknown explained" "$ERR" "no installed package provides 'no_such_symbol'"

run "doctor clean" 0 st doctor
has "doctor counts files" "$OUT" "9 files checked, 0 problems"
echo "/* edited */" >>"$SW/include/tcp.h"
rm "$SW/lib/libipv4.a"
run "doctor finds damage" 1 st doctor --json
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = sorted((p["path"], p["problem"], p["package"]) for p in d["problems"])
assert got == [("include/tcp.h", "modified", "tcp"), ("lib/libipv4.a", "missing", "ipv4")], got
' "$OUT"; then pass "doctor --json names both problems"; else fail "doctor --json names both problems" "$(cat "$OUT")"; fi

run "no-op install" 0 st --repo "$R" install http
has "no-op says so" "$OUT" "nothing to do"

run "remove refused while needed" 1 st --repo "$R" remove ipv4
has "remove names the dependent" "$ERR" "still needed by tcp"
if [ -f "$SW/include/ipv4.h" ]; then pass "refused remove keeps files"; else fail "refused remove keeps files" "gone"; fi
run "remove http" 0 st --repo "$R" remove http
if [ ! -e "$SW/lib/libhttp.a" ] && [ ! -e "$SW/lib/pkgconfig/http.pc" ]; then
	pass "remove deletes the files"
else
	fail "remove deletes the files" "left behind"
fi
run "remove --recursive" 0 st --repo "$R" remove --recursive ipv4
run "nothing left" 0 st list --json
if [ "$(tr -d ' \n' <"$OUT")" = "[]" ]; then pass "switch empty"; else fail "switch empty" "$(cat "$OUT")"; fi
if [ -z "$(find "$SW" -path "$SW/.stitch" -prune -o -type f -print)" ]; then
	pass "no stray files"
else
	fail "no stray files" "$(find "$SW" -path "$SW/.stitch" -prune -o -type f -print)"
fi
run "remove unknown" 1 st --repo "$R" remove nope
has "remove unknown explained" "$ERR" "'nope' is not installed"

# Upgrades: a new tcp with the same interface keeps http; a new header rebuilds it.
run "reinstall http" 0 st --repo "$R" install http
src_pkg "$R" tcp 1.1.0 "ipv4 {>= 1.0}"
run "upgrade" 0 st --repo "$R" upgrade --json
if python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
pk = {e["name"]: e for e in ev if e["event"] == "package"}
assert pk["tcp"]["action"] == "built" and pk["tcp"]["change"] == "upgrade", pk
assert pk["tcp"]["old_version"] == "1.0.0", pk
assert pk["http"]["action"] == "kept", "http rebuilt though the interface of tcp did not change"
assert pk["http"]["reason"] == "interface of tcp unchanged", pk["http"]
' "$OUT"; then pass "same interface: dependents kept"; else fail "same interface: dependents kept" "$(cat "$OUT")"; fi
SRC_HEADER_EXTRA="int tcp_extra;" src_pkg "$R" tcp 1.2.0 "ipv4 {>= 1.0}"
run "upgrade with a new header" 0 st --repo "$R" upgrade --json
if python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
pk = {e["name"]: e for e in ev if e["event"] == "package"}
assert pk["tcp"]["version"] == "1.2.0" and pk["tcp"]["action"] == "built", pk
assert pk["http"]["action"] == "rebuilt" and pk["http"]["reason"] == "interface of tcp changed in include/tcp.h", pk
assert pk["ipv4"]["action"] == "kept" and pk["ipv4"]["reason"] == "up to date", pk
' "$OUT"; then pass "new interface: dependent rebuilt"; else fail "new interface: dependent rebuilt" "$(cat "$OUT")"; fi

# A build that fails: the previous version stays installed and working.
SRC_BUILD_EXTRA="@echo compiling went wrong >&2; false" src_pkg "$R" tcp 1.3.0 "ipv4 {>= 1.0}"
cp "$SW/lib/libtcp.a" "$TMP/libtcp.before"
run "failing build" 1 st --repo "$R" upgrade
has "failure names package and version" "$ERR" "build of 'tcp 1.3.0' failed: 'make PREFIX=$SW' exited with status 2"
has "failure shows the log's last lines" "$ERR" "compiling went wrong"
has "failure gives the log path" "$ERR" "log: $SW/.stitch/logs/tcp-1.3.0.log"
has "dependents not built" "$OUT" "http 1.0.0: not built: tcp 1.3.0 failed"
same "old tcp still installed" "$SW/lib/libtcp.a" "$TMP/libtcp.before"
run "still 1.2.0" 0 st list
has "list shows the old version" "$OUT" "tcp                      1.2.0"
run "doctor clean after a failed build" 0 st doctor
