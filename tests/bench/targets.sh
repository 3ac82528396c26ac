#!/bin/bash
# The static website on each image target (unix, spt, virtio): the image's
# size, boot -> first HTTP 200, and the throughput of curl against python3
# -m http.server in the same namespace.  Each image starts with the command
# its target's "run" gives in share/targets.json, inside a network namespace
# of its own with tap0 10.0.0.1/24, the image at 10.0.0.2.  Everything stays
# inside the namespace.  Needs root (namespaces).
#
# Environment: STITCH (default ./stitch), BENCH_TARGET_RUNS (10): boots per
# target, BENCH_TARGETS ("unix spt virtio").
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
STITCH=${STITCH:-$top/stitch}
RUNS=${BENCH_TARGET_RUNS:-10}
TARGETS=${BENCH_TARGETS:-unix spt virtio}
ADDR=10.0.0.2
ARGS=("--ipv4=$ADDR/24" --ipv4-gateway=10.0.0.1)
GOAL_BOOT_MS=1000   # virtio under QEMU without KVM: first 200 within 1 s
GOAL_SIZE=1000000   # virtio image under 1 MB (10^6 bytes)
tmp=$(mktemp -d)
ns=
hpid=
img=
py=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local p
	for p in $hpid $img $py; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "targets bench: $*" >&2; exit 1; }
med() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "PASS" : "FAIL" }'; }

echo "image targets (static website, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)):"
if [ "$(id -u)" -ne 0 ]; then
	echo "  skipped: the images' network namespaces need root here"
	exit 0
fi
for tool in ip curl python3 nm; do
	command -v "$tool" >/dev/null || die "'$tool' is required"
done

# The exact command of the target's "run": TARGET IMAGE TAP ARGS... -> argv, NUL-separated.
run_argv() {
	python3 - "$top/share/targets.json" "$@" <<'PY'
import json, os, sys
t = json.load(open(sys.argv[1]))[sys.argv[2]]
image, tap, args = sys.argv[3], sys.argv[4], sys.argv[5:]
accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
vars = {"image": image, "tap": tap, "cmdline": " ".join(args), "accel": accel}
out = []
for w in t["run"]:
    if w == "%{args}%":
        out += args
        continue
    for k, v in vars.items():
        w = w.replace("%{" + k + "}%", v)
    out.append(w)
sys.stdout.write("".join(a + "\0" for a in out))
PY
}

# A fresh namespace with tap0 10.0.0.1/24 (no IPv6 chatter: the image speaks IPv4
# only).  ARP is retried every 10 ms there, as curl polls: with the kernel's 1 s,
# a request sent before the image's network is up makes boot -> 200 ~1 s.
new_ns() {
	ns=stitch-bench-targets-$$-$1
	if ! { ip netns add "$ns" && ip -n "$ns" link set lo up &&
		ip -n "$ns" tuntap add dev tap0 mode tap && ip -n "$ns" addr add 10.0.0.1/24 dev tap0 &&
		ip -n "$ns" link set tap0 up; }; then
		die "cannot make a network namespace"
	fi
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.tap0.disable_ipv6=1 2>/dev/null
	ip netns exec "$ns" sysctl -qw net.ipv4.neigh.tap0.retrans_time_ms=10 ||
		die "cannot set the ARP retry time in the namespace"
}
del_ns() {
	ip netns del "$ns" 2>/dev/null
	ns=
}

# One boot, inside the namespace: start the image (ARGV...), poll curl every
# ~10 ms until a 200, print the milliseconds, SIGTERM the image and wait.
boot_once() {
	ip netns exec "$ns" python3 - "http://$ADDR/" "$tmp/console" "$@" <<'PY' &
import signal, subprocess, sys, time
url, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
curl = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "0.1", url]
with open(log, "wb") as f:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    try:
        while True:
            if subprocess.run(curl, capture_output=True, text=True).stdout == "200":
                t1 = time.perf_counter()
                break
            if p.poll() is not None:
                sys.exit("the image exited (status %d) before answering" % p.returncode)
            if time.perf_counter() - t0 > 60:
                sys.exit("no HTTP 200 within 60 s")
            time.sleep(0.01)
    finally:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
print("%.1f" % ((t1 - t0) * 1000))
PY
	hpid=$!
	wait "$hpid"
	local rc=$?
	hpid=
	return $rc
}

# MB/s of 20 x curl URL, and the bytes received (as loop.sh).
rate() {
	ip netns exec "$ns" python3 - "$1" <<'PY'
import subprocess, sys, time
sizes = 0
a = time.perf_counter()
for _ in range(20):
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "60", "-w", "%{size_download}", sys.argv[1]], capture_output=True, text=True)
    sizes += int(out.stdout or 0)
t = time.perf_counter() - a
print("%.1f %d" % (sizes / t / 1e6, sizes))
PY
}

# Median ms of one curl of URL (whole command, as boot_once runs it): the floor of boot -> 200.
curl_ms() {
	ip netns exec "$ns" python3 - "$1" <<'PY'
import subprocess, sys, time
t = []
for _ in range(11):
    a = time.perf_counter()
    subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "1", sys.argv[1]], capture_output=True)
    t.append(time.perf_counter() - a)
print("%.1f" % (sorted(t)[5] * 1000))
PY
}

