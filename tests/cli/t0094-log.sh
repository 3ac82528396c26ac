#!/bin/bash
# stitch log and stitch rollback: install, upgrade, pin, rollback back and
# forward again, each followed by stitch doctor; the log lists them all in
# order with their words; a rollback takes its builds from the artifact
# cache; a state that cannot be reached is refused and the switch is left as
# it was; operations recorded before the snapshots were kept are listed and
# marked.  Loopback only; no root needed.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4 {>= 1.0}"
src_pkg "$R" udp 1.0.0 "ipv4 {>= 1.0}"
SRC_PC_VERSION=1.1 src_pkg "$R" udp 1.1.0 "ipv4 {>= 1.0}"
s() { st --repo "$R" "$@"; }
WORK=$TMP/work
mkdir -p "$WORK"

doctor() {
	run "doctor clean after $1" 0 st doctor
	has "doctor finds no problem after $1" "$OUT" "0 problems"
}
# snap FILE: the switch's packages (list --json) and pins, to compare states.
snap() { { st list --json && st list --pinned; } >"$1" 2>/dev/null; }

run "init" 0 st init
run "log of a new switch" 0 st log
has "log says there is nothing yet" "$OUT" "no operation on the switch"

# ---- four operations ----
run "install tcp and udp 1.0.0 (operation 1)" 0 s install tcp "udp {= 1.0.0}"
doctor "install"
snap "$TMP/state1"
run "upgrade (operation 2)" 0 s upgrade
has "udp upgraded" "$OUT" "udp 1.1.0: upgraded from 1.0.0"
doctor "upgrade"
(cd "$WORK" && s pin add tcp >"$OUT" 2>"$ERR")
has "pin add (operation 3)" "$OUT" "pinned tcp 1.0.0 to $WORK/tcp"
doctor "pin add"
run "install with the pin in force (operation 4)" 0 s install tcp
has "tcp rebuilt from the pin" "$OUT" "tcp 1.0.0: rebuilt"
doctor "the pinned build"
snap "$TMP/state4"

# ---- the log ----
run "log" 0 st log
if python3 - "$OUT" <<'PY'; then pass "log: newest first, each with its number, time and command"; else fail "log: newest first, each with its number, time and command" "$(cat "$OUT")"; fi
import re, sys
heads = [l for l in open(sys.argv[1]) if not l.startswith(" ")]
ids = [int(l.split()[0]) for l in heads]
assert ids == [4, 3, 2, 1], ids
for l in heads:
    assert re.match(r"^\d+  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}  stitch ", l), l
assert heads[0].rstrip().endswith("install tcp") and heads[1].rstrip().endswith("pin add tcp")
assert heads[2].rstrip().endswith("upgrade"), heads
PY
has "log: installed" "$OUT" "    installed  ipv4 1.0.0"
has "log: upgraded old -> new" "$OUT" "    upgraded   udp 1.0.0 -> 1.1.0"
has "log: pinned" "$OUT" "    pinned     tcp 1.0.0"
has "log: rebuilt" "$OUT" "    rebuilt    tcp 1.0.0"
lacks "log: no operation marked as old" "$OUT" "older stitch"
run "log --reverse -n 2" 0 st log --reverse -n 2
if [ "$(grep -v '^ ' "$OUT" | cut -d' ' -f1 | tr '\n' ' ')" = "3 4 " ]; then
	pass "log -n 2 --reverse: the newest two, oldest first"
else
	fail "log -n 2 --reverse: the newest two, oldest first" "$(cat "$OUT")"
fi
run "log takes no operand" 2 st log 3
run "log -n 0 is a usage error" 2 st log -n 0
has "log -n 0 explained" "$ERR" "-n expects a positive number, got '0'"

# ---- rollback 1, planned, then done ----
run "rollback 1 --dry-run" 0 s rollback 1 --dry-run
has "dry run names the operation" "$OUT" "rollback to operation 1 ("
has "plan: udp from the cache" "$OUT" "downgrade udp 1.1.0 -> 1.0.0 (cached)"
has "plan: tcp's release from the cache" "$OUT" "cached    tcp 1.0.0"
has "plan: ipv4 kept" "$OUT" "keep      ipv4 1.0.0"
snap "$TMP/now"
same "dry run changes nothing" "$TMP/state4" "$TMP/now"
run "rollback 1" 0 s rollback 1 --json
if python3 - "$OUT" <<'PY'; then pass "rollback 1 took every build from the cache"; else fail "rollback 1 took every build from the cache" "$(cat "$OUT")"; fi
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert ev[0]["event"] == "rollback" and ev[0]["to"] == 1 and ev[0]["dry_run"] is False, ev[0]
pk = {e["name"]: e for e in ev if e["event"] == "package"}
assert pk["udp"]["action"] == "cached" and pk["udp"]["change"] == "downgrade", pk
assert pk["tcp"]["action"] == "cached", pk
assert pk["ipv4"]["action"] == "kept", pk
assert not [e for e in ev if e["event"] == "building"], ev
plan = {e["name"]: e["action"] for e in ev if e["event"] == "plan"}
assert plan == {"ipv4": "keep", "tcp": "cached", "udp": "cached"}, plan
PY
doctor "rollback 1"
snap "$TMP/now"
same "the switch is as operation 1 left it" "$TMP/state1" "$TMP/now"

