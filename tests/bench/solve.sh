#!/usr/bin/env bash
# tests/bench/solve.sh IDX [TMPDIR]: the resolver benchmark (issue 3).
#
# IDX is the synthetic index document from gen-index (5,000 x 10 in
# `make bench`).  Cases:
#   deep10      the ten packages with the highest index in IDX (the deepest
#               dependency trees: gen-index only depends downwards)
#   hard        tests/bench/gen-hard: 40 layers x 60 versions, tight ranges,
#               alternatives and conflicts; the newest root fails 16 times
#   hard-unsat  the same with every bottom version forbidden: no solution
# For each: `stitch solve` as a whole command with a warm index cache, and
# libsolv's testsolv on the same problem converted by tests/bench/to-testsolv
# (only the packages reachable from the roots; testsolv parses its text
# testcase on every run, which is its "index load").  Wall time and peak
# RSS are medians of BENCH_RUNS runs of GNU /usr/bin/time.  "solve" is the
# stitch time minus `stitch show` on the same warm root (the index load):
# the two run one after the other, BENCH_SOLVE_RUNS times (default 3 x
# BENCH_RUNS), and "solve" is the median of those differences, so that a
# machine whose speed drifts slows both alike.  With valgrind, the
# instructions of both commands are counted too (callgrind: the same on
# every run of the same binary, whatever the machine is doing), and
# "solving" is their difference; BENCH_CALLGRIND=0 skips that.
# Also checks that stitch and libsolv agree on whether a solution exists.
# Exits 1 only when a command cannot run; disagreements print DISAGREE.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
STITCH=${STITCH:-$top/stitch}
RUNS=${BENCH_RUNS:-5}
PAIRS=${BENCH_SOLVE_RUNS:-$((3 * RUNS))}
FLOOR_SOLVE_MS=50
idx=${1:?usage: solve.sh IDX [TMPDIR]}
own_tmp=
if [ -n "${2:-}" ]; then
	tmp=$2/solve
	mkdir -p "$tmp"
else
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/stitch-solve-bench.XXXXXX") || exit 1
	own_tmp=$tmp
fi
[ -n "$own_tmp" ] && trap 'rm -rf "$own_tmp"' EXIT
die() { printf 'solve bench: %s\n' "$*" >&2; exit 1; }
command -v testsolv >/dev/null || die "testsolv (Debian package libsolv-tools) is required"
[ -x /usr/bin/time ] || die "/usr/bin/time (Debian package 'time') is required"
[ -x "$STITCH" ] || die "$STITCH not found"

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure CMD...: sets MS (median wall ms) and MB (median peak RSS, 10^6 bytes)
measure() {
	: >"$tmp/ms"; : >"$tmp/kb"
	for ((i = 0; i < RUNS; i++)); do
		local t0 t1
		t0=$(date +%s%N)
		/usr/bin/time -f '%e %M' -o "$tmp/time.out" "$@" >/dev/null 2>&1
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >>"$tmp/ms"
		tail -n 1 "$tmp/time.out" | awk '{print $2}' >>"$tmp/kb"
	done
	MS=$(median <"$tmp/ms" | awk '{printf "%.1f", $1/1000}')
	MB=$(median <"$tmp/kb" | awk '{printf "%.1f", $1*1024/1e6}')
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf "%.2fx", a/b }'; }

# pairs LOAD_CMD -- SOLVE_CMD: runs each in turn PAIRS times; sets LOAD_MS,
# SOLVE_MS (medians of each) and DIFF_MS (median of SOLVE - LOAD, run by run)
pairs() {
	local -a load=() solve=()
	while [ "$1" != -- ]; do load+=("$1"); shift; done
	shift
	solve=("$@")
	: >"$tmp/pl"; : >"$tmp/ps"; : >"$tmp/pd"
	for ((i = 0; i < PAIRS; i++)); do
		local t0 t1 t2
		t0=$(date +%s%N)
		"${load[@]}" >/dev/null 2>&1
		t1=$(date +%s%N)
		"${solve[@]}" >/dev/null 2>&1
		t2=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >>"$tmp/pl"
		echo $(( (t2 - t1) / 1000 )) >>"$tmp/ps"
		echo $(( (t2 - t1) - (t1 - t0) )) | awk '{print $1 / 1000}' >>"$tmp/pd"
	done
	LOAD_MS=$(median <"$tmp/pl" | awk '{printf "%.1f", $1/1000}')
	SOLVE_MS=$(median <"$tmp/ps" | awk '{printf "%.1f", $1/1000}')
	DIFF_MS=$(median <"$tmp/pd" | awk '{printf "%.1f", $1/1000}')
}

