#!/bin/bash
# make demo: build stitch, then the static website from the bundled index
# in a fresh root under _build/demo, run its test, fetch its page with curl
# and show the image.  Nothing of the user's root is touched.
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
say "the page curl fetches from the unikernel"
ns=stitch-demo-$$
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 10.0.0.1/24 dev tap0
ip -n "$ns" link set tap0 up
ip -n "$ns" link set lo up
ip netns exec "$ns" "$image" --net=tap0 --ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1 >"$demo/image.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
	ip netns exec "$ns" curl -s -o /dev/null --max-time 1 http://10.0.0.2/ && break
	sleep 0.1
done
echo "\$ ip netns exec $ns curl http://10.0.0.2/"
ip netns exec "$ns" curl -s --max-time 5 http://10.0.0.2/
echo
echo "image: $image"
echo "sha256: $(sha256sum "$image" | cut -d' ' -f1)"
