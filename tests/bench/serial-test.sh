#!/bin/bash
# The baseline of tests/bench/harness.sh: the static website's test as it
# was before stitch's harness, kept as it was (copied into the project to
# run).  It makes the namespace and tap, polls the image with curl every
# 0.1 s, and runs its checks one after another.
#
# The static website's end-to-end test: start the image in a throwaway
# network namespace with a tap device, then from inside that namespace only
# ping it, fetch every file of htdocs/ and compare byte for byte, check
# 404, 400, 405, HEAD, keep-alive and ten downloads at once, and stop it.
#
#   ./test.sh [IMAGE]        (default: $STITCH_IMAGE; run from the project directory)
#
# Prints "ok - ..." or "not ok - ..." per check; exits 0 when all pass, 1
# when one fails, 2 when it cannot run, 77 when not root (skipped).
set -u

image=${1:-${STITCH_IMAGE:-}}
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root to create a network namespace"
	exit 77
fi
if [ -z "$image" ]; then
	echo "usage: test.sh IMAGE (or set STITCH_IMAGE)" >&2
	exit 2
fi
if [ ! -x "$image" ]; then
	echo "test.sh: no executable image at '$image'" >&2
	exit 2
fi
image=$(cd "$(dirname "$image")" && pwd)/$(basename "$image")
cd "$(dirname "$0")" || exit 2
for tool in ip curl ping cmp timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "test.sh: '$tool' is required (Debian: iproute2 curl iputils-ping diffutils coreutils)" >&2
		exit 2
	fi
done

ADDR=10.0.0.2
URL=http://$ADDR
ns="stitch-web-$$-$RANDOM"
tmp=$(mktemp -d)
pid=
passed=0
failed=0

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	shift
	for line in "$@"; do
		echo "#   $line"
	done
}

check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

in_ns() {
	ip netns exec "$ns" "$@"
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

# The media type the server should give a path.
type_of() {
	case "${1##*.}" in
	html) echo text/html ;;
	css) echo text/css ;;
	png) echo image/png ;;
	*) echo application/octet-stream ;;
	esac
}

# ---- the namespace and the image ----

if ! ip netns add "$ns" 2>"$tmp/err"; then
	not_ok "create network namespace $ns" "$(cat "$tmp/err")"
	finish
fi
if in_ns ip link set lo up && in_ns ip tuntap add dev tap0 mode tap &&
	in_ns ip addr add 10.0.0.1/24 dev tap0 && in_ns ip link set tap0 up; then
	ok "namespace $ns with tap0 10.0.0.1/24"
else
	not_ok "namespace $ns with tap0 10.0.0.1/24"
	finish
fi
# no IPv6 chatter on the tap: the image speaks IPv4 only
in_ns sysctl -qw net.ipv6.conf.tap0.disable_ipv6=1 2>/dev/null

# not through in_ns: a function would run in a subshell, and $! must be the image
# (ip netns exec execs it)
ip netns exec "$ns" "$image" --net=tap0 --ipv4=$ADDR/24 --ipv4-gateway=10.0.0.1 >"$tmp/log" 2>&1 &
pid=$!
up=0
SECONDS=0
while [ $SECONDS -lt 15 ] && kill -0 "$pid" 2>/dev/null; do
	if in_ns curl -s -o /dev/null --max-time 0.5 "$URL/"; then
		up=1
		break
	fi
	sleep 0.1
done
if [ $up -eq 1 ]; then
	ok "image answers on $URL/"
else
	not_ok "image answers on $URL/" "$(cat "$tmp/log")"
	finish
fi
nfiles=$(find htdocs -type f | wc -l)
want="static-website: serving $nfiles files on $ADDR:80"
if grep -qx "$want" "$tmp/log"; then
	ok "start line: $want"
else
	not_ok "start line: $want" "log: $(cat "$tmp/log")"
fi

# ---- the checks ----

if in_ns ping -c 2 -W 2 $ADDR >"$tmp/ping" 2>&1; then
	ok "ping -c 2 $ADDR"
else
	not_ok "ping -c 2 $ADDR" "$(tail -n 3 "$tmp/ping")"
fi

