#!/bin/bash
# Help from the command table: stitch help COMMAND, did you mean, the man
# page and the shell completions (checked in, equal to what the table makes).
. "$(dirname "$0")/testlib.sh"

run "help install exits 0" 0 st help install
has "help install shows its usage" "$OUT" "usage: stitch install REQ..."
has "help install lists its options" "$OUT" "--dry-run"
cp "$OUT" "$TMP/help-install"
run "install --help exits 0" 0 st install --help
same "help install equals install --help" "$OUT" "$TMP/help-install"
run "help list exits 0" 0 st help list
has "a usage without description gets the summary" "$OUT" "List installed or pinned packages."
run "help alone exits 0" 0 st help
has "help alone is the global help" "$OUT" "Global options"
lacks "hidden commands are not listed" "$OUT" "__complete"
run "bare stitch exits 2" 2 "$STITCH"
has "bare stitch prints the usage to stderr" "$ERR" "usage: stitch"
run "mistyped command exits 2" 2 st instal
has "mistyped command gets a suggestion" "$ERR" "unknown command 'instal'; did you mean 'install'?"
run "help of a mistyped command exits 2" 2 st help shwo
has "help suggests too" "$ERR" "did you mean 'show'?"

# did you mean for a package name, wherever one is expected.
run "show tpc exits 1" 1 st show tpc
has "show suggests tcp" "$ERR" "hint: did you mean 'tcp'?"
run "source tpc exits 1" 1 st source tpc "$TMP/src-tpc"
has "source suggests tcp" "$ERR" "did you mean 'tcp'?"
run "solve tpc exits 3" 3 st solve tpc
has "solve suggests tcp" "$ERR" "did you mean 'tcp'?"
run "show of a far name has no suggestion" 1 st show zzzzzz
lacks "no suggestion for a far name" "$ERR" "did you mean"
run "init" 0 st init
run "install tpc exits 3" 3 st install --dry-run tpc
has "install suggests tcp" "$ERR" "did you mean 'tcp'?"

# show says what is installed; search without a term lists everything.
run "show tcp exits 0" 0 st show tcp
has "show says tcp is not installed" "$OUT" "installed:  no"
run "show --json exits 0" 0 st show --json tcp
has "show --json has installed" "$OUT" '"installed": null'
run "search without a term exits 0" 0 st search
n=$(ls "$TOP/repo-index/packages" | wc -l)
if [ "$(wc -l <"$OUT")" -eq "$n" ]; then pass "search lists every package"; else fail "search lists every package" "$(wc -l <"$OUT") lines, $n packages"; fi

# The checked-in files are what the table makes.
"$STITCH" --print-man >"$TMP/stitch.1"
same "man page is generated from the table" "$TMP/stitch.1" "$TOP/share/man/man1/stitch.1"
"$STITCH" --print-completion bash >"$TMP/stitch.bash"
same "bash completion is generated" "$TMP/stitch.bash" "$TOP/share/completion/stitch.bash"
"$STITCH" --print-completion zsh >"$TMP/_stitch"
same "zsh completion is generated" "$TMP/_stitch" "$TOP/share/completion/_stitch"
run "completion for another shell exits 2" 2 "$STITCH" --print-completion fish
for c in build install pin repo show search; do
	has "man page has a section for $c" "$TOP/share/man/man1/stitch.1" ".SS $c"
done
if command -v groff >/dev/null; then
	groff -man -ww -z "$TOP/share/man/man1/stitch.1" 2>"$ERR"
	if [ $? -eq 0 ] && [ ! -s "$ERR" ]; then pass "groff renders the man page without warnings"; else fail "groff renders the man page without warnings" "groff warned"; fi
else
	skip "groff renders the man page" "no groff"
fi
if command -v mandoc >/dev/null; then
	if mandoc -T lint -W warning "$TOP/share/man/man1/stitch.1" >"$ERR" 2>&1; then pass "mandoc lint finds no warning"; else fail "mandoc lint finds no warning" "mandoc warned"; fi
else
	skip "mandoc lint" "no mandoc"
fi

# The bash completion, driven for real.
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_stitch
	echo "${COMPREPLY[*]}"
}
# shellcheck disable=SC1091
. "$TOP/share/completion/stitch.bash"
got=$(comp "$STITCH" ins)
[ "$got" = install ] && pass "stitch ins<TAB> is install" || fail "stitch ins<TAB> is install" "got '$got'"
got=$(comp "$STITCH" install --)
case " $got " in *" --dry-run "*"--upgrade "*"--pin "*) pass "install --<TAB> lists its options" ;; *) fail "install --<TAB> lists its options" "got '$got'" ;; esac
case " $got " in *" --recursive "*) fail "install --<TAB> has only its own" "got '$got'" ;; *) pass "install --<TAB> has only its own" ;; esac
got=$(comp "$STITCH" --root "$ROOT" show tc)
[ "$got" = tcp ] && pass "stitch show tc<TAB> is tcp" || fail "stitch show tc<TAB> is tcp" "got '$got'"
got=$(comp "$STITCH" repo "")
[ "$got" = "add list remove export pack check" ] && pass "repo <TAB> lists subcommands" || fail "repo <TAB> lists subcommands" "got '$got'"
# An overlay repository's packages are completed too (--repo is passed on).
make_repo "$TMP/extra" extra
add_pkg "$TMP/extra" tcpip "a stack" 1.0
got=$(comp "$STITCH" --root "$ROOT" --repo "$TMP/extra" show tcp)
[ "$got" = tcpip ] && pass "--repo's packages are completed" || fail "--repo's packages are completed" "got '$got'"

if command -v zsh >/dev/null; then
	if zsh -n "$TOP/share/completion/_stitch"; then pass "zsh completion parses"; else fail "zsh completion parses" "zsh -n failed"; fi
	got=$(zsh -fc 'compadd() { [ "$1" = -- ] && shift; print -r -- "$*"; }
		_describe() { print -r -- "${(P)4}"; }
		words=("$1" install --); CURRENT=3; source "$2"' zsh "$STITCH" "$TOP/share/completion/_stitch")
	case " $got " in *" --dry-run "*) pass "zsh: install --<TAB> lists its options" ;; *) fail "zsh: install --<TAB> lists its options" "got '$got'" ;; esac
else
	skip "zsh completion parses" "no zsh"
fi
