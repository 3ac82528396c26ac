#!/bin/bash
# A package's build and install commands run in one sandbox (or one
# network namespace without it), in order, by stitch itself: one sandbox
# per package build, DESTDIR for install commands only, the failing command
# named with its status, what a command leaves running killed before the
# next one starts.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
SW=$TMP/sw
st init --switch "$SW" >/dev/null
s() { env STITCH_NO_CACHE=1 "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" "$@"; }

# recipe_pkg NAME BUILD INSTALL: package NAME 1.0.0 with BUILD and INSTALL
# as JSON command lists.
recipe_pkg() {
	local name=$1 build=$2 install=$3
	mkdir -p "$TMP/src/$name-1.0.0" "$R/archives"
	echo "$name" >"$TMP/src/$name-1.0.0/README"
	tar -C "$TMP/src" -czf "$R/archives/$name-1.0.0.tar.gz" "$name-1.0.0"
	python3 - "$R" "$name" "$build" "$install" <<'PY'
import hashlib, json, sys
repo, name, build, install = sys.argv[1:]
arc = "archives/%s-1.0.0.tar.gz" % name
sha = hashlib.sha256(open(repo + "/" + arc, "rb").read()).hexdigest()
d = {"name": name, "synopsis": name, "versions": {"1.0.0": {
    "source": {"url": arc, "sha256": sha}, "depends": [],
    "build": json.loads(build), "install": json.loads(install)}}}
json.dump(d, open(repo + "/packages/" + name + ".json", "w"))
PY
}
# An install that keeps FILE of the build tree as share/NAME.txt.
keep() { echo "[[\"sh\", \"-c\", \"mkdir -p \$DESTDIR%{prefix}%/share && cp $2 \$DESTDIR%{prefix}%/share/$1.txt\"]]"; }

BWRAP=$(command -v bwrap || true)
if [ -z "$BWRAP" ]; then
	skip "one sandbox per package build" "bubblewrap is not installed"
	exit 0
fi
# bubblewrap, counting its runs.
cat >"$TMP/bwrap" <<SH
#!/bin/sh
echo run >>"$TMP/bwrap.calls"
exec "$BWRAP" "\$@"
SH
chmod +x "$TMP/bwrap"
counted() { rm -f "$TMP/bwrap.calls"; (export STITCH_BWRAP="$TMP/bwrap"; "$@"); }
calls() { if [ -f "$TMP/bwrap.calls" ]; then wc -l <"$TMP/bwrap.calls" | tr -d ' '; else echo 0; fi; }

# seq: two build commands and an install command, each leaving a line.
recipe_pkg seq '[["sh", "-c", "echo one >>order.txt"],
	["sh", "-c", "echo two >>order.txt; echo build DESTDIR=${DESTDIR-unset} >>order.txt"]]' \
	'[["sh", "-c", "echo three >>order.txt; echo install DESTDIR=${DESTDIR-unset} >>order.txt"],
	["sh", "-c", "mkdir -p $DESTDIR%{prefix}%/share && cp order.txt $DESTDIR%{prefix}%/share/seq.txt"]]'
run "a package of four commands builds" 0 counted s -v install seq
OUT_SEQ=$SW/share/seq.txt
if [ "$(calls)" = 1 ]; then pass "one sandbox for its four commands"; else fail "one sandbox for its four commands" "$(calls) runs of bubblewrap"; fi
if [ "$(head -n 2 "$OUT_SEQ" | tr '\n' ' ')" = "one two " ] && sed -n 4p "$OUT_SEQ" | grep -qx three; then
	pass "the commands ran in order"
else
	fail "the commands ran in order" "$(cat "$OUT_SEQ")"
fi
has "build commands have no DESTDIR" "$OUT_SEQ" "build DESTDIR=unset"
if grep -q "^install DESTDIR=/.*staging" "$OUT_SEQ"; then pass "install commands have DESTDIR"; else fail "install commands have DESTDIR" "$(cat "$OUT_SEQ")"; fi
shown=$(grep 'seq 1.0.0: \$ ' "$ERR" | sed 's/^.*: \$ sh -c //' | cut -c1-10 | tr '\n' '|')
if [ "$shown" = "echo one >|echo two >|echo three|mkdir -p \$|" ]; then
	pass "-v shows each command as it starts"
else
	fail "-v shows each command as it starts" "$(grep 'seq 1.0.0' "$ERR")"
fi
LOG=$(find "$SW/.stitch/logs" -name 'seq-1.0.0*.log' | head -n1)
if [ "$(grep -c '^\$ sh -c' "$LOG")" -eq 4 ]; then pass "the log has every command"; else fail "the log has every command" "$(cat "$LOG")"; fi

