# Sourced by every tests/cli/t*.sh: a fresh root and repository helpers.
# Each check prints "ok - name" or "not ok - name" (counted by tests/run).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STITCH=${STITCH:-$TOP/stitch}
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

# tmux runs its pane's command with the user's login shell; an account
# such as nobody has /usr/sbin/nologin there, and the pane would close at
# once ("no server running").  Use /bin/sh, and no user configuration.
tmux() { SHELL=/bin/sh command tmux -f /dev/null "$@"; }
# skip NAME WHY: counted as skipped by tests/run, never as passed.
skip() { echo "ok - $1 # SKIP $2"; }
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

# src_pkg REPO NAME VERSION [DEP...]: a small C library NAME with a real
# (its .pc says Version: $SRC_PC_VERSION, default 1.0, so that versions
# differ in their archives only unless a test asks otherwise)
# Makefile (honouring PREFIX, DESTDIR, CC, CFLAGS), packed into
# REPO/archives/NAME-VERSION.tar.gz and listed in REPO/packages/NAME.json
# (merged with versions already there).  Each DEP is a requirement string;
# the library calls the first function of every dependency it names.
# Set SRC_BUILD_EXTRA to a command line run by `make` (e.g. "false").
src_pkg() {
	local repo=$1 name=$2 ver=$3
	shift 3
	local src=$TMP/src/$name-$ver cname=${name//[-.+]/_}
	rm -rf "$src"
	mkdir -p "$src" "$repo/archives" "$repo/packages"
	{
		echo "#ifndef ${cname}_H"
		echo "#define ${cname}_H"
		echo "int ${cname}_hello(void);"
		[ -n "${SRC_HEADER_EXTRA:-}" ] && echo "$SRC_HEADER_EXTRA"
		echo "#endif"
	} >"$src/$name.h"
	{
		echo "#include \"$name.h\""
		local d
		for d in "$@"; do
			d=${d%% *}
			echo "#include <$d.h>"
		done
		echo "int ${cname}_hello(void) { return 1"
		for d in "$@"; do
			d=${d%% *}
			echo " + ${d//[-.+]/_}_hello()"
		done
		echo "; }"
	} >"$src/$name.c"
	local req="" d2
	for d2 in "$@"; do req="$req ${d2%% *}"; done
	[ -n "$req" ] && req="Requires:$req\\n"
	cat >"$src/Makefile" <<MK
PREFIX ?= /usr/local
CC ?= cc
all: lib$name.a
lib$name.a: $name.o
	${SRC_BUILD_EXTRA:-true}
	ar rcs \$@ \$^
$name.o: $name.c $name.h
	\$(CC) \$(CFLAGS) -I\$(PREFIX)/include -c -o \$@ $name.c
install: lib$name.a
	mkdir -p \$(DESTDIR)\$(PREFIX)/lib/pkgconfig \$(DESTDIR)\$(PREFIX)/include
	cp lib$name.a \$(DESTDIR)\$(PREFIX)/lib/
	cp $name.h \$(DESTDIR)\$(PREFIX)/include/
	printf 'Name: $name\nVersion: ${SRC_PC_VERSION:-1.0}\nDescription: $name\nLibs: -L\$(PREFIX)/lib -l$name\n${req}Cflags: -I\$(PREFIX)/include\n' > \$(DESTDIR)\$(PREFIX)/lib/pkgconfig/$name.pc
MK
	tar -C "$TMP/src" -czf "$repo/archives/$name-$ver.tar.gz" "$name-$ver"
	local sha
	sha=$(sha256sum "$repo/archives/$name-$ver.tar.gz" | cut -d' ' -f1)
	python3 - "$repo/packages/$name.json" "$name" "$ver" "$sha" "$@" <<'PY'
import json, os, sys
path, name, ver, sha, deps = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
d = json.load(open(path)) if os.path.exists(path) else {"name": name, "synopsis": name + " library", "versions": {}}
d["versions"][ver] = {
    "source": {"url": "archives/%s-%s.tar.gz" % (name, ver), "sha256": sha},
    "depends": deps,
    "build": [["make", "PREFIX=%{prefix}%"]],
    "install": [["make", "install", "PREFIX=%{prefix}%"]],
}
json.dump(d, open(path, "w"), indent=1)
PY
}

# platform_pkg REPO: the stand-in platform package platform-unix 1.0.0, a
# src_pkg whose main() calls the project's plat_app_main(), packed by
# `stitch repo pack` and listed in REPO with that archive's sha256.
platform_pkg() {
	local repo=$1 p=$TMP/src/platform-unix-1.0.0
	src_pkg "$repo" platform-unix 1.0.0
	cat >>"$p/platform-unix.c" <<'C'
int plat_app_main(void);
int main(void) { return plat_app_main(); }
C
	st repo pack "$p" -o "$repo/archives/platform-unix-1.0.0.tar.gz" >"$TMP/pack.out"
	python3 - "$repo" "$(cut -d' ' -f1 "$TMP/pack.out")" <<'PY'
import json, sys
p = sys.argv[1] + "/packages/platform-unix.json"
d = json.load(open(p))
d["versions"]["1.0.0"]["source"]["sha256"] = sys.argv[2]
json.dump(d, open(p, "w"))
PY
}

# value_project DIR DEP UNIKERNEL_JSON: a project in DIR (created) with that
# unikernel.json and a main.c printing "value N", N from DEP's function.
value_project() {
	local dir=$1 dep=$2
	mkdir -p "$dir"
	printf '%s\n' "$3" >"$dir/unikernel.json"
	cat >"$dir/main.c" <<C
#include <stdio.h>
#include <$dep.h>
int plat_app_main(void) { printf("value %d\\n", ${dep//[-.+]/_}_hello()); return 0; }
C
}

# faulty_server DIR: tests/server/faulty.py serving DIR on a free loopback
# port; sets server (its pid), PORT and URL, and the EXIT trap stops it.
faulty_server() {
	python3 "$TOP/tests/server/faulty.py" --port 0 --dir "$1" >"$TMP/port" 2>"$TMP/server.err" &
	server=$!
	trap 'kill $server 2>/dev/null; rm -rf "$TMP"' EXIT
	for _ in $(seq 1 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
	PORT=$(head -n1 "$TMP/port")
	URL=http://127.0.0.1:$PORT
}