# instructions CMD...: sets IR (millions of instructions, callgrind), or "-"
instructions() {
	IR=-
	[ "${BENCH_CALLGRIND:-1}" = 1 ] && command -v valgrind >/dev/null || return 0
	# once as is first: a compiled index cache refreshed now is not counted
	"$@" >/dev/null 2>&1
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >/dev/null 2>"$tmp/cg.err"
	IR=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$tmp/cg.err" | awk '{printf "%.1f", $1/1e6}')
	[ -n "$IR" ] || IR=-
}

# case NAME INDEX ROOT...
run_case() {
	local name=$1 index=$2; shift 2
	local root=$tmp/root-$name t=$tmp/$name.t
	"$STITCH" --root "$root" --repo "$index" solve "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	local rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$tmp/$name.err" >&2; die "$name: stitch solve failed ($rc)"; }
	local stats
	stats=$(STITCH_SOLVE_STATS=1 "$STITCH" --root "$root" --repo "$index" solve "$@" 2>&1 >/dev/null | grep '^solve:' | sed 's/^solve: //')
	python3 "$top/tests/bench/to-testsolv" "$index" "$t" "$@" || die "$name: to-testsolv failed"
	testsolv "$t" >"$tmp/$name.ts" 2>&1
	local ts_sat=yes
	grep -q '^+problem' "$tmp/$name.ts" && ts_sat=no
	grep -q 'install stitch-root' "$tmp/$name.ts" || ts_sat=no
	local st_sat=no; [ "$rc" -eq 0 ] && st_sat=yes
	local agree=agree; [ "$st_sat" = "$ts_sat" ] || agree=DISAGREE

	measure "$STITCH" --root "$root" --repo "$index" solve "$@"
	local st_ms=$MS st_mb=$MB
	measure testsolv "$t"
	local ts_ms=$MS ts_mb=$MB
	pairs "$STITCH" --root "$root" --repo "$index" show "$1" -- \
		"$STITCH" --root "$root" --repo "$index" solve "$@"
	local solve_ms=$DIFF_MS
	local floor=PASS
	awk -v a="$solve_ms" -v f="$FLOOR_SOLVE_MS" 'BEGIN { exit !(a < f) }' || floor=FAIL
	instructions "$STITCH" --root "$root" --repo "$index" show "$1"
	local ir_load=$IR
	instructions "$STITCH" --root "$root" --repo "$index" solve "$@"
	local ir_solve=$IR ir_diff=-
	[ "$ir_load" != - ] && [ "$ir_solve" != - ] &&
		ir_diff=$(awk -v a="$ir_solve" -v b="$ir_load" 'BEGIN { printf "%.1f", a - b }')
	printf '%-11s %4s pkgs  stitch %7s ms %6s MB (solve %6s ms, %s)  testsolv %7s ms %6s MB  ratio %6s %6s  sat %s/%s %s\n' \
		"$name" "$(wc -l <"$tmp/$name.out")" "$st_ms" "$st_mb" "$solve_ms" "$floor" "$ts_ms" "$ts_mb" \
		"$(ratio "$st_ms" "$ts_ms")" "$(ratio "$st_mb" "$ts_mb")" "$st_sat" "$ts_sat" "$agree"
	printf '            solve minus show, %s pairs: %s - %s ms (medians)\n' "$PAIRS" "$SOLVE_MS" "$LOAD_MS"
	printf '            instructions: solve %sM - show %sM = %sM for solving\n' "$ir_solve" "$ir_load" "$ir_diff"
	printf '            stitch: %s\n' "$stats"
}

echo "solver benchmark: stitch solve vs testsolv (libsolv $(dpkg-query -W -f '${Version}' libsolv-tools 2>/dev/null || echo '?')), medians of $RUNS runs"
mapfile -t deep < <(python3 - "$idx" <<'PY'
import json, re, sys
names = json.load(open(sys.argv[1]))["packages"].keys()
num = lambda n: int(re.search(r"(\d+)$", n).group(1)) if re.search(r"(\d+)$", n) else -1
for n in sorted(names, key=num)[-10:][::-1]:
    print(n)
PY
)
[ "${#deep[@]}" -eq 10 ] || die "cannot pick ten roots from $idx"
echo "deep10 roots: ${deep[*]}"
run_case deep10 "$idx" "${deep[@]}"

mapfile -t hard < <(python3 "$top/tests/bench/gen-hard" "$tmp/hard.json")
run_case hard "$tmp/hard.json" "${hard[@]}"
mapfile -t hard0 < <(python3 "$top/tests/bench/gen-hard" --limit 0 "$tmp/hard0.json")
run_case hard-unsat "$tmp/hard0.json" "${hard0[@]}"
echo "floors: solving under 50 ms on top of the index load; stitch/libsolv time at most 2.00x"
