#!/bin/bash
# The build half of the loop against its floor (issue 16), on the static
# website with tcp pinned:
#
#  - a code edit of tcp (a function whose value changes, so the object file
#    and the image change; not an appended comment) to a relinked image,
#    against the hand-made floor: the same cc on the one changed file, ar
#    and the link, run directly on a copy of the tree.  Both give the same
#    image, checked by its SHA-256 on every run.  Runs alternate (and which
#    goes first alternates too) so both see the same machine; medians.
#  - a no-op `stitch build` against `make -q` on a Makefile of the same
#    graph (the pinned tree, the app's sources and generated file, the
#    installed headers, libraries and .pc files, the image); stitch answers
#    from the stamp its first no-op build leaves, and the same no-op through
#    the full path (no stamp) is printed for scale.
#
# STITCH_BEFORE=BINARY also times another stitch (say main's) in the same
# run, on the same root.  BENCH_FLOOR_RUNS (default 9) runs of each.
# Reports; exits 1 only when a command fails or the floor's image differs.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
STITCH=${STITCH:-$top/stitch}
BEFORE=${STITCH_BEFORE:-}
RUNS=${BENCH_FLOOR_RUNS:-9}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "floor bench: $*" >&2; exit 1; }
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is required"

site=$tmp/site
cp -R "$top/share/examples/static-website" "$site"
cd "$site" || exit 1
s() { "$STITCH" --root "$tmp/root" "$@"; }
s build >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; die "cold build failed"; }
s pin add tcp >/dev/null 2>&1 || die "pin add tcp failed"
s build >/dev/null 2>&1 || die "build with tcp pinned failed"

# The floor's commands, read from the logs of the build just made.
mirror=$site/_stitch/.stitch/build/pin-tcp
# tcp's log, whichever version the index gave
log=$(ls "$site"/_stitch/.stitch/logs/tcp-*.log | grep -v '\.test\.log$' | tail -n1)
compile=$(grep -E '^(cc|gcc) .* -c .*tcp_output' "$log" | tail -n1)
archive=$(grep -E '^ar ' "$log" | tail -n1)
link=$(grep -E '^\$ cc -o ' "$site/_build/build.log" | tail -n1 | sed 's/^\$ //')
[ -n "$compile" ] && [ -n "$archive" ] && [ -n "$link" ] || die "could not read the commands from the logs"
floor=$tmp/floor
mkdir -p "$floor/lib"
cp -a "$mirror" "$floor/tcp"
cp -a "$site/_stitch/lib/"*.a "$floor/lib/"

