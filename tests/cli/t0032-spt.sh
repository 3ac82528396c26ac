#!/bin/bash
# The spt target: a static image sealed with seccomp, built from the
# bundled platform packages; targets come from share/targets.json.
. "$(dirname "$0")/testlib.sh"

BUNDLED=$(cd "$(dirname "$0")/../../repo-index" && pwd)
R=$TMP/repo
make_repo "$R" test
mkdir -p "$R/archives"
for p in platform-unix platform-spt; do
	cp "$BUNDLED/packages/$p.json" "$R/packages/"
	cp "$BUNDLED/archives/$p-1.0.0.tar.gz" "$R/archives/"
done
PROJ=$TMP/proj
mkdir -p "$PROJ"
cat >"$PROJ/unikernel.json" <<'J'
{"name": "seal", "depends": [], "sources": ["main.c"]}
J
# "open" after start tries a forbidden system call; "socket" another.
cat >"$PROJ/main.c" <<'C'
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <platform.h>
int plat_app_main(const struct plat_start_info *si)
{
	if (strcmp(si->cmdline, "open") == 0 && open("/etc/hostname", O_RDONLY) >= 0)
		plat_console_write("opened\n", 7);
	if (strcmp(si->cmdline, "socket") == 0 && socket(AF_INET, SOCK_DGRAM, 0) >= 0)
		plat_console_write("socket\n", 7);
	plat_console_write("sealed\n", 7);
	return 0;
}
C
cd "$PROJ" || exit 1
run "unknown target" 2 st --repo "$R" build --target vm
has "unknown target names the known ones" "$ERR" "unknown target 'vm' (known: unix, spt, virtio)"
run "build --target spt" 0 st --repo "$R" build --target spt
has "spt image named by its suffix" "$OUT" "image: $PROJ/_build/seal.spt"
if file "$PROJ/_build/seal.spt" | grep -q "statically linked"; then pass "spt image is static"; else
	fail "spt image is static" "$(file "$PROJ/_build/seal.spt")"; fi
sha1=$(sha256sum "$PROJ/_build/seal.spt" | cut -d' ' -f1)
run "build --target unix of the same project" 0 st --repo "$R" build --target unix
has "unix image beside it" "$OUT" "image: $PROJ/_build/seal.unix"
if file "$PROJ/_build/seal.unix" | grep -q "dynamically linked"; then pass "unix image is dynamic"; else
	fail "unix image is dynamic" "$(file "$PROJ/_build/seal.unix")"; fi
# A second root, a copy of the project: the same spt image, bit for bit.
cp -r "$PROJ" "$TMP/proj2"
rm -rf "$TMP/proj2/_build" "$TMP/proj2/_stitch"
cd "$TMP/proj2" || exit 1
run "build --target spt in a second root" 0 "$STITCH" --root "$TMP/root2" --repo "$R" build --target spt
sha2=$(sha256sum "$TMP/proj2/_build/seal.spt" | cut -d' ' -f1)
if [ "$sha1" = "$sha2" ]; then pass "spt image bit-identical across two roots"; else
	fail "spt image bit-identical across two roots" "$sha1 != $sha2"; fi
cd "$PROJ" || exit 1

# The seal needs a tap: in a user and network namespace of our own.
IMG=$PROJ/_build/seal.spt
sealed() {
	unshare -rn sh -c 'ip tuntap add dev tap0 mode tap && ip link set tap0 up && exec "$0" --net=tap0 -- "$1"' "$IMG" "$1" >"$TMP/seal.out" 2>&1
}
if ! unshare -rn ip tuntap add dev tap0 mode tap 2>/dev/null; then
	why="cannot make a tap device in a user namespace here (/dev/net/tun)"
	skip "allowed calls pass the seal" "$why"
	skip "open kills the image (SIGSYS)" "$why"
	skip "socket kills the image (SIGSYS)" "$why"
	skip "stitch run starts the spt image" "$why"
