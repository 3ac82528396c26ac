#!/bin/bash
# What a terminal shows while stitch works: a status line ("building 1 of
# 2: ...") redrawn in place during a build, gone when stitch is done; no
# escape sequences with NO_COLOR; colour with --color=always; nothing of it
# when the output is a pipe.  Driven in a real pseudo-terminal by tmux
# (the screen) and script (the bytes).  Loopback only; no root needed.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
SRC_BUILD_EXTRA="sleep 1" src_pkg "$R" slowa 1.0.0
SRC_BUILD_EXTRA="sleep 1" src_pkg "$R" slowb 1.0.0 slowa
export STITCH_NO_CACHE=1
CMD="$STITCH --root $ROOT --repo $R --no-sandbox"
fresh() { rm -rf "$ROOT" && $CMD init >/dev/null; }
fresh

# Piped: the lines of today, no status line, no escapes.
run "piped install works" 0 $CMD install slowb
has "piped: result lines" "$OUT" "slowb 1.0.0: installed in"
if grep -q $'\e\|\r' "$OUT" "$ERR"; then fail "piped: no escapes, no carriage returns" "found"; else pass "piped: no escapes, no carriage returns"; fi
lacks "piped: no status line" "$ERR" "building"
fresh

if ! command -v tmux >/dev/null; then
	skip "status line on a terminal" "tmux is not installed"
else
	SOCK=$TMP/tmux.sock
	tmux -S "$SOCK" new-session -d -x 150 -y 40 \
		"cd $TMP && $CMD install slowb; echo EXIT=\$?; sleep 60"
	seen=""
	for _ in $(seq 1 150); do
		screen=$(tmux -S "$SOCK" capture-pane -p 2>/dev/null)
		case "$screen" in *"building 1 of 2: slowa 1.0.0"*) seen=$screen ;; esac
		case "$screen" in *EXIT=*) break ;; esac
		sleep 0.1
	done
	final=$(tmux -S "$SOCK" capture-pane -p)
	tmux -S "$SOCK" kill-server 2>/dev/null
	if [ -n "$seen" ]; then pass "tty: status line mid-build"; else fail "tty: status line mid-build" "never saw 'building 1 of 2: slowa 1.0.0'"; fi
	case "$seen" in *" s"*) pass "tty: status line shows the elapsed time" ;; *) fail "tty: status line shows the elapsed time" "$seen" ;; esac
	case "$final" in *EXIT=0*) pass "tty: install succeeded" ;; *) fail "tty: install succeeded" "$final" ;; esac
	case "$final" in *"slowb 1.0.0: installed in"*) pass "tty: result lines on screen" ;; *) fail "tty: result lines on screen" "$final" ;; esac
	case "$final" in *building*) fail "tty: no leftover status line" "$final" ;; *) pass "tty: no leftover status line" ;; esac
	fresh
fi

# The bytes on a terminal: script(1) records what stitch wrote to its pty.
if ! script -qfec true /dev/null >/dev/null 2>&1; then
	skip "bytes on a terminal" "script cannot make a pseudo-terminal here"
else
	NO_COLOR=1 script -qfec "$CMD install slowb" "$TMP/nocolor.raw" >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then pass "NO_COLOR: install works"; else fail "NO_COLOR: install works" "exit $rc"; fi
	has "NO_COLOR: the status line was drawn" "$TMP/nocolor.raw" "building 1 of 2"
	if grep -q $'\e' "$TMP/nocolor.raw"; then fail "NO_COLOR: no escape sequences" "$(grep -c $'\e' "$TMP/nocolor.raw") lines with ESC"; else pass "NO_COLOR: no escape sequences"; fi
	# The last line drawn is blanked: after the last "building" frame comes an erase.
	python3 - "$TMP/nocolor.raw" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read()
last = raw.rfind(b"building")
tail = raw[last:]
cr = tail.find(b"\r")
ok = cr >= 0 and b"\r" + b" " * 10 in tail
print(("ok" if ok else "not ok") + " - tty: the status line is blanked after its last frame")
PY
	fresh
	NO_COLOR= script -qfec "$CMD install slowb" "$TMP/color.raw" >/dev/null 2>&1
	has "tty: results in colour" "$TMP/color.raw" $'\e[32minstalled\e[0m'
	fresh
	NO_COLOR=1 script -qfec "$CMD --color=always install slowb" "$TMP/always.raw" >/dev/null 2>&1
	has "--color=always beats NO_COLOR" "$TMP/always.raw" $'\e[32m'
	fresh
	# What verify does for the builds it runs: output to a log, the status
	# line to the terminal named by STITCH_STATUS_FD.
	script -qfec "sh -c 'exec 9>&2; STITCH_STATUS_FD=9 $CMD install slowb >$TMP/fd.out 2>$TMP/fd.err'" \
		"$TMP/fd.raw" >/dev/null 2>&1
	has "STITCH_STATUS_FD: the status line on that terminal" "$TMP/fd.raw" "building 1 of 2"
	has "STITCH_STATUS_FD: the lines where stdout goes" "$TMP/fd.out" "slowb 1.0.0: installed in"
	lacks "STITCH_STATUS_FD: no status line in the log" "$TMP/fd.err" "building"
	fresh
	script -qfec "$CMD -q install slowb" "$TMP/quiet.raw" >/dev/null 2>&1
	lacks "-q: no status line" "$TMP/quiet.raw" "building"
	lacks "-q: no package lines" "$TMP/quiet.raw" "installed in"
	fresh
