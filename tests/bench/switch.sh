#!/bin/bash
# The switch: installing 50 small packages from a loopback server that adds
# 50 ms to every request, fetching 8 at once against one at a time; and a
# no-op `stitch install` of the installed set (floor: under 50 ms).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
STITCH=${STITCH:-$top/stitch}
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
N=50

mkdir -p "$tmp/www/archives" "$tmp/src"
python3 - "$tmp" "$N" <<'PY'
import hashlib, io, json, sys, tarfile
tmp, n = sys.argv[1], int(sys.argv[2])
pkgs = {}
for i in range(n):
    name = "p%02d" % i
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        data = (name + "\n").encode() * 64
        info = tarfile.TarInfo("%s-1.0/README" % name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    blob = buf.getvalue()
    open("%s/www/archives/%s-1.0.tar.gz" % (tmp, name), "wb").write(blob)
    pkgs[name] = {"name": name, "versions": {"1.0": {
        "source": {"url": "archives/%s-1.0.tar.gz" % name, "sha256": hashlib.sha256(blob).hexdigest()},
        "depends": ["p%02d" % (i - 1)] if i else [],
        "install": [["sh", "-c", "mkdir -p \"$DESTDIR$PREFIX/share/%s\" && cp README \"$DESTDIR$PREFIX/share/%s/\"" % (name, name)]]}}}
json.dump({"format": 1, "name": "bench", "packages": pkgs}, open(tmp + "/www/index.json", "w"))
PY
python3 "$top/tests/server/faulty.py" --port 0 --dir "$tmp/www" --latency 50 >"$tmp/port" 2>/dev/null &
server=$!
for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(head -n1 "$tmp/port")/ok/index.json

install_once() { # JOBS -> prints "fetch_seconds total_seconds"
	local root=$tmp/root-$1-$RANDOM
	"$STITCH" --root "$root" init >/dev/null || return 1
	local t0 t1
	t0=$(date +%s.%N)
	STITCH_FETCH_JOBS=$1 "$STITCH" --root "$root" --repo "$url" install p$(printf %02d $((N - 1))) --json >"$tmp/ev" || return 1
	t1=$(date +%s.%N)
	python3 - "$tmp/ev" "$t0" "$t1" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
f = [e for e in ev if e["event"] == "fetch"][0]
done = [e for e in ev if e["event"] == "package" and e["action"] == "built"]
assert len(done) == 50, len(done)
print("%.3f %.3f" % (f["seconds"], float(sys.argv[3]) - float(sys.argv[2])))
PY
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for j in 8 1; do
	: >"$tmp/f$j"; : >"$tmp/t$j"
	for _ in 1 2 3; do
		r=$(install_once $j) || { echo "switch bench: install failed" >&2; exit 1; }
		echo "${r% *}" >>"$tmp/f$j"
		echo "${r#* }" >>"$tmp/t$j"
	done
done
f8=$(median <"$tmp/f8"); f1=$(median <"$tmp/f1"); t8=$(median <"$tmp/t8"); t1=$(median <"$tmp/t1")
echo "install of $N small packages, 50 ms added per request (median of 3):"
printf '  %-34s %8s s   %s\n' "fetch phase, 8 at once" "$f8" "whole install $t8 s"
printf '  %-34s %8s s   %s\n' "fetch phase, one at a time" "$f1" "whole install $t1 s"
ratio=$(python3 -c "print('%.1f' % ($f1 / $f8))")
floor=$(python3 -c "print('PASS' if $f1 / $f8 >= 4 else 'FAIL')")
printf '  %-34s %8sx  (floor 4x: %s)\n' "fetch ratio" "$ratio" "$floor"

# No-op install of the installed set.
root=$tmp/root-noop
"$STITCH" --root "$root" init >/dev/null
# The local index (sources beside it): a no-op must not depend on the network.
"$STITCH" --root "$root" --repo "$tmp/www/index.json" install p49 >/dev/null 2>&1 ||
	{ echo "switch bench: install failed" >&2; exit 1; }
if command -v hyperfine >/dev/null; then
	ms=$(hyperfine -N -w 3 -r 20 --export-json "$tmp/h.json" \
		"$STITCH --root $root --repo $tmp/www/index.json install p49" >/dev/null 2>&1 &&
		python3 -c "import json; print('%.1f' % (sorted(json.load(open('$tmp/h.json'))['results'][0]['times'])[10] * 1000))")
else
	ms=$(python3 - "$STITCH" "$root" "$tmp/www/index.json" <<'PY'
import subprocess, sys, time
t = []
for _ in range(20):
    a = time.perf_counter()
    subprocess.run([sys.argv[1], "--root", sys.argv[2], "--repo", sys.argv[3], "install", "p49"], capture_output=True, check=True)
    t.append(time.perf_counter() - a)
print("%.1f" % (sorted(t)[10] * 1000))
PY
)
fi
[ -n "$ms" ] || { echo "switch bench: timing the no-op install failed" >&2; exit 1; }
floor=$(python3 -c "print('PASS' if $ms < 50 else 'FAIL')")
printf '  %-34s %8s ms  (floor 50 ms: %s)\n' "no-op install of 50 packages" "$ms" "$floor"
exit 0
