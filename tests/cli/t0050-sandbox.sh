#!/bin/bash
# The build sandbox: a recipe cannot write outside its tree, read files
# outside it, reach the network or see the host's processes; it sees only
# descriptors 0, 1 and 2; it dies with stitch.  --no-sandbox lifts the
# sandbox (so the checks below can fail).
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
SW=$TMP/sw
CANARY=$TMP/canary
SECRET=$TMP/secret/token.txt
MARK=stitch-host-$$
mkdir -p "$CANARY" "$(dirname "$SECRET")"
echo "secret-$$-value" >"$SECRET"
chmod 600 "$SECRET"

# recipe_pkg NAME BUILD INSTALL: package NAME 1.0.0 from $TMP/src/NAME-1.0.0
# (already filled), with BUILD and INSTALL as JSON command lists.
recipe_pkg() {
	local name=$1 build=$2 install=$3
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
mkdir -p "$R/archives" "$TMP/src/probe-1.0.0"

# The probe: every attempt is written to report.txt in its tree, which the
# install copies into the switch.  The marker is split so that no command
# line of the probe itself holds it.
cat >"$TMP/src/probe-1.0.0/probe.sh" <<SH
exec >report.txt 2>&1
echo pwned >"$HOME/pwned" && echo "wrote home"
echo pwned >"$CANARY/pwned" && echo "wrote canary"
cat "$SECRET" && echo "read secret"
test -r "$SW/.stitch/state.db" && echo "saw the switch's database"
bash -c 'echo hello >/dev/tcp/127.0.0.1/\$1' - "\$(cat "$TMP/port")" && echo "connected"
m=stitch-host; m="\$m-$$"
for f in /proc/[0-9]*/cmdline; do
	c=\$(tr '\0' ' ' <"\$f" 2>/dev/null)
	case "\$c" in *"\$m"*) echo "host process seen: \$f" ;; esac
done
echo "fds: \$(ls /proc/self/fd | tr '\n' ' ')"
echo done
exit 0
SH
recipe_pkg probe '[["sh", "probe.sh"]]' \
	'[["sh", "-c", "mkdir -p $DESTDIR%{prefix}%/share && cp report.txt $DESTDIR%{prefix}%/share/probe.txt"]]'

# A listener on loopback that records every connection.
python3 - "$TMP/port" "$TMP/conns" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(5)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    open(sys.argv[2], "a").write("connection\n")
    c.close()
PY
LISTENER=$!
python3 -c 'import time, sys; time.sleep(600)' "$MARK" &
HOSTPROC=$!
trap 'kill $LISTENER $HOSTPROC 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done

st init --switch "$SW" >/dev/null
s() { "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" "$@"; }
REPORT=$SW/share/probe.txt

run "probe builds in the sandbox" 0 s install probe
has "probe ran to its end" "$REPORT" "done"
lacks "no write to \$HOME (said)" "$REPORT" "wrote home"
if [ ! -e "$HOME/pwned" ]; then pass "no write to \$HOME"; else fail "no write to \$HOME" "$HOME/pwned exists"; fi
lacks "no write outside the tree (said)" "$REPORT" "wrote canary"
if [ -z "$(ls -A "$CANARY")" ]; then pass "canary untouched"; else fail "canary untouched" "$(ls "$CANARY")"; fi
lacks "secret outside the tree not read" "$REPORT" "secret-$$-value"
lacks "the switch's database is hidden" "$REPORT" "saw the switch's database"
lacks "no connection (said)" "$REPORT" "connected"
if [ ! -e "$TMP/conns" ]; then pass "listener got no connection"; else fail "listener got no connection" "$(cat "$TMP/conns")"; fi
lacks "no host process seen" "$REPORT" "host process seen"
if grep -qx "fds: 0 1 2 3 " "$REPORT"; then
	pass "only 0, 1, 2 open (and ls's own 3)"
else
	fail "only 0, 1, 2 open (and ls's own 3)" "$(grep fds: "$REPORT")"
fi

# The same recipe without the sandbox does what it tries (network aside:
# builds never have it).
run "remove probe" 0 s remove probe
run "probe builds with --no-sandbox" 0 env STITCH_NO_CACHE=1 "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" --no-sandbox install probe
has "--no-sandbox: the canary is written" "$REPORT" "wrote canary"
if [ -e "$CANARY/pwned" ]; then pass "--no-sandbox: canary file there"; else fail "--no-sandbox: canary file there" "no $CANARY/pwned"; fi
has "--no-sandbox: the secret is read" "$REPORT" "secret-$$-value"
has "--no-sandbox: the switch's database is there" "$REPORT" "saw the switch's database"
has "--no-sandbox: host processes seen" "$REPORT" "host process seen"
if grep -qx "fds: 0 1 2 3 " "$REPORT"; then
	pass "--no-sandbox: only 0, 1, 2 open"
else
	fail "--no-sandbox: only 0, 1, 2 open" "$(grep fds: "$REPORT")"
fi
if [ ! -e "$TMP/conns" ]; then pass "--no-sandbox: still no network"; else fail "--no-sandbox: still no network" "connected"; fi
rm -f "$CANARY/pwned" "$HOME/pwned"

