#!/bin/sh
# boot.sh: link tests/hello.c into a virtio image with one cc command, boot
# it in QEMU and check its console and its exit status.  Needs
# qemu-system-x86_64 (TCG is enough); not part of `make check`.
#
# QEMU's isa-debug-exit device ends QEMU with (status << 1) | 1, so hello's
# status 3 shows as 7; 0 would mean QEMU ended some other way.
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

make -s
make -s install PREFIX="$TMP/prefix"
PC=$TMP/prefix/lib/pkgconfig
$CC -O2 $(PKG_CONFIG_PATH=$PC pkg-config --cflags platform-virtio) -c -o "$TMP/hello.o" tests/hello.c
# The target's generic flags, then the package's Libs.
$CC -static -nostdlib -no-pie -o "$TMP/hello.img" "$TMP/hello.o" \
	$(PKG_CONFIG_PATH=$PC pkg-config --libs platform-virtio)

failed=0
# boot NAME WANT_STATUS WANT_LINE APPEND: boot the image, compare its console and status.
boot() {
	rc=0
	timeout 60 qemu-system-x86_64 -M pc -m 64 -display none -vga none -serial stdio \
		-nic none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$TMP/hello.img" -append "$4" </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ "$rc" -ne "$2" ] || [ "$(cat "$TMP/out")" != "$3" ]; then
		echo "not ok - $1: exit $rc (want $2), console:"
		sed 's/^/#   /' "$TMP/out" "$TMP/err"
		failed=1
	else
		echo "ok - $1"
	fi
}

boot "hello prints its command line, exits 3" 7 "hello: cmdline='hello world'" 'hello world'
boot "the platform's options are taken out" 7 "hello: cmdline='a b --net=x'" \
	'--net=tap0  a --mac=02:00:00:00:00:01 b -- --net=x'
boot "a bad --mac is a usage error (status 2)" 5 \
	"platform-virtio: invalid --mac 'zz': expected a unicast XX:XX:XX:XX:XX:XX" '--mac=zz'
echo "image: $(wc -c <"$TMP/hello.img") bytes"
exit $failed