# The same graph as a Makefile, on a copy of the tree with the times of a
# tree make would call up to date (stitch keeps hashes, make only times).
mk=$tmp/mk
mkdir -p "$mk"
(cd "$site" && tar --exclude=./_stitch/.stitch -cf - .) | tar -C "$mk" -xf -
for d in "$mk"/_build/obj/*.d; do sed -i "s|$site/|$mk/|g" "$d"; done
tcp_files=$(cd "$mk" && find tcp -type f | sort | tr '\n' ' ')
htdocs_files=$(cd "$mk" && find htdocs -type f | sort | tr '\n' ' ')
libs=$(cd "$mk" && ls _stitch/lib/*.a | tr '\n' ' ')
pcs=$(cd "$mk" && ls _stitch/lib/pkgconfig/*.pc | tr '\n' ' ')
cat >"$mk/Makefile" <<MK
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
IMAGE := _build/static-website.unix
\$(IMAGE): _build/obj/main.c.o _build/obj/_build_htdocs.c.o $libs $pcs
	${link/ -o * _build/ -o \$@ _build/}
_build/obj/main.c.o: main.c unikernel.json
	cc -O2 -I_stitch/include -MD -MF \$@.d -c -o \$@ main.c
_build/obj/_build_htdocs.c.o: _build/htdocs.c
	cc -O2 -I_stitch/include -MD -MF \$@.d -c -o \$@ _build/htdocs.c
_build/htdocs.c: $htdocs_files unikernel.json
	_stitch/bin/crunch htdocs -o \$@ -n htdocs
_stitch/lib/libtcp.a: $tcp_files
	\$(MAKE) -C tcp PREFIX=\$(CURDIR)/_stitch install
-include _build/obj/main.c.o.d _build/obj/_build_htdocs.c.o.d
MK
t=$(date +%s)
(cd "$mk" && find . -type f ! -path ./_build/\* ! -name libtcp.a -exec touch -d @$((t - 3000)) {} + &&
	touch -d @$((t - 2000)) _stitch/lib/libtcp.a _build/htdocs.c &&
	touch -d @$((t - 1000)) _build/obj/*.o && touch -d @"$t" _build/static-website.unix)
make -q -C "$mk" >/dev/null 2>&1 || die "make -q does not find the copy up to date"
touch "$mk/tcp/src/tcp_output.c"
make -q -C "$mk" >/dev/null 2>&1 && die "make -q does not see an edit in the pinned tree"
touch -d @$((t - 3000)) "$mk/tcp/src/tcp_output.c"

"$PY" - "$STITCH" "$BEFORE" "$tmp" "$RUNS" "$compile" "$archive" "$link" <<'PY'
import hashlib, json, os, shlex, subprocess, sys, time

stitch, before, tmp, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
compile_cmd, archive_cmd, link_cmd = sys.argv[5:8]
site, floor, mk = tmp + "/site", tmp + "/floor", tmp + "/mk"
src = "tcp/src/tcp_output.c"
original = open(os.path.join(site, src)).read()
image = site + "/_build/static-website.unix"
argv = lambda b: [b, "--root", tmp + "/root", "build"]

words = shlex.split(link_cmd)
out = words.index("-o")
words[out + 1] = floor + "/image"
words = ["-L" + floor + "/lib" if w.startswith("-L") else w for w in words]
floor_cmds = [
    (floor + "/tcp", shlex.split(compile_cmd)),
    (floor + "/tcp", [w.replace("libtcp.a", floor + "/lib/libtcp.a") for w in shlex.split(archive_cmd)]),
    (site, words),
]

def edit(n):
    text = original + ("\nunsigned tcp_bench_edit(void);\n"
                       "unsigned tcp_bench_edit(void)\n{\n\treturn %du;\n}\n" % n)
    with open(os.path.join(site, src), "w") as f:
        f.write(text)
    with open(os.path.join(floor, "tcp", "src/tcp_output.c"), "w") as f:
        f.write(text)

def timed(cmds):
    t = time.perf_counter()
    for cwd, a in cmds:
        r = subprocess.run(a, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode:
            sys.exit("floor bench: %s failed: %s" % (" ".join(a), r.stderr.decode()[-2000:]))
    return time.perf_counter() - t

def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

t_floor, t_after, t_before = [], [], []
n = 100
for i in range(runs):
    n += 1
    edit(n)
    order = ["floor", "after"] if i % 2 else ["after", "floor"]
    for who in order:
        if who == "floor":
            t_floor.append(timed(floor_cmds))
        else:
            t_after.append(timed([(site, argv(stitch))]))
    if sha(image) != sha(floor + "/image"):
        sys.exit("floor bench: run %d: stitch's image %s, the floor's %s: the floor is not "
                 "the same build" % (i + 1, sha(image), sha(floor + "/image")))
    if before:
        n += 1
        edit(n)
        t_before.append(timed([(site, argv(before))]))

med = lambda v: sorted(v)[len(v) // 2]
row = lambda label, v, extra="": print("  %-50s %8.3f s%s" % (label, v, extra))
print("the build half against its floor (static website, tcp pinned, medians of %d):" % runs)
row("code edit of tcp -> relinked image, stitch", med(t_after))
row("  the floor: cc on the file, ar, the link", med(t_floor))
ratio = med(t_after) / med(t_floor)
print("  %-50s %8.2fx  (goal 1.10: %s; same image SHA-256 on every run)" %
      ("  ratio", ratio, "PASS" if ratio <= 1.10 else "FAIL"))
if before:
    row("  before (%s)" % before, med(t_before))
    print("  %-50s %8.2fx" % ("  ratio before", med(t_before) / med(t_floor)))

# No-op: stitch build against make -q on the same graph, interleaved.
def noop(cmd, cwd, k):
    v = []
    for _ in range(k):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        v.append(time.perf_counter() - t)
    return v
# The first no-op after a link leaves the stamp (_stitch/.stitch/noop),
# unless a file it records changed in the last 50 ms: settle first.
stamp = site + "/_stitch/.stitch/noop"
for _ in range(3):
    time.sleep(0.1)
    subprocess.run(argv(stitch), cwd=site, capture_output=True)
if not os.path.exists(stamp):
    sys.exit("floor bench: no no-op stamp after three no-op builds")
a, m, b, full = [], [], [], []
for _ in range(40):
    a += noop(argv(stitch), site, 1)
    m += noop(["make", "-q", "-C", mk], tmp, 1)
    if before:
        b += noop(argv(before), site, 1)
# The same no-op through the full path (solve, plan, link check), for scale:
# without its stamp, which it leaves again.
for _ in range(20):
    os.unlink(stamp)
    full += noop(argv(stitch), site, 1)
r = subprocess.run(["make", "-q", "-C", mk], capture_output=True)
if r.returncode:
    sys.exit("floor bench: make -q found work to do")
print("  %-50s %8.1f ms" % ("no-op stitch build", med(a) * 1000))
print("  %-50s %8.1f ms" % ("  make -q on a Makefile of the same graph", med(m) * 1000))
ratio = med(a) / med(m)
print("  %-50s %8.2fx  (goal 1.0: %s)" % ("  ratio", ratio, "PASS" if ratio <= 1.0 else "FAIL"))
print("  %-50s %8.1f ms  %.2fx" % ("  the full path, without the stamp", med(full) * 1000,
                                   med(full) / med(m)))
if before:
    print("  %-50s %8.1f ms  %.2fx" % ("  before", med(b) * 1000, med(b) / med(m)))
PY
