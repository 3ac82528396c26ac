#!/bin/bash
# The static website: cold build, the edit-rebuild loop with tcp pinned, and
# the unikernel's HTTP throughput against python3 -m http.server.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
STITCH=${STITCH:-$top/stitch}
tmp=$(mktemp -d)
ns=
cleanup() {
	[ -n "${img:-}" ] && kill "$img" 2>/dev/null
	[ -n "${py:-}" ] && kill "$py" 2>/dev/null
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "loop bench: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { python3 -c "print('%.3f' % ($2 - $1))"; }

cp -R "$top/share/examples/static-website" "$tmp/site"
cd "$tmp/site" || exit 1
s() { "$STITCH" --root "$tmp/root" "$@"; }
t0=$(now); s build >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; die "cold build failed"; }; t1=$(now)
cold=$(secs "$t0" "$t1")
echo "static website:"
printf '  %-46s %8s s\n' "cold build (every package compiled)" "$cold"

s pin add tcp >/dev/null 2>&1 || die "pin add tcp failed"
s build >/dev/null 2>&1 || die "build with tcp pinned failed"
if command -v hyperfine >/dev/null; then
	noop=$(hyperfine -N -w 3 -r 20 --export-json "$tmp/h.json" "$STITCH --root $tmp/root build" >/dev/null 2>&1 &&
		python3 -c "import json; t = sorted(json.load(open('$tmp/h.json'))['results'][0]['times']); print('%.1f' % (t[len(t)//2] * 1000))")
else
	noop=$(python3 -c "
import subprocess, time
t = []
for _ in range(20):
    a = time.perf_counter(); subprocess.run(['$STITCH', '--root', '$tmp/root', 'build'], capture_output=True); t.append(time.perf_counter() - a)
print('%.1f' % (sorted(t)[10] * 1000))")
fi
printf '  %-46s %8s ms  (floor 30 ms: %s)\n' "no-op stitch build, tcp pinned" "$noop" \
	"$(python3 -c "print('PASS' if $noop < 30 else 'FAIL')")"

# A code edit of tcp against the hand-made floor (the same image SHA-256),
# and the no-op against make -q on the same graph: floor.sh, on its own tree.
STITCH=$STITCH "$top/tests/bench/floor.sh" >"$tmp/floor.out"
rc=$?
sed 's/^/  /' "$tmp/floor.out"
[ "$rc" -eq 0 ] || die "floor.sh failed"

# One header edit in tcp, against rebuilding every package from scratch.
echo "/* header edit */" >>tcp/tcp.h
t0=$(now); s build >/dev/null 2>&1 || die "build after a header edit failed"; t1=$(now)
hdr=$(secs "$t0" "$t1")
printf '  %-46s %8s s\n' "one header edit in tcp -> relinked image" "$hdr"
printf '  %-46s %8s s   ratio %sx\n' "  every package from scratch (cold build)" "$cold" \
	"$(python3 -c "print('%.2f' % ($hdr / $cold))")"

# Throughput: curl of the 1 MiB file, 20 times, from the unikernel and from python3.
if [ "$(id -u)" -ne 0 ]; then
	echo "  throughput: skipped (a network namespace needs root)"
	exit 0
fi
s pin remove tcp >/dev/null 2>&1
s build >/dev/null 2>&1 || die "build failed"
ns=stitch-bench-$$
ip netns add "$ns" && ip -n "$ns" tuntap add dev tap0 mode tap && ip -n "$ns" addr add 10.0.0.1/24 dev tap0 &&
	ip -n "$ns" link set tap0 up && ip -n "$ns" link set lo up || die "cannot make a network namespace"
ip netns exec "$ns" "$tmp/site/_build/static-website.unix" --net=tap0 --ipv4=10.0.0.2/24 >/dev/null 2>&1 &
img=$!
(cd "$tmp/site/htdocs" && exec ip netns exec "$ns" python3 -m http.server 8080 --bind 10.0.0.1 >/dev/null 2>&1) &
py=$!
for _ in $(seq 1 50); do
	ip netns exec "$ns" curl -s -o /dev/null --max-time 1 http://10.0.0.2/ &&
		ip netns exec "$ns" curl -s -o /dev/null --max-time 1 http://10.0.0.1:8080/ && break
	sleep 0.1
done
rate() { ip netns exec "$ns" python3 - "$1" <<'PY'
import subprocess, sys, time
sizes = 0
a = time.perf_counter()
for _ in range(20):
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download}", sys.argv[1]], capture_output=True, text=True)
    sizes += int(out.stdout or 0)
t = time.perf_counter() - a
print("%.1f %d" % (sizes / t / 1e6, sizes))
PY
}
u=$(rate http://10.0.0.2/big.bin)
p=$(rate http://10.0.0.1:8080/big.bin)
[ "${u#* }" = 20971520 ] || die "the unikernel sent ${u#* } bytes, expected 20971520"
printf '  %-46s %8s MB/s\n' "curl 20 x 1 MiB from the unikernel" "${u% *}"
printf '  %-46s %8s MB/s  (loopback inside the namespace)\n' "curl 20 x 1 MiB from python3 -m http.server" "${p% *}"
printf '  %-46s %8sx\n' "ratio unikernel / python" "$(python3 -c "print('%.2f' % (${u% *} / ${p% *}))")"
exit 0
