#!/usr/bin/env bash
# tests/bench/fetch.sh: parallel fetching versus one download at a time.
#
# Serves 50 small files from tests/server/faulty.py on loopback with 50 ms
# added to every request, and times stitch_fetch_all (through
# tests/bench/fetch_driver.c, compiled here against libstitch.a) fetching all
# of them with parallel=8 and with parallel=1, each into a fresh cache.
# Prints the medians, the ratio and PASS/FAIL against the floor (>= 4x), and
# the peak of concurrent requests the server saw.  Exits 0 whatever the
# figures; 1 only when something fails to build or run.
#
# Run from anywhere after `make` (needs libstitch.a).  Environment:
# BENCH_FETCH_FILES (50), BENCH_FETCH_LATENCY (50 ms), BENCH_FETCH_RUNS (3),
# BENCH_KEEP=1 keeps the temp dir.
set -u -o pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

FILES=${BENCH_FETCH_FILES:-50}
LATENCY=${BENCH_FETCH_LATENCY:-50}
RUNS=${BENCH_FETCH_RUNS:-3}
FLOOR=4

die() { printf 'bench fetch: %s\n' "$*" >&2; exit 1; }

[ -f libstitch.a ] || die "libstitch.a not found (run make first)"
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is required"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stitch-bench-fetch.XXXXXX") || die "mktemp failed"
server=
# shellcheck disable=SC2317  # called through the trap
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench fetch: keeping $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# the driver
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags libcurl libcrypto) \
	-o "$tmp/fetch_driver" tests/bench/fetch_driver.c libstitch.a \
	$(pkg-config --libs libcurl libarchive jansson sqlite3 libcrypto) \
	|| die "cannot build tests/bench/fetch_driver.c"

# the files, 4 KiB each, all different
mkdir -p "$tmp/files"
for ((i = 0; i < FILES; i++)); do
	head -c 4096 /dev/urandom >"$tmp/files/src-$i.tar.gz"
done

# the server: its first line of output is the port
"$PY" tests/server/faulty.py --port 0 --dir "$tmp/files" --latency "$LATENCY" \
	>"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
for ((i = 0; i < 100; i++)); do
	port=$(head -n 1 "$tmp/server.out" 2>/dev/null)
	[ -n "$port" ] && break
	kill -0 "$server" 2>/dev/null || { cat "$tmp/server.err" >&2; die "the server did not start"; }
	sleep 0.05
done
[ -n "$port" ] || die "the server did not print its port"
base=http://127.0.0.1:$port

(cd "$tmp/files" && sha256sum -- *) | while read -r sha name; do
	echo "$base/ok/$name $sha"
done >"$tmp/list"

control() { "$PY" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "$base/$1"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# run PARALLEL: sets MS (median wall time of stitch_fetch_all) and PEAK (most requests at once)
run() {
	local p=$1 r ms
	: >"$tmp/ms"
	PEAK=0
	for ((r = 0; r < RUNS; r++)); do
		rm -rf "$tmp/cache"
		control _reset >/dev/null || die "cannot reach the server"
		ms=$("$tmp/fetch_driver" "$tmp/cache" "$p" <"$tmp/list" 2>"$tmp/driver.err") \
			|| { cat "$tmp/driver.err" >&2; die "fetching with parallel=$p failed"; }
		[ "$(find "$tmp/cache" -type f | wc -l)" -eq "$FILES" ] || die "parallel=$p: not every file is in the cache"
		echo "$ms" >>"$tmp/ms"
		local peak
		peak=$(control _conn | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["peak_requests"])')
		[ "$peak" -gt "$PEAK" ] && PEAK=$peak
	done
	MS=$(median <"$tmp/ms")
}

echo "fetch bench: $FILES files of 4 KiB, ${LATENCY} ms added per request, medians of $RUNS runs"
run 8
par_ms=$MS par_peak=$PEAK
run 1
seq_ms=$MS seq_peak=$PEAK
ratio=$(awk -v a="$seq_ms" -v b="$par_ms" 'BEGIN { printf "%.2f", a / b }')
verdict=$(awk -v r="$ratio" -v f="$FLOOR" 'BEGIN { print (r >= f) ? "PASS" : "FAIL" }')
printf '  %-28s %10s ms   peak concurrent requests %s\n' "parallel=8" "$par_ms" "$par_peak"
printf '  %-28s %10s ms   peak concurrent requests %s\n' "parallel=1" "$seq_ms" "$seq_peak"
printf '  %-28s %10sx  %s (floor %dx)\n' "ratio (1 / 8)" "$ratio" "$verdict" "$FLOOR"
exit 0
