#!/bin/bash
# make demo: build stitch, then the static website from the bundled index
# in a fresh root under _build/demo, run its test, fetch its page with curl
# from the image as a process and, built for virtio, from a QEMU virtual
# machine.  Nothing of the user's root is touched.
set -e
cd "$(dirname "$0")/.."
top=$PWD
demo=$top/_build/demo
rm -rf "$demo"
mkdir -p "$demo"
cp -R share/examples/static-website "$demo/static-website"
stitch() { "$top/stitch" --root "$demo/root" "$@"; }
say() { printf '\n== %s\n' "$*"; }

say "the bundled index"
stitch search ''
say "building the static website (every package compiled from source)"
cd "$demo/static-website"
stitch build
image=$demo/static-website/_build/static-website.unix
if [ "$(id -u)" -ne 0 ]; then
	say "not root: skipping the network test (it makes a network namespace)"
	echo "image: $image"
	exit 0
fi
say "testing it in a network namespace"
stitch test
# One namespace with a tap; each target's image served there in turn by
# stitch run, and the page fetched with curl from inside.
ns=stitch-demo-$$
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 10.0.0.1/24 dev tap0
ip -n "$ns" link set tap0 up
ip -n "$ns" link set lo up
serve() { # serve TARGET: the image up on tap0, its page, the image stopped
	local image=$demo/static-website/_build/static-website.$1
	ip netns exec "$ns" "$top/stitch" --root "$demo/root" run --target "$1" --net tap0 \
		>"$demo/$1.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		ip netns exec "$ns" curl -s -o /dev/null --max-time 1 http://10.0.0.2/ && break
		sleep 0.1
	done
	echo "\$ ip netns exec $ns curl http://10.0.0.2/"
	ip netns exec "$ns" curl -s --max-time 5 http://10.0.0.2/ | head -n 12
	echo "image: $image ($(stat -c %s "$image") bytes)"
	echo "sha256: $(sha256sum "$image" | cut -d' ' -f1)"
	kill "$pid" && wait "$pid" 2>/dev/null || true
	pid=
}
say "the page curl fetches from the unikernel (unix: a Linux process on the tap)"
serve unix
if ! command -v qemu-system-x86_64 >/dev/null; then
	say "skipping the virtual machine: qemu-system-x86_64 is missing (Debian: qemu-system-x86)"
	exit 0
fi
say "the same application and stack for virtio: a VM image that QEMU boots"
stitch build --target virtio
say "the page curl fetches from the virtual machine (QEMU, $( [ -w /dev/kvm ] && echo KVM || echo TCG))"
serve virtio
