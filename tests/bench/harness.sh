#!/bin/bash
# The test half of the loop on the static website: the example's whole test
# through stitch's harness (`stitch test`), against the script-driven flow
# it replaced (serial-test.sh: the script as it was, making its own
# namespace and tap with `ip netns`, polling the image, its checks one after
# another) and against today's test.sh alone (its own namespace, the checks
# at once), interleaved in one run; then save -> verdict in `stitch watch
# --test` for a .c edit of pinned tcp that changes the object file.
# Medians.  Needs root (namespaces).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
STITCH=${STITCH:-$top/stitch}
RUNS=${BENCH_HARNESS_RUNS:-7}
tmp=$(mktemp -d)
wpid=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	[ -n "$wpid" ] && kill -INT "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "harness bench: $*" >&2; exit 1; }
now() { date +%s.%N; }
med() { sort -n "$1" | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'; }
verdict() { python3 -c "print('PASS' if $1 <= $2 else 'FAIL')"; }

echo "test harness (static website, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)):"
if [ "$(id -u)" -ne 0 ]; then
	echo "  skipped: the namespaces of both flows need root here"
	exit 0
fi
command -v tcpdump >/dev/null || echo "  (tcpdump absent: stitch test runs without capture)"
cp -R "$top/share/examples/static-website" "$tmp/site"
cd "$tmp/site" || exit 1
s() { "$STITCH" --root "$tmp/root" "$@"; }
s build >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; die "build failed"; }
image=$tmp/site/_build/static-website.unix
cp "$top/tests/bench/serial-test.sh" "$tmp/site/serial-test.sh"

: >"$tmp/t_serial"
: >"$tmp/t_script"
: >"$tmp/t_harness"
for _ in $(seq 1 "$RUNS"); do
	t0=$(now)
	STITCH_IMAGE=$image ./serial-test.sh >"$tmp/out" 2>&1 || { cat "$tmp/out"; die "serial-test.sh failed"; }
	t1=$(now)
	STITCH_IMAGE=$image ./test.sh >"$tmp/out" 2>&1 || { cat "$tmp/out"; die "test.sh alone failed"; }
	t2=$(now)
	s test >"$tmp/out" 2>&1 || { cat "$tmp/out"; die "stitch test failed"; }
	t3=$(now)
	python3 -c "print($t1 - $t0)" >>"$tmp/t_serial"
	python3 -c "print($t2 - $t1)" >>"$tmp/t_script"
	python3 -c "print($t3 - $t2)" >>"$tmp/t_harness"
done
serial=$(med "$tmp/t_serial")
script=$(med "$tmp/t_script")
harness=$(med "$tmp/t_harness")
printf '  %-46s %8s s\n' "the example's test, script-driven and serial" "$serial"
printf '  %-46s %8s s\n' "  test.sh alone, its checks at once" "$script"
printf '  %-46s %8s s  (goal 1.0: %s)\n' "the example's test, stitch test (harness)" "$harness" \
	"$(verdict "$harness" 1.0)"
printf '  %-46s %8sx\n' "  ratio harness / script-driven and serial" \
	"$(python3 -c "print('%.2f' % ($harness / $serial))")"

# save -> verdict: watch --test with tcp pinned, a .c edit that changes the object.
s pin add tcp >/dev/null 2>&1 || die "pin add tcp failed"
s build >/dev/null 2>&1 || die "build with tcp pinned failed"
"$STITCH" --root "$tmp/root" watch --test >"$tmp/watch" 2>&1 &
wpid=$!
python3 - "$tmp/watch" "$tmp/site/tcp/src/tcp_output.c" "$RUNS" >"$tmp/t_loop" <<'PY' || die "watch --test: $(tail -n 20 "$tmp/watch")"
import re, sys, time
log, src, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def cycles():
    return re.findall(r"\] (ok|FAILED) in [0-9.]+ s; watching", open(log).read())
def wait_for(n, limit=120):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        c = cycles()
        if len(c) >= n:
            return c[n - 1]
        time.sleep(0.005)
    sys.exit("no verdict within %d s" % limit)
wait_for(1)
for i in range(runs):
    time.sleep(0.5)  # let inotify settle after the previous cycle
    n = len(cycles())
    t0 = time.monotonic()
    with open(src, "a") as f:
        f.write("int tcp_bench_edit_%d(void) { return %d; }\n" % (i, i))
    if wait_for(n + 1) != "ok":
        sys.exit("cycle %d failed" % (n + 1))
    print(time.monotonic() - t0)
PY
loop=$(med "$tmp/t_loop")
printf '  %-46s %8s s  (goal 1.0: %s)\n' "save -> verdict, .c edit of pinned tcp (watch)" "$loop" \
	"$(verdict "$loop" 1.0)"
# What a cycle is made of, from watch's own lines (the start cycle left out).
part() { sed -n "s/^$1 \([0-9.]*\) s.*/\1/p" "$tmp/watch" | tail -n "$RUNS" >"$tmp/part"; med "$tmp/part"; }
printf '  %-46s %8s s\n' "  of which tcp rebuilt" "$(part 'tcp [0-9.]*: rebuilt in')"
printf '  %-46s %8s s\n' "  of which tcp's own tests (make check)" "$(part 'tcp [0-9.]*: tests passed in')"
printf '  %-46s %8s s\n' "  of which the image relinked" "$(part 'image relinked in')"
exit 0
