#!/bin/bash
# Asking before surprising changes: an install, upgrade, remove or pin that
# would downgrade or remove a package the user installed by name shows
# those changes and asks on a terminal (driven by tmux: "n" changes
# nothing, "y" goes ahead); -y goes ahead; off a terminal it refuses with
# the changes and "pass -y", or one "refused" event with --json; --dry-run
# never asks; a change the command itself asks for, or one to a mere
# dependency, asks nothing.  Loopback only; no root needed.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" tcp 1.0.0
src_pkg "$R" tcp 1.1.0
src_pkg "$R" http 1.0.0 "tcp {< 1.1}"
src_pkg "$R" http 1.1.0 "tcp {>= 1.1}"
src_pkg "$R" alpha 1.0.0
src_pkg "$R" alpha 2.0.0
src_pkg "$R" zeta 1.0.0 "alpha"
src_pkg "$R" zeta 2.0.0 "alpha {< 2}"
src_pkg "$R" web 1.0.0 "tcp {< 1.1}"
export STITCH_NO_CACHE=1
CMD="$STITCH --root $ROOT --repo $R --no-sandbox"
s() { $CMD "$@" </dev/null; }
fresh() { rm -rf "$ROOT" && s init >/dev/null; }
# installed NAME: "NAME VERSION" of the switch's list, or nothing.
installed() { s list --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["name"] == sys.argv[1]: print(p["name"], p["version"])' "$1"; }
# is NAME WANT: the switch has WANT ("NAME VERSION", or "" for none).
is() {
	local got
	got=$(installed "$1")
	if [ "$got" = "$2" ]; then pass "$3"; else fail "$3" "installed: '$got', expected '$2'"; fi
}

# ---- the motivating case: tcp {< 1.1} would downgrade http ----
fresh
run "install http by name" 0 s install http
s list --json >"$TMP/before.json"
run "collateral downgrade refused off a terminal" 1 s install 'tcp{<1.1}'
has "refusal: names the change" "$ERR" "downgrade http 1.1.0 -> 1.0.0"
has "refusal: says why" "$ERR" "error: stitch install would change a package you installed by name:"
has "refusal: the hint" "$ERR" "hint: pass -y to go ahead"
lacks "refusal: not the dependency's own change" "$ERR" "downgrade tcp"
lacks "refusal: nothing built" "$OUT" "downgraded"
s list --json >"$TMP/after.json"
same "refusal: the switch is unchanged" "$TMP/before.json" "$TMP/after.json"
run "the log has no refused operation" 0 s log
lacks "log: no downgrade" "$OUT" "downgraded"

run "refused with --json" 1 s install 'tcp{<1.1}' --json
python3 - "$OUT" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
ok = len(lines) == 1
o = json.loads(lines[0]) if ok else {}
ok = ok and list(o)[0] == "event" and o == {
    "event": "refused", "command": "install",
    "changes": ["downgrade http 1.1.0 -> 1.0.0"], "packages": ["http"],
    "asked": False, "hint": "pass -y to go ahead"}
print(("ok" if ok else "# %r\nnot ok" % lines) + " - --json: one refused event naming the change")
PY
same "--json refusal: the switch is unchanged" "$TMP/before.json" <(s list --json)

run "--dry-run never asks" 0 s install 'tcp{<1.1}' --dry-run
has "--dry-run: the plan shows the downgrade" "$OUT" "downgrade http 1.1.0 -> 1.0.0"
lacks "--dry-run: no refusal" "$ERR" "pass -y"

run "naming http without a version still asks" 1 s install http 'tcp{<1.1}'
has "named without a version: the change" "$ERR" "downgrade http 1.1.0 -> 1.0.0"

run "-y goes ahead" 0 s install 'tcp{<1.1}' -y
has "-y: http downgraded" "$OUT" "http 1.0.0: downgraded from 1.1.0"
is http "http 1.0.0" "-y: http is 1.0.0"
is tcp "tcp 1.0.0" "-y: tcp is 1.0.0"

# ---- no surprise: the command asks for it, or only dependencies move ----
fresh
s install http >/dev/null 2>&1
run "a downgrade the command asks for" 0 s install 'http{<1.1}'
lacks "own downgrade: no question" "$ERR" "would change"
has "own downgrade: done" "$OUT" "http 1.0.0: downgraded from 1.1.0"
is tcp "tcp 1.0.0" "the dependency went down with it, unasked"
run "an upgrade asks nothing" 0 s upgrade
lacks "upgrade: no question" "$ERR" "would change"
is http "http 1.1.0" "upgrade: http back to 1.1.0"

# ---- removal: remove --recursive would take http, installed by name ----
run "removal of a package installed by name refused" 1 s remove tcp --recursive
has "removal: names it and why" "$ERR" "remove http 1.1.0 (needs tcp)"
has "removal: the hint" "$ERR" "hint: pass -y to go ahead"
is http "http 1.1.0" "removal refused: http still installed"
is tcp "tcp 1.1.0" "removal refused: tcp still installed"
run "refused removal with --json" 1 s remove tcp --recursive --json
has "--json removal refusal" "$OUT" '{"event":"refused","command":"remove","changes":["remove http 1.1.0 (needs tcp)"],"packages":["http"],"asked":false,"hint":"pass -y to go ahead"}'
run "-y before the command goes ahead" 0 s -y remove tcp --recursive
is http "" "-y remove: http removed"
is tcp "" "-y remove: tcp removed"
s install http >/dev/null 2>&1
run "removing what the command names asks nothing" 0 s remove http
lacks "named removal: no question" "$ERR" "would change"
is http "" "named removal: http removed"

# ---- upgrade that would downgrade zeta (alpha 2 needs zeta 1) ----
fresh
s install zeta >/dev/null 2>&1
is zeta "zeta 2.0.0" "zeta 2.0.0 installed by name"
run "upgrade downgrading zeta refused" 1 s upgrade
has "upgrade refusal: the change" "$ERR" "downgrade zeta 2.0.0 -> 1.0.0"
has "upgrade refusal: says the command" "$ERR" "stitch upgrade would change"
is alpha "alpha 1.0.0" "upgrade refused: alpha unchanged"
run "upgrade -y" 0 s upgrade -y
is zeta "zeta 1.0.0" "upgrade -y: zeta 1.0.0"
is alpha "alpha 2.0.0" "upgrade -y: alpha 2.0.0"

# ---- pin add: a checkout older than what is installed by name ----
fresh
s install http >/dev/null 2>&1
mkdir -p "$TMP/co" && tar -C "$TMP/co" -xzf "$R/archives/http-1.0.0.tar.gz"
cat >"$TMP/co/http-1.0.0/stitch.json" <<'J'
{"name": "http", "versions": {"1.0.0": {"source": {"url": "."}, "depends": ["tcp"],
 "build": [["make", "PREFIX=%{prefix}%"]],
 "install": [["make", "install", "PREFIX=%{prefix}%"]]}}}
J
run "pin add of an older checkout refused" 1 s pin add http "$TMP/co/http-1.0.0"
has "pin add refusal: the change" "$ERR" "downgrade http 1.1.0 -> 1.0.0"
run "pin add refused: no pin" 0 s pin list
has "pin add refused: pin list empty" "$ERR" "no pins"
run "pin add refused with --json" 1 s pin add http "$TMP/co/http-1.0.0" --json
has "pin add --json refusal" "$OUT" '"event":"refused","command":"pin add"'
run "pin add -y" 0 s pin add http "$TMP/co/http-1.0.0" -y
has "pin add -y: pinned" "$OUT" "pinned http 1.0.0"
run "installing the pinned http asks nothing more" 0 s install http
lacks "pinned install: no question" "$ERR" "would change"
is http "http 1.0.0" "pinned install: http 1.0.0"

# ---- pin remove: back to the release of web would downgrade tcp ----
fresh
s install tcp >/dev/null 2>&1
mkdir -p "$TMP/wco" && tar -C "$TMP/wco" -xzf "$R/archives/web-1.0.0.tar.gz"
cat >"$TMP/wco/web-1.0.0/stitch.json" <<'J'
{"name": "web", "versions": {"2.0.0": {"source": {"url": "."}, "depends": ["tcp"],
 "build": [["make", "PREFIX=%{prefix}%"]],
 "install": [["make", "install", "PREFIX=%{prefix}%"]]}}}
J
run "pin a newer web" 0 s pin add web "$TMP/wco/web-1.0.0"
run "install the pinned web" 0 s install web
is web "web 2.0.0" "web 2.0.0 from the checkout"
run "pin remove downgrading tcp refused" 1 s pin remove web
has "pin remove refusal: tcp's downgrade" "$ERR" "downgrade tcp 1.1.0 -> 1.0.0"
lacks "pin remove refusal: web's own is asked for" "$ERR" "downgrade web"
lacks "pin remove refusal: not said to be unpinned" "$OUT" "unpinned"
run "pin remove refused: the pin stays" 0 s pin list
has "pin remove refused: pin listed" "$OUT" "$TMP/wco/web-1.0.0"
is web "web 2.0.0" "pin remove refused: web unchanged"
is tcp "tcp 1.1.0" "pin remove refused: tcp unchanged"
run "pin remove -y" 0 s -y pin remove web
has "pin remove -y: unpinned" "$OUT" "unpinned web; going back to the release"
is web "web 1.0.0" "pin remove -y: web back to the release"
is tcp "tcp 1.0.0" "pin remove -y: tcp 1.0.0"

# ---- on a terminal: the question, answered n then y ----
# ask_run ANSWER: run the refused install in a tmux pane, type ANSWER once
# "[y/N]" shows; SEEN: that screen, FINAL: the screen with EXIT=<status>.
ask_run() {
	local sock=$TMP/tmux-$1.sock screen
	SEEN="" FINAL=""
	tmux -S "$sock" new-session -d -x 150 -y 40 \
		"cd $TMP && $CMD install 'tcp{<1.1}'; echo EXIT=\$?; sleep 60"
	for _ in $(seq 1 300); do
		screen=$(tmux -S "$sock" capture-pane -p 2>/dev/null)
		if [ -z "$SEEN" ] && [[ "$screen" == *"[y/N]"* ]]; then
			SEEN=$screen
			tmux -S "$sock" send-keys "$1" Enter
		fi
		[[ "$screen" == *EXIT=* ]] && break
		sleep 0.1
	done
	FINAL=$(tmux -S "$sock" capture-pane -p)
	tmux -S "$sock" kill-server 2>/dev/null
}

if ! command -v tmux >/dev/null; then
	skip "the question on a terminal" "tmux is not installed"
else
	fresh
	s install http >/dev/null 2>&1
	ask_run n
	[[ "$SEEN" == *"downgrade http 1.1.0 -> 1.0.0"* && "$SEEN" == *"go ahead? [y/N]"* ]] &&
		pass "tty: the change and the question" || fail "tty: the change and the question" "$SEEN"
	[[ "$FINAL" == *EXIT=1* && "$FINAL" == *"nothing changed"* ]] &&
		pass "tty: n changes nothing, exit 1" || fail "tty: n changes nothing, exit 1" "$FINAL"
	[[ "$FINAL" == *"pass -y"* ]] && fail "tty: no hint after an answer" "$FINAL" ||
		pass "tty: no hint after an answer"
	is http "http 1.1.0" "tty n: http still 1.1.0"
	ask_run y
	[[ "$FINAL" == *EXIT=0* && "$FINAL" == *"http 1.0.0: downgraded from 1.1.0"* ]] &&
		pass "tty: y goes ahead" || fail "tty: y goes ahead" "$FINAL"
	is http "http 1.0.0" "tty y: http is 1.0.0"
fi