# Two packages to build: a check, then one sandbox each.
recipe_pkg pa '[["sh", "-c", "echo a >a.txt"]]' "$(keep pa a.txt)"
recipe_pkg pb '[["sh", "-c", "echo b >b.txt"]]' "$(keep pb b.txt)"
run "two packages build" 0 counted s install pa pb
if [ "$(calls)" = 3 ]; then pass "one check and one sandbox per package"; else fail "one check and one sandbox per package" "$(calls) runs of bubblewrap"; fi
run "remove them" 0 s remove pa pb seq

# The failing command is named, the ones after it do not run, the log's
# end is in the message.
recipe_pkg mid '[["sh", "-c", "echo first-ran"], ["sh", "-c", "echo boom; exit 3"],
	["sh", "-c", "echo third >third.txt"]]' "$(keep mid README)"
for mode in "" --no-sandbox; do
	m=${mode:+ ($mode)}
	run "a failing build command fails the install$m" 1 s $mode install mid
	has "it is named with its status$m" "$ERR" "build of 'mid 1.0.0' failed: 'sh -c echo boom; exit 3' exited with status 3"
	has "the log's last lines are in the message$m" "$ERR" "first-ran"
	if [ -z "$(find "$SW/.stitch/build" -name third.txt)" ]; then pass "the command after it did not run$m"; else fail "the command after it did not run$m" "third.txt exists"; fi
	run "list after the failure$m" 0 s list
	lacks "nothing was installed$m" "$OUT" "mid"
done

recipe_pkg inst '[["true"]]' '[["true"], ["sh", "-c", "exit 4"]]'
run "a failing install command fails the install" 1 s install inst
has "the install step is named" "$ERR" "install of 'inst 1.0.0' failed: 'sh -c exit 4' exited with status 4"

recipe_pkg sig '[["sh", "-c", "kill -9 $$"]]' '[["true"]]'
for mode in "" --no-sandbox; do
	run "a command killed by a signal${mode:+ ($mode)}" 1 s $mode install sig
	has "the signal is named${mode:+ ($mode)}" "$ERR" "build of 'sig 1.0.0' failed: 'sh -c kill -9 \$\$' was killed by signal 9"
done

recipe_pkg nf "[[\"true\"], [\"no-such-tool-$$\"]]" '[["true"]]'
run "a command that is not there" 1 s install nf
has "it exits 127" "$ERR" "build of 'nf 1.0.0' failed: 'no-such-tool-$$' exited with status 127"
has "the log says where it was looked for" "$ERR" "stitch: 'no-such-tool-$$' not found in PATH=$SW/bin:"

# What a command leaves running is gone before the next one starts.
LEFT=stitch-left-$$
recipe_pkg left "[[\"sh\", \"-c\", \"(exec -a $LEFT sleep 300) & sleep 0.3\"],
	[\"sh\", \"-c\", \"if pgrep -f ^$LEFT >/dev/null; then echo alive; else echo gone; fi >left.txt\"]]" \
	"$(keep left left.txt)"
run "a command leaves a process behind" 0 s install left
has "it is gone when the next command runs" "$SW/share/left.txt" "gone"
s remove left >/dev/null 2>&1
if [ "$(id -u)" -eq 0 ]; then ns=(unshare --net --pid --fork true); else ns=(unshare --user --map-current-user --net --pid --fork true); fi
if "${ns[@]}" 2>/dev/null; then
	run "a command leaves a process behind (--no-sandbox)" 0 s --no-sandbox install left
	has "it is gone when the next command runs (--no-sandbox)" "$SW/share/left.txt" "gone"
else
	skip "a command leaves a process behind (--no-sandbox)" "no PID namespace for $(id -un)"
fi
pkill -9 -f "^$LEFT" 2>/dev/null

# A lone build whose sandbox cannot start says so itself.
recipe_pkg lone '[["sh", "-c", "echo lone >lone.txt"]]' "$(keep lone lone.txt)"
run "a lone build with a sandbox that cannot start" 1 env STITCH_BWRAP=/bin/false "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" install lone
has "it says so" "$ERR" "cannot build 'lone 1.0.0' in a sandbox: bubblewrap (/bin/false) could not set it up"
has "and how to opt out" "$ERR" "--no-sandbox"
if [ "$(grep -c 'in a sandbox' "$ERR")" -eq 1 ]; then pass "said once"; else fail "said once" "$(cat "$ERR")"; fi

# The driver is stitch's own.
run "the driver by hand is refused" 2 "$STITCH" __build-driver
has "saying what it is" "$ERR" "'__build-driver' is for stitch's own builds"
run "a malformed driver command line is refused" 2 "$STITCH" __build-driver - x 1 true 3>/dev/null