fi

# -v: each command a build runs, on stderr.
run "-v install works" 0 $CMD -v install slowb
has "-v: the commands of the builds" "$ERR" "slowa 1.0.0: \$ make PREFIX="
run "--color with a bad word" 2 $CMD --color=sometimes list
has "--color: says what it takes" "$ERR" "--color takes auto, always or never, not 'sometimes'"

# screen_run NAME CMD: run CMD in a tmux pane; SEEN holds the first screen
# matching $WANT, FINAL the screen once CMD printed EXIT=<status>.  With
# INTERRUPT set, Ctrl-C is typed as soon as WANT shows.
screen_run() {
	local sock=$TMP/tmux-$1.sock screen
	SEEN="" FINAL=""
	# The pane's shell survives Ctrl-C (a trap, which stitch does not inherit).
	tmux -S "$sock" new-session -d -x 150 -y 40 \
		"trap true INT; cd $TMP && $2; echo EXIT=\$?; sleep 60"
	for _ in $(seq 1 200); do
		screen=$(tmux -S "$sock" capture-pane -p 2>/dev/null)
		if [ -z "$SEEN" ] && [[ "$screen" == *"$WANT"* ]]; then
			SEEN=$screen
			[ -n "${INTERRUPT:-}" ] && tmux -S "$sock" send-keys C-c
		fi
		[[ "$screen" == *EXIT=* ]] && break
		sleep 0.1
	done
	FINAL=$(tmux -S "$sock" capture-pane -p)
	tmux -S "$sock" kill-server 2>/dev/null
}

# A download that shows its bytes and rate, then fails on the time limit,
# from a loopback server sending 80 KiB/s without a length.
WWW=$TMP/www
mkdir -p "$WWW"
faulty_server "$WWW"
cp -R "$R" "$WWW/repo"
python3 - "$WWW/repo/packages/slowa.json" "$URL" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for v in d["versions"].values():
    v["source"]["url"] = sys.argv[2] + "/ok/repo/" + v["source"]["url"]
json.dump(d, open(sys.argv[1], "w"))
PY
cp -R "$WWW/repo" "$WWW/slowrepo"
python3 - "$WWW/slowrepo/packages/slowa.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for v in d["versions"].values():
    v["source"]["url"] = v["source"]["url"].replace("/ok/repo/", "/endless-slow/")
json.dump(d, open(sys.argv[1], "w"))
PY
fresh
run "--json: install with a download" 0 "$STITCH" --root "$ROOT" --repo "$WWW/repo" --no-sandbox install slowa --json
size=$(stat -c %s "$R/archives/slowa-1.0.0.tar.gz")
has "--json: the download's last line, whole" "$OUT" "{\"event\":\"download\",\"name\":\"slowa\",\"version\":\"1.0.0\",\"bytes\":$size,\"total\":$size}"
has "--json: then fetch" "$OUT" '{"event":"fetch","count":1'

if command -v tmux >/dev/null; then
	fresh
	WANT="KiB/s (slowa 1.0.0)" screen_run dl \
		"STITCH_FETCH_SECONDS=3 $STITCH --root $ROOT --repo $WWW/slowrepo --no-sandbox install slowa"
	if [[ "$SEEN" =~ downloading\ 1\ source:\ [0-9.]+\ [KM]iB,\ [0-9.]+\ KiB/s\ \(slowa\ 1.0.0\) ]]; then
		pass "tty: download shows bytes and rate"
	else
		fail "tty: download shows bytes and rate" "$SEEN"
	fi
	[[ "$FINAL" == *EXIT=1* && "$FINAL" == *"error: cannot fetch 'slowa 1.0.0'"* ]] &&
		pass "tty: the failed download is an error" || fail "tty: the failed download is an error" "$FINAL"
	[[ "$FINAL" == *downloading* ]] && fail "tty: no status line left after the error" "$FINAL" ||
		pass "tty: no status line left after the error"

	fresh
	WANT="building 1 of 2: slowa 1.0.0" INTERRUPT=1 screen_run int "$CMD install slowb"
	[ -n "$SEEN" ] && pass "tty: Ctrl-C during a build" || fail "tty: Ctrl-C during a build" "never saw the build"
	[[ "$FINAL" == *EXIT=130* ]] && pass "tty: Ctrl-C kills stitch" || fail "tty: Ctrl-C kills stitch" "$FINAL"
	[[ "$FINAL" == *building* ]] && fail "tty: no status line left after Ctrl-C" "$FINAL" ||
		pass "tty: no status line left after Ctrl-C"
else
	skip "status line of downloads, errors and Ctrl-C" "tmux is not installed"
fi
