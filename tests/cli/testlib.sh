# Sourced by every tests/cli/t*.sh: a fresh root and repository helpers.
# Each check prints "ok - name" or "not ok - name" (counted by tests/run).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STITCH=$TOP/stitch
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROOT=$TMP/root
export HOME=$TMP/home
unset STITCH_ROOT
mkdir -p "$HOME"
OUT=$TMP/out
ERR=$TMP/err

st() { "$STITCH" --root "$ROOT" "$@"; }

pass() { echo "ok - $1"; }
fail() {
	echo "# $2"
	[ -s "$ERR" ] && sed 's/^/#   stderr: /' "$ERR" | head -n 8
	echo "not ok - $1"
}

# run NAME EXPECTED_EXIT CMD...: run CMD capturing $OUT/$ERR, check its status.
run() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $rc, expected $want: $*"; fi
}

# has NAME FILE TEXT: FILE contains the fixed string TEXT.
has() {
	if grep -qF -- "$3" "$2"; then pass "$1"; else fail "$1" "$(basename "$2") lacks: $3"; fi
}

# lacks NAME FILE TEXT: FILE does not contain TEXT.
lacks() {
	if grep -qF -- "$3" "$2"; then fail "$1" "$(basename "$2") has: $3"; else pass "$1"; fi
}

# same NAME A B: files are byte-identical.
same() {
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$2 and $3 differ"; fi
}

# make_repo DIR NAME: an empty directory-shaped repository.
make_repo() {
	mkdir -p "$1/packages"
	printf '{"format": 1, "name": "%s"}\n' "$2" >"$1/repo.json"
}

# add_pkg DIR NAME SYNOPSIS VERSION[:DEP;DEP...]...: write packages/NAME.json.
add_pkg() {
	local dir=$1 name=$2 syn=$3 first=1 v deps
	shift 3
	{
		printf '{"name": "%s", "synopsis": "%s", "versions": {' "$name" "$syn"
		for v in "$@"; do
			deps=""
			case "$v" in *:*) deps=${v#*:}; v=${v%%:*} ;; esac
			[ $first -eq 1 ] || printf ','
			first=0
			printf '"%s": {"source": {"url": "archives/%s-%s.tar.gz"}, "depends": [' "$v" "$name" "$v"
			if [ -n "$deps" ]; then
				local IFS=';' d sep=""
				for d in $deps; do printf '%s"%s"' "$sep" "$d"; sep=","; done
			fi
			printf ']}'
		done
		printf '}}\n'
	} >"$dir/packages/$name.json"
}
