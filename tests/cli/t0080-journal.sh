#!/bin/bash
# The journal: a remove of several packages is one operation that a kill
# cannot leave half done, and running it again finishes what is left.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4 {>= 1.0}"
src_pkg "$R" crunch 1.0.0
src_pkg "$R" arp 1.0.0
SW=$ROOT/switches/default
st init >/dev/null
run "install four packages" 0 st --repo "$R" install tcp crunch arp
run "doctor clean before" 0 st doctor

# kill -9 after the first file of a three-package remove is deleted.
STITCH_FAULT=kill-after-moves:1 st --repo "$R" remove arp crunch tcp >"$OUT" 2>"$ERR"
rc=$?
if [ "$rc" -eq 137 ]; then pass "remove killed midway"; else fail "remove killed midway" "exit $rc"; fi
n=0
for f in include/arp.h include/crunch.h include/tcp.h lib/libarp.a lib/libcrunch.a lib/libtcp.a; do
	[ -e "$SW/$f" ] && n=$((n + 1))
done
if [ "$n" -gt 0 ] && [ "$n" -lt 6 ]; then pass "the kill left the removal half done"; else fail "the kill left the removal half done" "$n of 6 files left"; fi
run "next command finishes the whole removal" 0 st list
has "recovery names every package" "$ERR" "finished the interrupted removal of arp, crunch and tcp"
lacks "arp gone" "$OUT" "arp"
lacks "crunch gone" "$OUT" "crunch"
lacks "tcp gone" "$OUT" "tcp "
has "ipv4 kept" "$OUT" "ipv4"
for f in include/arp.h include/crunch.h include/tcp.h lib/libarp.a lib/libcrunch.a lib/libtcp.a; do
	if [ -e "$SW/$f" ]; then fail "$f deleted" "still there"; else pass "$f deleted"; fi
done
run "doctor clean after recovery" 0 st doctor
python3 - "$SW/.stitch/state.db" >"$OUT" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for cmd, action, name in db.execute("SELECT h.command, c.action, c.name FROM history h "
                                    "JOIN history_changes c ON c.history_id = h.id ORDER BY h.id, c.seq"):
    print(cmd, "|", action, name)
PY
has "history has the removal of arp" "$OUT" "remove arp crunch tcp | remove arp"
has "history has the removal of tcp" "$OUT" "remove arp crunch tcp | remove tcp"

# The same command again succeeds: what it removed is no longer an error.
run "the same remove again succeeds" 0 st --repo "$R" remove arp crunch tcp
has "says crunch is already removed" "$ERR" "'crunch' is not installed: 'stitch --root"
has "nothing left to do" "$OUT" "nothing to do"

# A package gone by an earlier remove beside one still installed: the rest goes.
run "install arp again" 0 st --repo "$R" install arp
run "remove crunch (gone) and arp" 0 st --repo "$R" remove crunch arp
has "crunch noted" "$ERR" "'crunch' is not installed"
run "list after" 0 st list
lacks "arp removed" "$OUT" "arp"

# A name never installed is still an error and removes nothing.
run "install arp once more" 0 st --repo "$R" install arp
run "remove a typo with arp" 1 st --repo "$R" remove arpp arp
has "typo named" "$ERR" "'arpp' is not installed"
run "list after the typo" 0 st list
has "arp still installed" "$OUT" "arp"

# Killed at every point of a two-package remove: never half done after the next command.
for k in 1 2 3 4 5; do
	st --repo "$R" install arp tcp >/dev/null 2>&1
	STITCH_FAULT=kill-after-moves:$k st --repo "$R" remove arp tcp >/dev/null 2>&1
	st --repo "$R" remove arp tcp >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" -eq 0 ] && ! st list | grep -qE '^(arp|tcp) ' && st doctor >/dev/null; then
		pass "killed after $k deletions: the retry succeeds and the switch is clean"
	else
		fail "killed after $k deletions: the retry succeeds and the switch is clean" "exit $rc"
	fi
done
