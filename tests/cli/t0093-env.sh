#!/bin/bash
# stitch env and stitch exec: a program compiled and linked against a
# library in the switch, through pkg-config.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
SW=$TMP/sw
st init --switch "$SW" >/dev/null
st --repo "$R" --switch "$SW" install ipv4 >/dev/null 2>&1
printf '#include <ipv4.h>\nint main(void) { return ipv4_hello() == 1 ? 0 : 1; }\n' >"$TMP/main.c"

run "env" 0 st --switch "$SW" env
has "PKG_CONFIG_PATH first" "$OUT" "PKG_CONFIG_PATH='$SW/lib/pkgconfig:$SW/share/pkgconfig"
has "PATH keeps the old value" "$OUT" "PATH='$SW/bin:$PATH'; export PATH;"
if (eval "$(cat "$OUT")" && cd "$TMP" && cc -o prog main.c $(pkg-config --cflags --libs ipv4) && ./prog); then
	pass "eval env: compiled, linked and ran"
else
	fail "eval env: compiled, linked and ran" "failed"
fi
(eval "$(cat "$OUT")" && "$STITCH" --root "$ROOT" --switch "$SW" env >"$TMP/twice")
if [ "$(grep -o "$SW/bin" "$TMP/twice" | wc -l)" -eq 1 ]; then pass "eval twice adds nothing"; else fail "eval twice adds nothing" "$(cat "$TMP/twice")"; fi
rm -f "$TMP/prog"
run "exec compiles" 0 st --switch "$SW" exec -- sh -c 'cd "$1" && cc -o prog main.c $(pkg-config --cflags --libs ipv4) && ./prog' sh "$TMP"
if [ -x "$TMP/prog" ]; then pass "exec built the program"; else fail "exec built the program" "no prog"; fi
run "exec passes the status" 7 st --switch "$SW" exec -- sh -c 'exit 7'
run "exec of a missing command" 127 st --switch "$SW" exec -- no-such-command-here
has "missing command named" "$ERR" "cannot run 'no-such-command-here': command not found"
run "exec without a command" 2 st --switch "$SW" exec
run "unknown shell" 2 st --switch "$SW" env --shell csh
run "env --json" 0 st --switch "$SW" env --json
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["env"]["CPATH"].split(":")[0] == sys.argv[2] + "/include", d
assert d["env"]["LIBRARY_PATH"].split(":")[0] == sys.argv[2] + "/lib", d
' "$OUT" "$SW"; then pass "env --json"; else fail "env --json" "$(cat "$OUT")"; fi
run "env --shell fish" 0 st --switch "$SW" env --shell fish
has "fish list" "$OUT" "set -gx CPATH '$SW/include'"
if command -v fish >/dev/null; then
	if fish -n "$OUT"; then pass "fish -n accepts it"; else fail "fish -n accepts it" "syntax"; fi
	got=$(fish -c "source $OUT; echo \$CPATH[1]")
	if [ "$got" = "$SW/include" ]; then pass "fish sets CPATH"; else fail "fish sets CPATH" "$got"; fi
else
	fail "fish -n accepts it" "fish is not installed: make check installs it"
fi