# Wait until URL answers 200 from inside the namespace (readiness, not a measure).
wait_200() {
	local i
	for i in $(seq 1 600); do
		[ "$(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1")" = 200 ] && return 0
		[ "$i" -gt 1 ] && [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && return 1
		sleep 0.05
	done
	return 1
}

cp -R "$top/share/examples/static-website" "$tmp/site"
cd "$tmp/site" || exit 1
big=$(stat -c %s htdocs/big.bin)
rows=()
for t in $TARGETS; do
	"$STITCH" --root "$tmp/root" build --target "$t" >/dev/null 2>"$tmp/err" ||
		{ cat "$tmp/err"; die "stitch build --target $t failed"; }
	image=$tmp/site/_build/static-website.$t
	[ -f "$image" ] || die "no image at $image"
	mapfile -d '' argv < <(run_argv "$t" "$image" tap0 "${ARGS[@]}")
	[ "${#argv[@]}" -gt 0 ] || die "no run command for $t in share/targets.json"
	if ! command -v "${argv[0]}" >/dev/null; then
		echo "  $t: skipped (${argv[0]} not found)"
		continue
	fi

	# Size: the file, and the file less the htdocs arrays crunch embeds (nm -S).
	size=$(stat -c %s "$image")
	docs=$(nm -S -t d "$image" | awk '$4 ~ /^htdocs_data_/ { s += $2 } END { print s + 0 }')

	# Boot -> first 200, a fresh namespace per boot.
	: >"$tmp/boot"
	for i in $(seq 1 "$RUNS"); do
		new_ns "$t-$i"
		boot_once "${argv[@]}" >>"$tmp/boot" 2>"$tmp/boot.err" || {
			cat "$tmp/boot.err" >&2
			tail -n 20 "$tmp/console" | sed 's/^/  | /' >&2
			die "$t: boot $i failed: ${argv[*]}"
		}
		del_ns
	done
	boot=$(med "$tmp/boot")
	spread=$(sort -n "$tmp/boot" | sed -n '1p;$p' | paste -sd- -)

	# Throughput: the image and python3 -m http.server, in one namespace.
	new_ns "$t-rate"
	ip netns exec "$ns" "${argv[@]}" >"$tmp/console" 2>&1 </dev/null &
	img=$!
	(cd "$tmp/site/htdocs" && exec ip netns exec "$ns" python3 -m http.server 8080 --bind 10.0.0.1 >/dev/null 2>&1) &
	py=$!
	wait_200 "http://$ADDR/" "$img" || { tail -n 20 "$tmp/console" >&2; die "$t: the image never answered"; }
	wait_200 http://10.0.0.1:8080/ "$py" || die "python3 -m http.server never answered"
	one=$(curl_ms http://10.0.0.1:8080/)
	u=$(rate "http://$ADDR/big.bin")
	p=$(rate http://10.0.0.1:8080/big.bin)
	kill "$img" "$py" 2>/dev/null
	wait "$img" "$py" 2>/dev/null
	img=''
	py=''
	del_ns
	[ "${u#* }" = $((20 * big)) ] || die "$t: the image sent ${u#* } bytes, expected $((20 * big))"
	ratio=$(awk -v a="${u% *}" -v b="${p% *}" 'BEGIN { printf "%.2fx", a / b }')
	rows+=("$(printf '  %-7s %9s %9s %9s %9s ms %-15s %7s %7s %7s %6s' "$t" "$size" "$docs" \
		"$((size - docs))" "$boot" "($spread)" "$one" "${u% *}" "${p% *}" "$ratio")")
	if [ "$t" = virtio ]; then
		v_size=$size v_docs=$docs v_boot=$boot
		case " ${argv[*]} " in
		*" kvm "*) v_accel="QEMU on KVM (/dev/kvm can be opened)" ;;
		*) v_accel="QEMU TCG: no /dev/kvm to open here" ;;
		esac
	fi
done

echo "  image: the file, bytes; htdocs: the htdocs_data_* arrays crunch links in (nm -S: the site's"
echo "  4 files, big.bin $big bytes of them); code+rest: the image less those arrays."
echo "  boot -> 200: from starting the target's \"run\" command to curl's first 200, curl run"
echo "  every ~10 ms inside a fresh namespace; median of $RUNS (min-max).  1 curl: one whole curl"
echo "  command against python3 -m http.server there, ms (median of 11): the floor of boot -> 200."
echo "  MB/s: curl 20 x big.bin from the image, from python3 -m http.server, and the ratio."
printf '  %-7s %9s %9s %9s %12s %-15s %7s %7s %7s %6s\n' "target" "image" "htdocs" "code+rest" \
	"boot -> 200" " (min-max)" "1 curl" "MB/s" "python" "ratio"
printf '%s\n' "${rows[@]}"
if [ -n "${v_size:-}" ]; then
	echo "  virtio ($v_accel):"
	printf '    %-44s %9s ms  (goal <= %s ms: %s)\n' "boot -> first 200" "$v_boot" "$GOAL_BOOT_MS" \
		"$(verdict "$v_boot" "$GOAL_BOOT_MS")"
	printf '    %-44s %9s B   (goal < 1 MB: %s)\n' "image, with the site's files (1 MiB big.bin)" "$v_size" \
		"$(verdict "$v_size" $((GOAL_SIZE - 1)))"
	printf '    %-44s %9s B   (goal < 1 MB: %s)\n' "image less the htdocs arrays" "$((v_size - v_docs))" \
		"$(verdict "$((v_size - v_docs))" $((GOAL_SIZE - 1)))"
fi
exit 0