while IFS= read -r f; do
	rel=${f#htdocs}
	got=$(in_ns curl -s -o "$tmp/got" -w '%{http_code} %{content_type}' "$URL$rel" </dev/null)
	want="200 $(type_of "$rel")"
	if [ "$got" = "$want" ] && cmp -s "$tmp/got" "$f"; then
		ok "GET $rel: $want, same bytes as $f"
	else
		not_ok "GET $rel: $want, same bytes as $f" "got: $got, $(wc -c <"$tmp/got") bytes"
	fi
done < <(find htdocs -type f | LC_ALL=C sort)

got=$(in_ns curl -s -o "$tmp/got" -w '%{http_code}' "$URL/")
if [ "$got" = 200 ] && cmp -s "$tmp/got" htdocs/index.html; then
	ok "GET / is index.html"
else
	not_ok "GET / is index.html" "got: $got"
fi

got=$(in_ns curl -s -o /dev/null -w '%{http_code}' "$URL/no-such-file.html")
check "GET of a missing path: 404" test "$got" = 404

# a malformed request: 400, then the server closes (cat ends before the timeout)
in_ns timeout 5 bash -c "exec 3<>/dev/tcp/$ADDR/80 && printf 'GARBAGE\r\n\r\n' >&3 && cat <&3" \
	>"$tmp/bad" 2>&1
st=$?
first=$(head -n 1 "$tmp/bad" | tr -d '\r')
if [ "$first" = "HTTP/1.1 400 Bad Request" ] && [ $st -eq 0 ]; then
	ok "malformed request: 400 and close"
else
	not_ok "malformed request: 400 and close" "status line: '$first', exit $st"
fi

got=$(in_ns curl -s -o /dev/null -D "$tmp/h" -w '%{http_code}' -X POST -d x "$URL/")
if [ "$got" = 405 ] && grep -qi '^Allow: GET, HEAD' "$tmp/h"; then
	ok "POST: 405 with Allow: GET, HEAD"
else
	not_ok "POST: 405 with Allow: GET, HEAD" "got: $got"
fi

# HEAD: the length of the body, and no body
in_ns timeout 5 bash -c "exec 3<>/dev/tcp/$ADDR/80 && printf 'HEAD /big.bin HTTP/1.1\r\nHost: $ADDR\r\nConnection: close\r\n\r\n' >&3 && cat <&3" \
	>"$tmp/head" 2>&1
len=$(grep -i '^Content-Length:' "$tmp/head" | tr -d '\r' | awk '{print $2}')
tail4=$(tail -c 4 "$tmp/head" | od -An -tx1 | tr -d ' \n')
size=$(wc -c <"$tmp/head")
if [ "$len" = "$(wc -c <htdocs/big.bin)" ] && [ "$tail4" = 0d0a0d0a ] && [ "$size" -lt 512 ]; then
	ok "HEAD /big.bin: Content-Length $len and no body"
else
	not_ok "HEAD /big.bin: Content-Length $len and no body" "length '$len', $size bytes, ends $tail4"
fi

# keep-alive: two URLs, one connection
in_ns curl -sv -o "$tmp/k1" -o "$tmp/k2" "$URL/index.html" "$URL/style.css" 2>"$tmp/kv"
if grep -q 'Re-using existing connection' "$tmp/kv" && cmp -s "$tmp/k1" htdocs/index.html &&
	cmp -s "$tmp/k2" htdocs/style.css; then
	ok "keep-alive: two requests on one connection"
else
	not_ok "keep-alive: two requests on one connection" "$(grep -i connect "$tmp/kv" | head -n 5)"
fi

# ten connections at once
pids=()
for i in $(seq 1 10); do
	in_ns curl -s --max-time 60 -o "$tmp/big.$i" "$URL/big.bin" &
	pids+=($!)
done
same=0
for i in $(seq 1 10); do
	wait "${pids[$((i - 1))]}" && cmp -s "$tmp/big.$i" htdocs/big.bin && same=$((same + 1))
done
check "ten concurrent downloads of big.bin: $same of 10 identical" test $same -eq 10

# ---- stop ----

kill -TERM "$pid"
for _ in $(seq 1 50); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	not_ok "image stops on SIGTERM" "still running after 5 s"
else
	wait "$pid"
	st=$?
	pid=
	check "image stops on SIGTERM (exit status $st)" test $st -eq 0
fi
check "delete namespace $ns" ip netns del "$ns"
finish
