#!/bin/bash
# shellcheck disable=SC2317 # the checks are called by name from run_checks
# The static website's end-to-end test: from inside a network namespace
# only, ping the image, fetch every file of htdocs/ and compare byte for
# byte, check 404, 400, 405, HEAD, keep-alive and ten downloads at once.
# The checks are independent and run at once.
#
# Under `stitch test` the image is already up and ready: stitch made the
# namespace and the tap, started the image and runs this script inside that
# namespace with STITCH_TEST_ADDR (the image's address) and STITCH_TEST_LOG
# (its console) set, and stops the image afterwards.
#
# Run alone (./test.sh [IMAGE], default $STITCH_IMAGE, as root), it makes
# its own namespace, starts the image, runs the same checks, and stops it.
#
# Prints "ok - ..." or "not ok - ..." per check; exits 0 when all pass, 1
# when one fails, 2 when it cannot run, 77 when not root (skipped).
#
# It runs in the edit-test loop on every save, on a machine that may have
# two cores: the checks start few processes (the bookkeeping is bash's own,
# downloads are compared by one sha256sum each), so their time is the
# server's, not fork's.
set -u
export LC_ALL=C
shopt -s globstar nullglob

case $0 in */*) cd "${0%/*}" || exit 2 ;; esac
for tool in curl ping sha256sum timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "test.sh: '$tool' is required (Debian: curl iputils-ping coreutils)" >&2
		exit 2
	fi
done

tmp=$(mktemp -d)
pid=
ns=
passed=0
failed=0

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
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

# Inside the namespace: stitch runs this script there already.
in_ns() {
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

# The regular files of htdocs/, sorted (LC_ALL=C globs sort bytewise).
htdocs_files() {
	local f
	HTDOCS=()
	for f in htdocs/**; do
		[ -f "$f" ] && HTDOCS+=("$f")
	done
}

# SUMS[file]: the SHA-256 of each file given, from one sha256sum.
declare -A SUMS
sums() {
	local sum file
	SUMS=()
	while read -r sum file; do
		SUMS[$file]=$sum
	done < <(sha256sum -- "$@" 2>/dev/null)
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

# ---- the namespace and the image, when stitch did not provide them ----

standalone() {
	local image=${1:-${STITCH_IMAGE:-}}
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
	if ! command -v ip >/dev/null; then
		echo "test.sh: 'ip' is required (Debian: iproute2)" >&2
		exit 2
	fi
	image=$(cd "$(dirname "$image")" && pwd)/$(basename "$image")
	ns="stitch-web-$$-$RANDOM"
	if ! ip netns add "$ns" 2>"$tmp/err"; then
		ns=
		not_ok "create network namespace" "$(cat "$tmp/err")"
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
	LOG=$tmp/log
	# not through in_ns: a function would run in a subshell, and $! must be the image
	ip netns exec "$ns" "$image" --net=tap0 --ipv4=$ADDR/24 --ipv4-gateway=10.0.0.1 >"$LOG" 2>&1 &
	pid=$!
	# ready when it says so on its console (or answers), never after a fixed sleep
	local up=0
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		if [ -s "$LOG" ] || in_ns curl -s -o /dev/null --max-time 0.5 "$URL/"; then
			up=1
			break
		fi
		sleep 0.05
	done
	if [ $up -eq 1 ]; then
		ok "image up on $ADDR"
	else
		not_ok "image up on $ADDR" "$(cat "$LOG")"
		finish
	fi
}

# Stop the image we started: it must exit 0 on SIGTERM.
stop() {
	kill -TERM "$pid"
	for _ in $(seq 1 500); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$pid" 2>/dev/null; then
		not_ok "image stops on SIGTERM" "still running after 5 s"
	else
		wait "$pid"
		local st=$?
		pid=
		check "image stops on SIGTERM (exit status $st)" test $st -eq 0
	fi
	check "delete namespace $ns" ip netns del "$ns"
	ns=
}

# ---- the checks: each prints its lines, all run at once ----

c_ping() {
	if in_ns ping -c 2 -i 0.01 -W 2 "$ADDR" >"$tmp/ping" 2>&1; then
		ok "ping -c 2 $ADDR"
	else
		not_ok "ping -c 2 $ADDR" "$(tail -n 3 "$tmp/ping")"
	fi
}

# Every file of htdocs/, all at once over one curl (--parallel), each compared.
c_files() {
	local args=() got=() i f rel want url code type
	local -A status
	htdocs_files
	for i in "${!HTDOCS[@]}"; do
		args+=(-o "$tmp/got.$i" "$URL${HTDOCS[$i]#htdocs}")
		got+=("$tmp/got.$i")
	done
	while read -r url code type; do
		status[$url]="$code $type"
	done < <(in_ns curl -s --no-progress-meter --parallel --parallel-immediate \
		-w '%{url_effective} %{http_code} %{content_type}\n' "${args[@]}" </dev/null)
	sums "${HTDOCS[@]}" "${got[@]}"
	for i in "${!HTDOCS[@]}"; do
		f=${HTDOCS[$i]}
		rel=${f#htdocs}
		want="200 $(type_of "$rel")"
		if [ "${status[$URL$rel]:-}" = "$want" ] && [ -n "${SUMS[$f]:-}" ] &&
			[ "${SUMS[$tmp/got.$i]:-}" = "${SUMS[$f]}" ]; then
			ok "GET $rel: $want, same bytes as $f"
		else
			not_ok "GET $rel: $want, same bytes as $f" \
				"got: ${status[$URL$rel]:-no answer}, sha256 ${SUMS[$tmp/got.$i]:-none}"
		fi
	done
}

c_index() {
	local got
	got=$(in_ns curl -s -o "$tmp/index" -w '%{http_code}' "$URL/")
	sums "$tmp/index" htdocs/index.html
	if [ "$got" = 200 ] && [ "${SUMS[$tmp/index]:-}" = "${SUMS[htdocs/index.html]:-none}" ]; then
		ok "GET / is index.html"
	else
		not_ok "GET / is index.html" "got: $got"
	fi
}

c_404() {
	local got
	got=$(in_ns curl -s -o /dev/null -w '%{http_code}' "$URL/no-such-file.html")
	check "GET of a missing path: 404" test "$got" = 404
}

# a malformed request: 400, then the server closes (cat ends before the timeout)
c_400() {
	local st first
	in_ns timeout 5 bash -c "exec 3<>/dev/tcp/$ADDR/80 && printf 'GARBAGE\r\n\r\n' >&3 && cat <&3" \
		>"$tmp/bad" 2>&1
	st=$?
	first=
	IFS=$'\r' read -r first _ <"$tmp/bad"
	if [ "$first" = "HTTP/1.1 400 Bad Request" ] && [ "$st" -eq 0 ]; then
		ok "malformed request: 400 and close"
	else
		not_ok "malformed request: 400 and close" "status line: '$first', exit $st"
	fi
}

c_405() {
	local got line allow=0
	got=$(in_ns curl -s -o /dev/null -D "$tmp/h" -w '%{http_code}' -X POST -d x "$URL/")
	while IFS= read -r line; do
		case ${line,,} in "allow: get, head"*) allow=1 ;; esac
	done <"$tmp/h"
	if [ "$got" = 405 ] && [ $allow -eq 1 ]; then
		ok "POST: 405 with Allow: GET, HEAD"
	else
		not_ok "POST: 405 with Allow: GET, HEAD" "got: $got"
	fi
}

# HEAD: the length of the body, and no body
c_head() {
	local len= line reply= ends=no size want
	in_ns timeout 5 bash -c "exec 3<>/dev/tcp/$ADDR/80 && printf 'HEAD /big.bin HTTP/1.1\r\nHost: $ADDR\r\nConnection: close\r\n\r\n' >&3 && cat <&3" \
		>"$tmp/head" 2>&1
	IFS= read -r -d '' reply <"$tmp/head"
	while IFS=$'\r' read -r line _; do
		case ${line,,} in "content-length: "*) len=${line#*: } ;; esac
	done <<<"$reply"
	[ "${reply: -4}" = $'\r\n\r\n' ] && ends=yes
	size=${#reply}
	want=$(stat -c %s htdocs/big.bin)
	if [ "$len" = "$want" ] && [ $ends = yes ] && [ "$size" -lt 512 ]; then
		ok "HEAD /big.bin: Content-Length $len and no body"
	else
		not_ok "HEAD /big.bin: Content-Length $len and no body" "length '$len', $size bytes, ends with CRLF CRLF: $ends"
	fi
}

# keep-alive: two URLs, one connection
c_keepalive() {
	local line reused=0 said=()
	in_ns curl -sv -o "$tmp/k1" -o "$tmp/k2" "$URL/index.html" "$URL/style.css" 2>"$tmp/kv"
	while IFS= read -r line; do
		case $line in *"Re-using existing connection"*) reused=1 ;; esac
		case ${line,,} in *connect*) [ ${#said[@]} -lt 5 ] && said+=("$line") ;; esac
	done <"$tmp/kv"
	sums "$tmp/k1" "$tmp/k2" htdocs/index.html htdocs/style.css
	if [ $reused -eq 1 ] && [ "${SUMS[$tmp/k1]:-}" = "${SUMS[htdocs/index.html]:-none}" ] &&
		[ "${SUMS[$tmp/k2]:-}" = "${SUMS[htdocs/style.css]:-none}" ]; then
		ok "keep-alive: two requests on one connection"
	else
		not_ok "keep-alive: two requests on one connection" "${said[@]}"
	fi
}

# ten connections at once (one curl, --parallel: ten connections, each counted)
c_ten() {
	local args=() files=() i n same=0 conns=0
	for i in {1..10}; do
		args+=(-o "$tmp/big.$i" "$URL/big.bin")
		files+=("$tmp/big.$i")
	done
	while read -r n; do
		conns=$((conns + n))
	done < <(in_ns curl -s --no-progress-meter --max-time 60 --parallel --parallel-immediate --parallel-max 10 \
		-w '%{num_connects}\n' "${args[@]}")
	sums htdocs/big.bin "${files[@]}"
	for i in {1..10}; do
		[ -n "${SUMS[htdocs/big.bin]:-}" ] && [ "${SUMS[$tmp/big.$i]:-}" = "${SUMS[htdocs/big.bin]}" ] &&
			same=$((same + 1))
	done
	check "ten concurrent downloads of big.bin: $same of 10 identical, $conns connections" \
		test "$same" -eq 10 -a "$conns" -eq 10
}

# The start line, from the console the image writes.
c_start() {
	local want line seen=0 log=()
	htdocs_files
	want="static-website: serving ${#HTDOCS[@]} files on $ADDR:80"
	while IFS= read -r line; do
		[ "$line" = "$want" ] && seen=1
		log+=("$line")
	done <"$LOG"
	if [ $seen -eq 1 ]; then
		ok "start line: $want"
	else
		not_ok "start line: $want" "log: ${log[*]}"
	fi
}

# Run every check at once; print their lines in this order, and count them.
run_checks() {
	local n=0 i f line pids=()
	for f in c_ten c_files c_ping c_start c_index c_404 c_400 c_405 c_head c_keepalive; do
		n=$((n + 1))
		"$f" >"$tmp/r.$n" &
		pids+=($!)
	done
	# the checks only: in standalone mode the image is a child too
	wait "${pids[@]}"
	for ((i = 1; i <= n; i++)); do
		while IFS= read -r line; do
			echo "$line"
			case $line in
			"ok "*) passed=$((passed + 1)) ;;
			"not ok "*) failed=$((failed + 1)) ;;
			esac
		done <"$tmp/r.$i"
	done
}

if [ -n "${STITCH_TEST_ADDR:-}" ]; then
	ADDR=$STITCH_TEST_ADDR
	URL=http://$ADDR
	LOG=${STITCH_TEST_LOG:-/dev/null}
	run_checks
else
	ADDR=10.0.0.2
	URL=http://$ADDR
	standalone "$@"
	run_checks
	stop
fi
finish
