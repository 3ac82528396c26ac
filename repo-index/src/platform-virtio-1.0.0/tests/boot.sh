#!/bin/sh
# boot.sh: link tests/hello.c into a virtio image with one cc command, boot
# it in QEMU and check its console and its exit status.  Needs
# qemu-system-x86_64 (TCG is enough); not part of `make check`.
#
# QEMU's isa-debug-exit device ends QEMU with (v << 1) | 1; the platform
# writes v = status + 1, so hello's status 3 shows as 9, status 0 as 3.
# QEMU itself failing exits 1; a reset (a crash, with -no-reboot) exits 0.
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Built in a copy: the source tree stays as it is packed.
cp -R . "$TMP/src"
make -s -C "$TMP/src"
make -s -C "$TMP/src" install PREFIX="$TMP/prefix"
PC=$TMP/prefix/lib/pkgconfig
# With canaries and checked calls, as some distributions' gcc adds them by default.
$CC -O2 -fstack-protector-all -D_FORTIFY_SOURCE=2 $(PKG_CONFIG_PATH=$PC pkg-config --cflags platform-virtio) -c -o "$TMP/hello.o" tests/hello.c
# The target's generic flags, then the package's Libs.
$CC -static -nostdlib -no-pie -o "$TMP/hello.img" "$TMP/hello.o" \
	$(PKG_CONFIG_PATH=$PC pkg-config --libs platform-virtio)

failed=0
EXIT_DEVICE="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
# boot NAME WANT_STATUS WANT_CONSOLE APPEND: boot the image, match its
# console against the glob WANT_CONSOLE and check QEMU's status.
boot() {
	rc=0
	timeout 60 qemu-system-x86_64 -M pc -m 64 -display none -vga none -serial stdio \
		-nic none -no-reboot $EXIT_DEVICE \
		-kernel "$TMP/hello.img" -append "$4" </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
	console=$(cat "$TMP/out")
	# shellcheck disable=SC2254 # $3 is a pattern
	case $console in $3) matched=1 ;; *) matched=0 ;; esac
	if [ "$rc" -ne "$2" ] || [ $matched -eq 0 ]; then
		echo "not ok - $1: exit $rc (want $2), console:"
		sed 's/^/#   /' "$TMP/out" "$TMP/err"
		failed=1
	else
		echo "ok - $1"
	fi
}

boot "hello prints its command line, exits 3" 9 "hello: cmdline='hello world'" 'hello world'
boot "the platform's options are taken out" 9 "hello: cmdline='a b --net=x'" \
	'--net=tap0  a --mac=02:00:00:00:00:01 b -- --net=x'
boot "a bad --mac is a usage error (status 2)" 7 \
	"platform-virtio: invalid --mac 'zz': expected a unicast XX:XX:XX:XX:XX:XX" '--mac=zz'
boot "a NULL pointer is a crash, told on the console (QEMU exits 0)" 0 \
	"hello: cmdline='crash'
platform-virtio: crash: exception 14 (error 0x2) at 0x10*" crash
boot "a stack overflow is a crash, told on the console" 0 \
	"hello: cmdline='overflow'
platform-virtio: crash: exception 14 (error 0x2) at 0x10*" overflow
boot "a smashed stack is told, and ends as abort() (134, capped at 126)" 255 \
	"hello: cmdline='smash the stack with a long line'
platform-virtio: stack smashing detected
platform-virtio: abort" 'smash the stack with a long line'
boot "the clocks: wall time and a 100 ms sleep" 9 "hello: cmdline='clock'
wall * slept * ms frame 0" clock
# shellcheck disable=SC2046 # the words of the line
set -- $(sed -n 2p "$TMP/out")
now=$(date +%s)
if [ "$2" -ge $((now - 10)) ] && [ "$2" -le "$now" ] && [ "$4" -ge 100 ] && [ "$4" -le 1000 ]; then
	echo "ok - the wall clock is the host's ($2, $now), the sleep took $4 ms"
else
	echo "not ok - the clocks: wall $2 (host $now), slept $4 ms"
	failed=1
fi
EXIT_DEVICE=
boot "without the exit device the image still ends (QEMU exits 0)" 0 \
	"hello: cmdline='x'" x
echo "image: $(wc -c <"$TMP/hello.img") bytes"
exit $failed
