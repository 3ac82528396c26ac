#!/bin/bash
# The virtio target: the same project linked with platform-virtio into an
# image that qemu-system-x86_64 boots (-kernel), started by stitch run and
# stitch test as share/targets.json says; bit-identical across two roots;
# its exit status passed through; a VM that never gets ready is stopped
# and its console shown.  Booting needs QEMU (make check installs it); the
# runs on a tap need root.
. "$(dirname "$0")/testlib.sh"

R=$TOP/repo-index
PROJ=$TMP/proj
mkdir -p "$PROJ"
cat >"$PROJ/unikernel.json" <<'J'
{"name": "hello", "depends": [], "sources": ["main.c"], "target": "virtio"}
J
# "silent" writes half a line and waits forever: the VM never gets ready.
cat >"$PROJ/main.c" <<'C'
#include <stdint.h>
#include <string.h>
#include <platform.h>
int plat_app_main(const struct plat_start_info *si)
{
	if (strcmp(si->cmdline, "silent") == 0) {
		plat_console_write("booting", 7);
		for (;;)
			plat_yield(UINT64_MAX);
	}
	plat_console_write("hello from ", 11);
	plat_console_write(si->cmdline, strlen(si->cmdline));
	plat_console_write("\n", 1);
	return 3;
}
C
cd "$PROJ" || exit 1
run "unknown target names virtio" 2 st --repo "$R" build --target vm
has "the known targets" "$ERR" "unknown target 'vm' (known: unix, spt, virtio)"
run "build for virtio" 0 st --repo "$R" build
has "virtio image named by its suffix" "$OUT" "image: $PROJ/_build/hello.virtio"
if file "$PROJ/_build/hello.virtio" | grep -q "ELF 64-bit.*statically linked"; then pass "a static ELF64 image"; else
	fail "a static ELF64 image" "$(file "$PROJ/_build/hello.virtio")"; fi
# No libc of the host: every symbol comes from the app, the stack or the platform.
if nm "$PROJ/_build/hello.virtio" | grep -q "GLIBC\|__libc_start_main"; then
	fail "no host C library in the image" "$(nm "$PROJ/_build/hello.virtio" | grep 'GLIBC\|__libc_start' | head -n 3)"
else pass "no host C library in the image"; fi
# PVH: the note QEMU's -kernel looks for (type 18, name Xen).
if readelf -n "$PROJ/_build/hello.virtio" | grep -q "Xen.*0x00000012"; then pass "the image has a PVH entry note"; else
	fail "the image has a PVH entry note" "$(readelf -n "$PROJ/_build/hello.virtio")"; fi
sha1=$(sha256sum "$PROJ/_build/hello.virtio" | cut -d' ' -f1)
has "the manifest carries the target" "$PROJ/_build/hello.virtio.manifest.json" '"target": "virtio"'
has "the manifest names platform-virtio" "$PROJ/_build/hello.virtio.manifest.json" '"name": "platform-virtio"'

cp -r "$PROJ" "$TMP/proj2"
rm -rf "$TMP/proj2/_build" "$TMP/proj2/_stitch"
(cd "$TMP/proj2" && "$STITCH" --root "$TMP/root2" --repo "$R" build >"$OUT" 2>"$ERR")
sha2=$(sha256sum "$TMP/proj2/_build/hello.virtio" | cut -d' ' -f1)
if [ "$sha1" = "$sha2" ]; then pass "virtio image bit-identical across two roots"; else
	fail "virtio image bit-identical across two roots" "$sha1 != $sha2"; fi
run "lock on virtio" 0 st --repo "$R" lock
if python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["target"] == "virtio"' stitch.lock; then
	pass "the lock carries the target"; else fail "the lock carries the target" "$(cat stitch.lock)"; fi
run "verify a virtio image" 0 st --repo "$R" verify
has "verify rebuilds the virtio image bit for bit" "$OUT" "verified: stitch.lock rebuilds hello.virtio bit for bit"

if [ "$(id -u)" -ne 0 ]; then
	skip "stitch run boots the virtio image" "a network namespace for its tap needs root"
	skip "stitch test stops a VM that never gets ready" "a network namespace for its tap needs root"
elif ! command -v qemu-system-x86_64 >/dev/null; then
	fail "stitch run boots the virtio image" "qemu-system-x86_64 is missing: make check installs qemu-system-x86"
else
	run "stitch run boots the virtio image, status passed through" 3 timeout 60 "$STITCH" --root "$ROOT" --repo "$R" run -- world
	has "its console on stdout, with its arguments" "$OUT" "hello from --ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1 world"
	cat >"$PROJ/unikernel.json" <<'J'
{"name": "hello", "depends": [], "sources": ["main.c"], "target": "virtio",
 "test": ["true"], "test_network": true}
J
	# The harness passes its own arguments: make the image wait silently instead.
	sed -i 's/strcmp(si->cmdline, "silent") == 0/strstr(si->cmdline, "10.0.0.2") != NULL/' main.c
	t0=$(date +%s)
	run "stitch test: a VM that never gets ready" 1 timeout 60 "$STITCH" --root "$ROOT" --repo "$R" test
	has "it says so, with the time limit" "$ERR" "wrote no line on its console in 10000 ms"
	has "its console's last lines" "$ERR" "  | booting"
	if pgrep -f "qemu-system-x86_64 .*$PROJ/_build/hello.virtio" >/dev/null; then
		fail "the VM was stopped" "$(pgrep -af qemu-system-x86_64)"; else pass "the VM was stopped"; fi
	if [ $(($(date +%s) - t0)) -lt 40 ]; then pass "within the limit"; else fail "within the limit" "$(($(date +%s) - t0)) s"; fi
fi
