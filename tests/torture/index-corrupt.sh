#!/bin/bash
# Corrupt the compiled index of the bundled repo-index on disk, many ways,
# and check that stitch never answers from a corrupt file: every query must
# give the answer (output and exit status) of the intact index, and the
# corrupt file must be rebuilt from the JSON sources.
#
# Corruptions: bit flips at random offsets, truncations, zeroed runs, runs
# of 0xff; the file keeps its old mtime and the sources stay old, so the
# staleness check (stat data of the sources) passes and only a check of the
# file itself can catch them.
#
#   index-corrupt.sh [N] [SEED]     N corruptions (default 200), seed (1)
#
# Prints "corruptions: N, caught/rebuilt: N, wrong answers: N" and exits
# non-zero when any answer is wrong or a corruption goes uncaught.
# Uses $STITCH_TOP/stitch, else ./stitch from the top of this tree.
set -u
top=${STITCH_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
stitch=$top/stitch
n=${1:-200}
seed=${2:-1}
[ -x "$stitch" ] || { echo "index-corrupt: $stitch not built" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
repo=$tmp/repo-index
root=$tmp/root
cp -R "$top/repo-index" "$repo"
# Old sources: outside the window where their stat data is not trusted.
find "$repo" -exec touch -h -d '2 hours ago' {} +

queries=("show tcp" "show http" "solve http" "solve crunch platform-unix" "search net")

# query I: run query I, answer in $tmp/out.I (stdout + exit status).
query() {
	# shellcheck disable=SC2086
	STITCH_DEBUG=index "$stitch" --root "$root" --repo "$repo" ${queries[$1]} \
		>"$tmp/out" 2>"$tmp/err"
	echo "exit $?" >>"$tmp/out"
}

for i in "${!queries[@]}"; do
	query "$i"
	cp "$tmp/out" "$tmp/want.$i"
done
query 0
grep -q "read from the compiled cache" "$tmp/err" || {
	echo "index-corrupt: the compiled index is not used at all" >&2
	exit 2
}
cache=$(ls "$root"/cache/index/*.idx)
cp -p "$cache" "$tmp/good"

# Write the corrupt files corrupt/0..n-1, each a copy of good.
mkdir "$tmp/corrupt"
python3 - "$tmp/good" "$tmp/corrupt" "$n" "$seed" <<'PY'
import random, sys
good = open(sys.argv[1], 'rb').read()
out, n, rng = sys.argv[2], int(sys.argv[3]), random.Random(int(sys.argv[4]))
for i in range(n):
    b = bytearray(good)
    kind = i % 4
    if kind == 0:    # one to three bit flips
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncation
        del b[rng.randrange(len(b)):]
    else:            # a run of zeros, or of 0xff
        at = rng.randrange(len(b))
        ln = rng.randint(1, 64)
        fill = 0 if kind == 2 else 0xff
        for k in range(at, min(len(b), at + ln)):
            b[k] = fill
        if b == good:  # the run was already all fill: flip a bit in it
            b[at] ^= 1
    open(f"{out}/{i}", 'wb').write(bytes(b))
PY

caught=0
wrong=0
for ((c = 0; c < n; c++)); do
	bad=0 used=0 kept=0
	for i in "${!queries[@]}"; do
		cp "$tmp/corrupt/$c" "$cache"
		touch -r "$tmp/good" "$cache"
		query "$i"
		if grep -q "read from the compiled cache" "$tmp/err"; then
			used=1
		elif ! cmp -s "$cache" "$tmp/good"; then
			kept=1
		fi
		if ! cmp -s "$tmp/out" "$tmp/want.$i"; then
			echo "# corruption $c: '${queries[$i]}' answers differently:"
			diff "$tmp/want.$i" "$tmp/out" | head -n 6 | sed 's/^/#   /'
			bad=1
		fi
	done
	[ $used -eq 1 ] && echo "# corruption $c: the corrupt compiled index was used"
	[ $kept -eq 1 ] && echo "# corruption $c: not rebuilt as the intact compiled index"
	[ $used -eq 0 ] && [ $kept -eq 0 ] && caught=$((caught + 1))
	wrong=$((wrong + bad))
done
echo "corruptions: $n, caught/rebuilt: $caught, wrong answers: $wrong"
[ "$wrong" -eq 0 ] && [ "$caught" -eq "$n" ]
