#!/bin/bash
# kill -9 stitch at random points of install, remove (several packages),
# build (with a pinned package edited), pin add and pin remove; after each
# kill, `stitch doctor` must find nothing wrong and the same command run
# again must succeed and leave the switch as asked.  Kills come after a
# random delay within the command's usual duration, or at a STITCH_FAULT
# point (after N files moved).  The whole process group goes, so no build
# outlives the kill.
#
# STITCH_TORTURE_ROUNDS (default 12) sets the number of trials: about 10
# per round.  STITCH_TORTURE_SEED replays a run.  Prints
# "trials: N, doctor problems: N, retries failed: N" and exits non-zero on
# any problem.
. "$(dirname "$0")/../cli/testlib.sh"

# A copy of the binary: a rebuild during the trials does not change them.
# The targets it reads sit beside it, as in the tree.
cp "$STITCH" "$TMP/stitch" && STITCH=$TMP/stitch
mkdir -p "$TMP/share" && cp "$TOP/share/targets.json" "$TMP/share/"
ROUNDS=${STITCH_TORTURE_ROUNDS:-12}
SEED=${STITCH_TORTURE_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
echo "# seed $SEED (STITCH_TORTURE_SEED=$SEED replays it)"

trials=0
killed=0
doctor_problems=0
retries_failed=0
inconsistent=0

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4"
src_pkg "$R" udp 1.0.0 "ipv4"
src_pkg "$R" arp 1.0.0
src_pkg "$R" crunch 1.0.0
platform_pkg "$R"
PROJ=$TMP/proj
value_project "$PROJ" crunch '{"name": "app", "depends": ["crunch"], "sources": ["main.c"]}'
cp -a "$TMP/src/crunch-1.0.0" "$PROJ/crunch"
st init >/dev/null

now_ms() { date +%s%3N; }

# ms_sleep MS
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# note TRIAL WHAT DETAIL: print a problem with what the commands said.
note() {
	echo "# trial $1: $2"
	[ -n "$3" ] && sed 's/^/#   /' <<<"$3" | head -n 12
}

# killed_run DIR HOW CMD...: run stitch CMD in DIR in its own process group;
# HOW is "delay:MS" (kill the group after MS) or "fault:N" (STITCH_FAULT).
killed_run() {
	local dir=$1 how=$2 pid
	shift 2
	if [ "${how%%:*}" = fault ]; then
		(cd "$dir" && STITCH_FAULT=kill-after-moves:${how#fault:} \
			exec "$STITCH" --root "$ROOT" --repo "$R" "$@") >/dev/null 2>&1 &
		pid=$!
		{ wait "$pid"; } 2>/dev/null
		return
	fi
	(cd "$dir" && exec setsid "$STITCH" --root "$ROOT" --repo "$R" "$@") >/dev/null 2>&1 &
	pid=$!
	ms_sleep "${how#delay:}"
	kill -9 -- "-$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
}

# trial NAME DIR HOW CHECK CMD...: one kill, then doctor, then CMD again,
# then CHECK (a function: 0 when the switch is as CMD asks).
trial() {
	local name=$1 dir=$2 how=$3 check=$4 rc out
	shift 4
	trials=$((trials + 1))
	killed_run "$dir" "$how" "$@"
	rc=$?
	[ "$rc" -eq 137 ] && killed=$((killed + 1))
	out=$(cd "$dir" && st doctor 2>&1)
	if [ $? -ne 0 ]; then
		doctor_problems=$((doctor_problems + 1))
		note "$trials ($name, $how, exit $rc)" "doctor found problems" "$out"
	fi
	out=$(cd "$dir" && st --repo "$R" "$@" 2>&1)
	if [ $? -ne 0 ]; then
		retries_failed=$((retries_failed + 1))
		note "$trials ($name, $how, exit $rc)" "'stitch $*' again failed" "$out"
		return
	fi
	out=$(cd "$dir" && st doctor 2>&1)
	if [ $? -ne 0 ]; then
		doctor_problems=$((doctor_problems + 1))
		note "$trials ($name, $how)" "doctor found problems after the retry" "$out"
	fi
	if ! out=$(cd "$dir" && $check 2>&1); then
		inconsistent=$((inconsistent + 1))
		note "$trials ($name, $how)" "the switch is not as asked" "$out"
	fi
}

installed() { st list 2>/dev/null | awk '{print $1}' | sort | tr '\n' ' '; }
has_all() { [ "$(installed)" = "arp ipv4 tcp udp " ] || { echo "installed: $(installed)"; false; }; }
has_none() { [ -z "$(installed)" ] || { echo "installed: $(installed)"; false; }; }
image_ok() {
	local got
	got=$("$PROJ/_build/app.unix")
	[ "$got" = "value $expect" ] || { echo "image says '$got', expected 'value $expect'"; false; }
}
pinned() { st list --pinned | grep -q '^crunch ' || { echo "crunch is not pinned"; false; }; }
unpinned() {
	! st list --pinned | grep -q '^crunch ' && ! st list | grep -q '^crunch .*(pinned)' ||
		{ echo "crunch still pinned: $(st list; st list --pinned)"; false; }
}

# duration DIR CMD...: run it whole, print how long it took in ms.
duration() {
	local dir=$1 t0
	shift
	t0=$(now_ms)
	(cd "$dir" && st --repo "$R" "$@") >/dev/null 2>&1 || echo "# setup: 'stitch $*' failed" >&2
	echo $(($(now_ms) - t0))
}

# random_how MS [nomoves]: a random delay within most of MS, or one
# time in four a fault point after 1-8 moved files (not for a command that
# moves none).
random_how() {
	if [ -z "${2:-}" ] && [ $((RANDOM % 4)) -eq 0 ]; then
		echo "fault:$((RANDOM % 8 + 1))"
	else
		echo "delay:$((RANDOM % ($1 * 9 / 10 + 1)))"
	fi
}

start=$(now_ms)
SW=$ROOT/switches/default
# Usual durations, measured on whole runs (the first install builds; later
# ones mostly come from the artifact cache, as the trials' do).
duration "$TMP" install tcp udp arp >/dev/null
duration "$TMP" remove tcp udp arp ipv4 >/dev/null
t_install=$(duration "$TMP" install tcp udp arp)
t_remove=$(duration "$TMP" remove tcp udp arp ipv4)
(cd "$PROJ" && st --repo "$R" build >/dev/null 2>&1) || echo "# setup: build failed"
t_pin_add=$(duration "$PROJ" pin add crunch "$PROJ/crunch")
expect=1
sed -i "s/return [0-9]*/return $expect/" "$PROJ/crunch/crunch.c"
t_build=$(duration "$PROJ" build)
t_pin_remove=$(duration "$PROJ" pin remove crunch)
echo "# usual durations (ms): install $t_install, remove $t_remove, build $t_build," \
	"pin add $t_pin_add, pin remove $t_pin_remove"

for round in $(seq 1 "$ROUNDS"); do
	for k in 1 2; do
		trial install "$TMP" "$(random_how "$t_install")" has_all install tcp udp arp
		trial remove "$TMP" "$(random_how "$t_remove")" has_none remove tcp udp arp ipv4
	done
	trial "pin add" "$PROJ" "$(random_how "$t_pin_add" nomoves)" pinned pin add crunch "$PROJ/crunch"
	for k in 1 2 3 4; do
		expect=$((round * 10 + k))
		sed -i "s/return [0-9]*/return $expect/" "$PROJ/crunch/crunch.c"
		trial "build with the pinned crunch edited" "$PROJ" "$(random_how "$t_build")" \
			image_ok build
	done
	trial "pin remove" "$PROJ" "$(random_how "$t_pin_remove")" unpinned pin remove crunch
done

echo "# $killed of $trials commands were killed before they finished;" \
	"$inconsistent left the switch other than asked; $((($(now_ms) - start) / 1000)) s"
echo "trials: $trials, doctor problems: $doctor_problems, retries failed: $retries_failed"
if [ $((doctor_problems + retries_failed + inconsistent)) -eq 0 ]; then
	pass "kill trials"
else
	fail "kill trials" "$doctor_problems doctor problems, $retries_failed failed retries, $inconsistent inconsistent"
	exit 1
fi
