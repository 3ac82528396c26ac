#!/bin/sh
# net.sh [SITE]: the static website on virtio, end to end.  As root: link
# the site's objects and stack libraries (SITE/_build/obj, SITE/_stitch/lib,
# from `stitch build` of share/examples/static-website; default /tmp/vsite)
# with this platform into a virtio image, boot it in QEMU on a tap inside a
# network namespace of its own, then ping it and fetch every file.  Prints
# the time from starting QEMU to the first HTTP 200 and the image size.
# No traffic leaves the namespace.
set -eu
SITE=$(cd "${1:-/tmp/vsite}" && pwd)
cd "$(dirname "$0")/.."
CC=${CC:-cc}
NS=stitch-virtio-$$
TMP=$(mktemp -d)
QEMU_PID=
cleanup() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null && wait "$QEMU_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
# A signal (a closed pipe among them) must still reach the cleanup.
trap 'exit 1' HUP INT PIPE TERM

[ "$(id -u)" -eq 0 ] || { echo "net.sh: needs root (ip netns)"; exit 77; }
# Built in a copy: the source tree stays as it is packed.
cp -R . "$TMP/src"
make -s -C "$TMP/src"
make -s -C "$TMP/src" install PREFIX="$TMP/prefix"
$CC -static -nostdlib -no-pie -o "$TMP/site.img" "$SITE"/_build/obj/*.o \
	-L"$SITE/_stitch/lib" -lhttp -ltcp -lipv4 -larp -lethernet -lcrunch \
	$(PKG_CONFIG_PATH=$TMP/prefix/lib/pkgconfig pkg-config --libs platform-virtio)

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" addr add 10.0.0.1/24 dev tap0
ip -n "$NS" link set tap0 up

start=$(date +%s%N)
# ip netns exec execs QEMU, so $! is QEMU itself.
ip netns exec "$NS" qemu-system-x86_64 -M pc -m 64 -display none -vga none -serial stdio \
	-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	-device virtio-net-pci,netdev=n0,romfile= \
	-kernel "$TMP/site.img" -append '--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1' \
	</dev/null >"$TMP/console" 2>&1 &
QEMU_PID=$!

# The console line first: a SYN sent before the image answers ARP costs
# the host's one-second ARP retry, which says nothing about the image.
for _ in $(seq 1 500); do
	grep -q serving "$TMP/console" && break
	sleep 0.01
done
ready=$(date +%s%N)
code=000
for _ in $(seq 1 300); do
	code=$(ip netns exec "$NS" curl -s -m 1 -o /dev/null -w '%{http_code}' \
		http://10.0.0.2/ || true)
	[ "$code" = 200 ] && break
	sleep 0.02
done
end=$(date +%s%N)
failed=0
if [ "$code" = 200 ]; then
	echo "ok - first HTTP 200 $(( (end - start) / 1000000 )) ms after starting QEMU" \
		"(console ready after $(( (ready - start) / 1000000 )) ms)"
else
	echo "not ok - no HTTP 200 (last: $code)"; sed 's/^/#   /' "$TMP/console"; exit 1
fi
if ip netns exec "$NS" ping -c 3 -i 0.2 -W 2 10.0.0.2 >"$TMP/ping"; then
	echo "ok - ping: $(tail -n 1 "$TMP/ping")"
else
	echo "not ok - ping"; failed=1
fi
for f in "$SITE"/htdocs/*; do
	name=$(basename "$f")
	ip netns exec "$NS" curl -s -m 30 -o "$TMP/got" -w "%{time_total}" \
		"http://10.0.0.2/$name" >"$TMP/time" || true
	if cmp -s "$TMP/got" "$f"; then
		echo "ok - /$name: $(wc -c <"$f") bytes in $(cat "$TMP/time") s"
	else
		echo "not ok - /$name differs"; failed=1
	fi
done
echo "# console: $(head -n 1 "$TMP/console")"
echo "# image: $(wc -c <"$TMP/site.img") bytes"
exit $failed
