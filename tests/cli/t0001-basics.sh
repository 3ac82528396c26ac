#!/bin/bash
# The command line itself: help, version, exit codes.
. "$(dirname "$0")/testlib.sh"

run "--version exits 0" 0 "$STITCH" --version
has "--version names stitch" "$OUT" "stitch "
run "--help exits 0" 0 "$STITCH" --help
for c in repo search show; do
	has "--help lists $c" "$OUT" "  $c "
done
for c in repo search show; do
	run "$c --help exits 0" 0 st "$c" --help
	has "$c --help shows usage" "$OUT" "usage: stitch $c"
done
run "no command is a usage error" 2 "$STITCH"
run "unknown command exits 2" 2 st frobnicate
has "unknown command is named" "$ERR" "unknown command 'frobnicate'"
run "unknown global option exits 2" 2 "$STITCH" --frob
run "unknown command option exits 2" 2 st show --frob tcp
has "unknown option is named" "$ERR" "unknown option '--frob'"
run "--root without value exits 2" 2 "$STITCH" --root
run "show without package exits 2" 2 st show
run "repo without subcommand exits 2" 2 st repo
run "repo add with one operand exits 2" 2 st repo add x
run "bad --priority exits 2" 2 st repo add x "$TMP" --priority high

# The root defaults to $STITCH_ROOT, then ~/.stitch.
STITCH_ROOT=$TMP/envroot "$STITCH" repo list >"$OUT" 2>"$ERR"
if [ -d "$TMP/envroot" ]; then pass "STITCH_ROOT is the default root"; else fail "STITCH_ROOT is the default root" "no $TMP/envroot"; fi
"$STITCH" repo list >"$OUT" 2>"$ERR"
if [ -d "$HOME/.stitch" ]; then pass "~/.stitch is the last default"; else fail "~/.stitch is the last default" "no ~/.stitch"; fi

# A fresh root knows the bundled index with no set-up.
run "fresh root lists repositories" 0 st repo list
has "bundled index is configured" "$OUT" "(bundled)"
has "bundled index is the source tree's" "$OUT" "$TOP/repo-index"
run "search on the bundled index runs" 1 st search zzz-no-such-package
has "search says nothing matched" "$ERR" "no package matches 'zzz-no-such-package'"