else
	sealed ok
	rc=$?
	if [ $rc = 0 ] && grep -qx sealed "$TMP/seal.out"; then pass "allowed calls pass the seal"; else
		fail "allowed calls pass the seal" "rc $rc: $(cat "$TMP/seal.out")"; fi
	{ sealed open; } 2>/dev/null
	rc=$?
	# SIGSYS is 31: the shell reports 128 + 31.
	if [ $rc = 159 ] && ! grep -q opened "$TMP/seal.out"; then pass "open kills the image (SIGSYS)"; else
		fail "open kills the image (SIGSYS)" "rc $rc: $(cat "$TMP/seal.out")"; fi
	{ sealed socket; } 2>/dev/null
	rc=$?
	if [ $rc = 159 ] && ! grep -q socket "$TMP/seal.out"; then pass "socket kills the image (SIGSYS)"; else
		fail "socket kills the image (SIGSYS)" "rc $rc: $(cat "$TMP/seal.out")"; fi
	# "target" in unikernel.json: stitch run starts the spt image on the tap.
	sed -i 's/"sources"/"target": "spt", "sources"/' "$PROJ/unikernel.json"
	unshare -rn sh -c 'ip tuntap add dev tap0 mode tap && ip link set tap0 up &&
		exec "$0" --root "$1" --repo "$2" run --net tap0 -- ok' "$STITCH" "$ROOT" "$R" \
		>"$TMP/run.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -qx sealed "$TMP/run.out"; then pass "stitch run starts the spt image"; else
		fail "stitch run starts the spt image" "rc $rc: $(cat "$TMP/run.out")"; fi
fi

# stitch test hands the test the spt image when the project's target is spt.
cat >"$PROJ/unikernel.json" <<'J'
{"name": "seal", "depends": [], "sources": ["main.c"], "target": "spt",
 "test": ["sh", "-c", "case $STITCH_IMAGE in */_build/seal.spt) test -x \"$STITCH_IMAGE\" ;; *) exit 1 ;; esac"]}
J
cd "$PROJ" || exit 1
run "stitch test on spt" 0 st --repo "$R" test
has "test passed on spt" "$OUT" "test passed"
run "lock on spt" 0 st --repo "$R" lock
if python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["target"] == "spt"' stitch.lock; then
	pass "the lock carries the target"; else fail "the lock carries the target" "$(cat stitch.lock)"; fi
run "build --locked on spt" 0 st --repo "$R" build --locked
if python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["target"] == "spt"' \
	_build/seal.spt.manifest.json; then pass "the manifest carries the target"; else
	fail "the manifest carries the target" "$(cat _build/seal.spt.manifest.json)"; fi
run "verify an spt image" 0 st --repo "$R" verify
has "verify rebuilds the spt image bit for bit" "$OUT" "verified: stitch.lock rebuilds seal.spt bit for bit"

# A package that needs the unix platform is refused on spt before anything is fetched.
add_pkg "$R" hostonly "Needs the host" "1.0.0:platform-unix"
add_pkg "$R" app "Uses hostonly" "1.0.0:hostonly"
mkdir -p "$TMP/proj3"
cat >"$TMP/proj3/unikernel.json" <<'J'
{"name": "three", "depends": ["app"], "sources": ["main.c"], "target": "spt"}
J
cd "$TMP/proj3" || exit 1
run "unsupported dependency refused" 1 st --repo "$R" build
has "the unsupporting package named" "$ERR" \
	"package 'hostonly' does not support target 'spt': it depends on 'platform-unix'"
lacks "refused before any fetch" "$OUT" "hostonly 1.0.0"
run "lock refuses the unsupported dependency too" 1 st --repo "$R" lock
has "lock names the unsupporting package" "$ERR" "package 'hostonly' does not support target 'spt'"
# "target" in unikernel.json: an unknown one is an error in the project.
sed -i 's/"spt"/"vm"/' "$TMP/proj3/unikernel.json"
run "unknown target in unikernel.json" 1 st --repo "$R" build
has "unknown project target names the known ones" "$ERR" "unknown target 'vm' (known: unix, spt, virtio)"
