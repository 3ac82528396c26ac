#!/bin/sh
# crunch's tests: crunch a temporary tree, compile the output with a test
# main (test_lookup.c), check the table, the lookups, the bytes, determinism
# and the errors.  Run by `make check` with CC and CFLAGS set.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
CC=${CC:-cc}
CFLAGS=${CFLAGS:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
}

check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# the tree: nested directories, an empty file, odd names, every byte value,
# 1 MiB, a link to a file (taken) and to a directory (not followed), a fifo
d=$tmp/site
mkdir -p "$d/sub/deeper" "$d/a" "$d/empty-dir"
printf '<!doctype html>\n<title>t</title>\n<p>hello\n' >"$d/index.html"
printf 'sub index\n' >"$d/sub/index.html"
printf 'dot sorts before slash\n' >"$d/a.txt"
printf 'in a\n' >"$d/a/x"
: >"$d/empty"
printf 'odd\n' >"$d/we\"ird ?name\\.txt"
i=0
bytes=""
while [ $i -lt 256 ]; do
	bytes="$bytes\\$(printf '%03o' $i)"
	i=$((i + 1))
done
# shellcheck disable=SC2059 # the octal escapes are the point
printf "$bytes" >"$d/sub/deeper/bytes.bin"
head -c 1048576 /dev/urandom >"$d/big.bin"
ln -s index.html "$d/link.html"
ln -s sub "$d/linkdir"
mkfifo "$d/fifo"
count=9

start=$(date +%s%N)
check "crunch a tree into a new directory" "$top/crunch" "$d" -o "$tmp/out/site.c" -n site
end=$(date +%s%N)
echo "# crunch of $count files (1 MiB) took $(((end - start) / 1000000)) ms"
check "crunch an empty directory" "$top/crunch" "$d/empty-dir" -o "$tmp/empty.c" -n empty
check "output is sorted, no timestamps: first file is /a.txt" \
	grep -q '{"/a.txt", site_data_0, 23}' "$tmp/out/site.c"
check "odd names are escaped" grep -q '"/we\\042ird \\077name\\134.txt"' "$tmp/out/site.c"

(cd "$tmp" && "$top/crunch" site/ -o again.c -n site)
check "same tree, other spelling: identical output" cmp -s "$tmp/out/site.c" "$tmp/again.c"
sleep 1
touch "$d/index.html"
"$top/crunch" "$d" -o "$tmp/third.c" -n site
check "a new mtime changes nothing" cmp -s "$tmp/out/site.c" "$tmp/third.c"

# shellcheck disable=SC2086 # CC and CFLAGS are word lists
check "compile the output with a test main" \
	$CC $CFLAGS -I"$top" -o "$tmp/test_lookup" "$here/test_lookup.c" "$tmp/out/site.c" \
	"$tmp/empty.c" "$top/libcrunch.a"
check "table, bytes and lookups" "$tmp/test_lookup" "$d" $count

"$top/crunch" "$tmp/missing" -o "$tmp/x.c" 2>"$tmp/err"
check "missing directory: exit 1" test $? -eq 1
check "missing directory: says so" grep -q "crunch: cannot open directory '$tmp/missing'" "$tmp/err"
check "missing directory: no output left" test ! -e "$tmp/x.c" -a ! -e "$tmp/x.c.tmp"
"$top/crunch" "$d" -o "$tmp/x.c" -n 9bad 2>"$tmp/err"
check "invalid name: exit 2" test $? -eq 2
check "invalid name: says so" grep -q "invalid name '9bad'" "$tmp/err"
"$top/crunch" "$d" 2>/dev/null
check "no -o: usage, exit 2" test $? -eq 2
check "--version" sh -c "'$top/crunch' --version | grep -q '^crunch 1.0.0$'"

echo "crunch tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
