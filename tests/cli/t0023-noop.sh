#!/bin/bash
# The no-op stamp (cmd/noop.c): a build that changed nothing leaves
# _stitch/.stitch/noop, and the next build with the same invocation prints
# the same lines from it without opening the switch.  Any change to what a
# build reads takes the full path again.
#
# Which path a build took is seen through the switch's lock: while another
# process holds it, the full path waits for it, and the stamp does not
# open the switch at all.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4"
platform_pkg "$R"
PROJ=$TMP/proj
value_project "$PROJ" tcp '{"name": "app", "depends": ["tcp"], "sources": ["main.c"]}'
cd "$PROJ" || exit 1
s() { st --repo "$R" "$@"; }
STAMP=$PROJ/_stitch/.stitch/noop
LOCK=$PROJ/_stitch/.stitch/lock

# settle: file times one coarse clock tick behind are not trusted (50 ms).
settle() { sleep 0.1; }
# The compiled index is rewritten while a repository file is under 2 s old.
settle_repo() { sleep 2.1; }

# locked NAME WANT ARGS...: run stitch ARGS while another process holds the
# switch's lock; WANT is fast (done, exit 0) or full (still waiting for the
# lock after 1 s).
locked() {
	local name=$1 want=$2 rc
	shift 2
	flock -x "$LOCK" sleep 6 &
	local holder=$!
	for _ in $(seq 1 100); do
		flock -n -x "$LOCK" true 2>/dev/null || break
		sleep 0.02
	done
	# the full path cannot end while the lock is held: 1 s shows it waits
	timeout "$([ "$want" = full ] && echo 1 || echo 5)" "$STITCH" --root "$ROOT" --repo "$R" "$@" \
		>"$OUT" 2>"$ERR"
	rc=$?
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	case $want/$rc in
	fast/0 | full/124) pass "$name" ;;
	*) fail "$name" "exit $rc, expected the $want path" ;;
	esac
}

run "first build" 0 s build
[ -e "$STAMP" ] && fail "a build that did work leaves no stamp" "$STAMP exists" ||
	pass "a build that did work leaves no stamp"
settle_repo
run "a no-op build" 0 s build
settle
run "a no-op build" 0 s build
cp "$OUT" "$TMP/noop.out"
has "it says so" "$OUT" "image up to date"
[ -s "$STAMP" ] && pass "the no-op build leaves a stamp" || fail "the no-op build leaves a stamp" "no $STAMP"

locked "the next no-op takes the stamp" fast build
same "and prints what the no-op build printed" "$OUT" "$TMP/noop.out"
locked "so does the one after" fast build

# Each change below takes the full path; settle, a no-op, and the stamp is back.
# (The first no-op after a link removes the link's log: the second leaves the stamp.)
again() {
	settle
	run "$1: the next build" 0 s build
	settle
	run "$1: a no-op again" 0 s build
	settle
	run "$1: a no-op again" 0 s build
	locked "$1: then the stamp" fast build
}

echo 'int extra;' >>main.c
locked "a source edited: the full path" full build
run "a source edited: relinked" 0 s build
has "a source edited: relinked, said" "$OUT" "image relinked"
again "a source"

touch "$PROJ/notes.txt"
locked "a new file in the project: the full path" full build
again "a new file"

rm -f _build/app.unix
locked "the image removed: the full path" full build
run "the image removed: relinked" 0 s build
has "the image removed: relinked, said" "$OUT" "image relinked"
[ -x _build/app.unix ] && pass "the image is back" || fail "the image is back" "no _build/app.unix"
again "the image"

touch _stitch/lib/libtcp.a
locked "an installed library touched: the full path" full build
again "a library"

python3 - "$R/packages/tcp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["description"] = "TCP, described again"
json.dump(d, open(sys.argv[1], "w"))
PY
locked "the repository's package file changed: the full path" full build
settle_repo
again "the repository"

STITCH_JOBS=3 locked "another STITCH_JOBS: the full path" full build
locked "another argument (-q): the full path" full -q build
locked "--json never takes the stamp" full build --json
locked "--explain never takes the stamp" full build --explain
locked "the same invocation again: the stamp" fast build

mkdir -p "$TMP/elsewhere"
cp -R "$PROJ/main.c" "$PROJ/unikernel.json" "$TMP/elsewhere/"
(cd "$TMP/elsewhere" && timeout 60 "$STITCH" --root "$ROOT" --repo "$R" build >"$OUT" 2>"$ERR")
lacks "another project's build is its own" "$OUT" "$PROJ/_build"

# A pin: its checkout's files are read by the build.
run "pin add tcp" 0 s pin add tcp
again "a pin"
echo '/* an edit */' >>tcp/tcp.c
locked "a pinned checkout edited: the full path" full build
run "a pinned checkout edited: rebuilt" 0 s build
has "a pinned checkout edited: tcp rebuilt" "$OUT" "rebuilt"
again "a pin edited"

# After a failed build the next one fails again: no stamp stands for it.
echo 'this is not C' >>main.c
run "a broken source: the build fails" 1 s build
settle
locked "after a failed build: the full path" full build
run "and it fails again" 1 s build