# "sandbox": false in the root's config does the same.
run "remove probe again" 0 s remove probe
printf '{"format": 1, "repos": [{"name": "default", "bundled": true}], "sandbox": false}\n' >"$ROOT/config.json"
run "probe builds with \"sandbox\": false" 0 env STITCH_NO_CACHE=1 "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" install probe
has "\"sandbox\": false: the canary is written" "$REPORT" "wrote canary"
run "repo add with \"sandbox\": false" 0 st repo add extra "$R"
has "repo add keeps \"sandbox\": false" "$ROOT/config.json" '"sandbox": false'
printf '{"format": 1, "repos": [{"name": "default", "bundled": true}], "sandbox": "no"}\n' >"$ROOT/config.json"
run "a \"sandbox\" that is not true or false is refused" 1 st repo list
has "the refusal names the file and the field" "$ERR" "$ROOT/config.json: field 'sandbox': expected true or false"
rm -f "$CANARY/pwned" "$HOME/pwned" "$ROOT/config.json"
run "remove probe once more" 0 s remove probe
ls -R "$SW" | grep -v '^$' >"$TMP/sw.before"

# slow: a build that takes long, and has a marker in the command line of a
# process its command starts.
SLOW=stitch-slow-$$
mkdir -p "$TMP/src/slow-1.0.0"
echo slow >"$TMP/src/slow-1.0.0/README"
recipe_pkg slow "[[\"bash\", \"-c\", \"(exec -a $SLOW sleep 300); true\"]]" '[["true"]]'

# No bubblewrap, or one that cannot set a sandbox up: a plain error naming
# the package and the way out, and nothing is built outside the sandbox.
nosb() { env STITCH_NO_CACHE=1 STITCH_BWRAP="$1" "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" install probe slow; }
run "no bubblewrap: the build stops" 1 nosb "$TMP/no-such-bwrap"
has "no bubblewrap: said, naming the package" "$ERR" "cannot build 'probe 1.0.0' in a sandbox: bubblewrap ($TMP/no-such-bwrap) is not installed"
has "no bubblewrap: how to opt out" "$ERR" "--no-sandbox"
if [ "$(grep -c 'in a sandbox' "$ERR")" -eq 1 ]; then pass "no bubblewrap: said once"; else fail "no bubblewrap: said once" "$(cat "$ERR")"; fi
if [ ! -e "$CANARY/pwned" ]; then pass "no bubblewrap: nothing ran"; else fail "no bubblewrap: nothing ran" "canary written"; fi
run "a sandbox that cannot start: the build stops" 1 nosb /bin/false
has "a sandbox that cannot start: said" "$ERR" "cannot build 'probe 1.0.0' in a sandbox: bubblewrap (/bin/false) could not set it up"
has "a sandbox that cannot start: how to opt out" "$ERR" "--no-sandbox"
if [ ! -e "$CANARY/pwned" ]; then pass "a sandbox that cannot start: nothing ran"; else fail "a sandbox that cannot start: nothing ran" "canary written"; fi
ls -R "$SW" | grep -v '^$' >"$TMP/sw.after"
if diff <(grep -v -e '\.log$' -e 'stitch\.db' "$TMP/sw.before") <(grep -v -e '\.log$' -e 'stitch\.db' "$TMP/sw.after") >/dev/null; then
	pass "no sandbox: the switch is unchanged"
else
	fail "no sandbox: the switch is unchanged" "$(diff "$TMP/sw.before" "$TMP/sw.after")"
fi
run "doctor is clean after the refused builds" 0 s doctor

# kill -9 of stitch during a build leaves nothing of the build running.
killed_build() { # killed_build NAME [GLOBAL OPTION]
	local pid n
	env STITCH_NO_CACHE=1 "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" ${2:-} install slow >/dev/null 2>&1 &
	pid=$!
	disown $pid
	for _ in $(seq 100); do pgrep -f "^$SLOW " >/dev/null && break; sleep 0.1; done
	if ! pgrep -f "^$SLOW " >/dev/null; then
		fail "$1" "the slow build never started"
		kill -9 $pid
		return
	fi
	kill -9 $pid
	for _ in $(seq 30); do pgrep -f "^$SLOW " >/dev/null || break; sleep 0.1; done
	n=$(pgrep -f "^$SLOW " | wc -l)
	if [ "$n" -eq 0 ]; then pass "$1"; else fail "$1" "$n processes left"; pkill -9 -f "^$SLOW "; fi
}
killed_build "kill -9 of stitch: the sandboxed build dies with it"
killed_build "kill -9 of stitch: the build without a sandbox dies with it" --no-sandbox

# What a build leaves running in the background is killed when it ends,
# sandbox or not.
LEFT=stitch-left-$$
mkdir -p "$TMP/src/daemon-1.0.0"
echo daemon >"$TMP/src/daemon-1.0.0/README"
recipe_pkg daemon "[[\"bash\", \"-c\", \"(exec -a $LEFT sleep 300) & sleep 0.2\"]]" \
	'[["sh", "-c", "mkdir -p $DESTDIR%{prefix}%/share && cp README $DESTDIR%{prefix}%/share/daemon"]]'
for mode in "" --no-sandbox; do
	run "a build that leaves a process behind${mode:+ ($mode)}" 0 s $mode install daemon
	sleep 0.2
	n=$(pgrep -f "^$LEFT" | wc -l)
	if [ "$n" -eq 0 ]; then
		pass "nothing of it runs after the build${mode:+ ($mode)}"
	else
		fail "nothing of it runs after the build${mode:+ ($mode)}" "$n left"
		pkill -9 -f "^$LEFT"
	fi
	s remove daemon >/dev/null 2>&1
	export STITCH_NO_CACHE=1
done
unset STITCH_NO_CACHE

# The sandbox changes nothing in what is built.
src_pkg "$R" same 1.0.0
run "a library built in the sandbox" 0 s install same
cp "$SW/lib/libsame.a" "$TMP/libsame.sandbox.a"
s remove same >/dev/null 2>&1
run "the same library built without it" 0 env STITCH_NO_CACHE=1 "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" --no-sandbox install same
same "both builds are byte-identical" "$SW/lib/libsame.a" "$TMP/libsame.sandbox.a"