# ---- forward again, to operation 4 ----
run "rollback 4" 0 s rollback 4 --json
if python3 - "$OUT" <<'PY'; then pass "rollback 4: udp from the cache, tcp from its pin"; else fail "rollback 4: udp from the cache, tcp from its pin" "$(cat "$OUT")"; fi
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
pk = {e["name"]: e for e in ev if e["event"] == "package"}
assert pk["udp"]["action"] == "cached" and pk["udp"]["change"] == "upgrade", pk
# a pinned build is never cached: it is built again from the checkout
assert pk["tcp"]["action"] == "rebuilt", pk
pins = [e for e in ev if e["event"] == "pin"]
assert pins and pins[0]["name"] == "tcp" and pins[0]["state"] == "unchanged", pins
PY
doctor "rollback 4"
snap "$TMP/now"
same "the switch is as operation 4 left it" "$TMP/state4" "$TMP/now"

run "log after the rollbacks" 0 st log --json
cp "$OUT" "$TMP/log.json"
if python3 - "$OUT" <<'PY'; then pass "log --json: every line follows the log vocabulary"; else fail "log --json: every line follows the log vocabulary" "$(cat "$OUT")"; fi
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
words = {"installed", "upgraded", "downgraded", "removed", "rebuilt", "pinned", "unpinned"}
ops, i = [], 0
while i < len(lines):
    o = lines[i]
    assert list(o)[0] == "event" and o["event"] == "log", o
    assert set(o) == {"event", "id", "time", "command", "summary", "snapshot", "changes"}, o
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", o["time"]), o
    assert o["snapshot"] is True and isinstance(o["changes"], int), o
    chs = lines[i + 1:i + 1 + o["changes"]]
    assert len(chs) == o["changes"], o
    for c in chs:
        assert c["event"] == "log" and c["id"] == o["id"] and c["action"] in words, c
        assert set(c) <= {"event", "id", "action", "name", "version", "old_version"}, c
    ops.append((o, chs))
    i += 1 + o["changes"]
assert [o["id"] for o, _ in ops] == [6, 5, 4, 3, 2, 1], [o["id"] for o, _ in ops]
def acts(k):
    return sorted((c["action"], c["name"], c.get("old_version"), c["version"]) for c in ops[k][1])
assert ops[1][0]["command"].endswith("rollback 1 --json"), ops[1][0]
assert ("unpinned", "tcp", None, "1.0.0") in acts(1), acts(1)
assert ("downgraded", "udp", "1.1.0", "1.0.0") in acts(1), acts(1)
assert ("pinned", "tcp", None, "1.0.0") in acts(0), acts(0)
assert ("upgraded", "udp", "1.0.0", "1.1.0") in acts(0), acts(0)
PY
run "log text after the rollbacks" 0 st log -n 2
has "log: the rollback's downgrade" "$OUT" "    downgraded udp 1.1.0 -> 1.0.0"
has "log: the rollback's unpin" "$OUT" "    unpinned   tcp 1.0.0"

# ---- states that cannot be reached ----
snap "$TMP/before"
cp "$R/packages/udp.json" "$TMP/udp.json"
python3 - "$R/packages/udp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["versions"]["1.0.0"]
json.dump(d, open(sys.argv[1], "w"))
PY
run "rollback to a version the index lost is refused" 1 s rollback 1
has "refusal names the package" "$ERR" "cannot roll back to operation 1: 'udp 1.0.0' is in no repository in use"
has "refusal says nothing changed" "$ERR" "the switch is unchanged"
cp "$TMP/udp.json" "$R/packages/udp.json"
mv "$WORK/tcp" "$WORK/tcp.away"
run "rollback to a pin whose checkout is gone is refused" 1 s rollback 3
has "refusal names the pin" "$ERR" "the checkout '$WORK/tcp' of pinned 'tcp' is gone"
mv "$WORK/tcp.away" "$WORK/tcp"
run "rollback to an operation that does not exist" 1 s rollback 99
has "unknown operation explained" "$ERR" "no operation 99 in the history"
run "rollback without a number" 2 s rollback
run "rollback of a word" 2 s rollback last
has "bad operation number explained" "$ERR" "'last' is not an operation number"
snap "$TMP/after"
same "refused rollbacks leave the switch as it was" "$TMP/before" "$TMP/after"
run "log after the refusals" 0 st log --json
same "refused rollbacks add nothing to the log" "$TMP/log.json" "$OUT"
doctor "the refusals"

# ---- operations recorded before snapshots were kept ----
# The state as an older stitch wrote it (schema 2): history without snapshots.
python3 - "$ROOT/switches/default/.stitch/state.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
DROP TABLE history_packages; DROP TABLE history_pins;
ALTER TABLE history DROP COLUMN snapshot; PRAGMA user_version = 2;
""")
db.close()
PY
run "log of an older state" 0 st log
has "older operations are listed" "$OUT" "    upgraded   udp 1.0.0 -> 1.1.0"
has "older operations are marked" "$OUT" "(recorded by an older stitch: changes only, cannot roll back to it)"
run "rollback to an older operation is refused" 1 s rollback 2
has "refusal says why" "$ERR" "cannot roll back to operation 2: it was recorded without the state it left"
(cd "$WORK" && s pin remove tcp >"$OUT" 2>"$ERR")
has "pin remove after the migration" "$OUT" "unpinned tcp"
doctor "pin remove"
run "log after the migration" 0 st log --json
if python3 - "$OUT" <<'PY'; then pass "log --json: the new operation has a snapshot, the older ones not"; else fail "log --json: the new operation has a snapshot, the older ones not" "$(cat "$OUT")"; fi
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
ops = [o for o in ops if "snapshot" in o]
assert ops[0]["id"] == 7 and ops[0]["snapshot"] is True, ops[0]
assert all(o["snapshot"] is False for o in ops[1:]), ops
PY
run "rollback 7 --dry-run after the migration" 0 s rollback 7 --dry-run
has "nothing to do to reach the current state" "$OUT" "keep      udp 1.1.0"
