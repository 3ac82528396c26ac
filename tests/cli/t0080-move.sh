#!/bin/bash
# A project that is copied or moved builds against its own _stitch/: the
# switch knows where it was made, doctor reports a switch that is elsewhere,
# and the next command that changes it relocates it (never the original).
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" crunch 1.0.0
platform_pkg "$R"
PROJ=$TMP/proj
mkdir -p "$PROJ"
cat >"$PROJ/unikernel.json" <<'J'
{"name": "hello", "depends": ["crunch"], "sources": ["main.c"]}
J
cat >"$PROJ/main.c" <<'C'
#include <stdio.h>
#include <crunch.h>
int plat_app_main(void) { printf("hello %d\n", crunch_hello()); return 0; }
C
cd "$PROJ" || exit 1
run "build the original" 0 st --repo "$R" build
run "doctor clean in the original" 0 st doctor
orig_sums() { (cd "$1" && find _stitch -path '*/.stitch' -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }
orig_sums "$PROJ" >"$TMP/orig.sums"

# doctor in a copy reports the move, and changes nothing.
cp -a "$PROJ" "$TMP/copy"
cd "$TMP/copy" || exit 1
run "doctor in the copy reports the move" 1 st doctor
has "doctor names the old place" "$OUT" "switch moved or copied from '$PROJ/_stitch'"
has "doctor says what to run" "$OUT" "run 'stitch build'"
run "doctor --json reports it too" 1 st doctor --json
has "json problem moved" "$OUT" '"problem": "moved"'

# The copy builds on its own switch, the original being gone.
mv "$PROJ" "$TMP/hidden"
run "build in the copy with the original gone" 0 st --repo "$R" build
has "relocation noted on one line" "$ERR" "note: the switch was moved or copied from '$PROJ/_stitch'"
if [ "$("$TMP/copy/_build/hello.unix")" = "hello 1" ]; then pass "the copy's image runs"; else fail "the copy's image runs" "wrong output"; fi
if grep -rqF "$PROJ/" "$TMP/copy/_stitch/lib/pkgconfig"; then fail "no .pc names the original" "$(grep -rlF "$PROJ/" "$TMP/copy/_stitch/lib/pkgconfig")"; else pass "no .pc names the original"; fi
has "the .pc names the copy" "$TMP/copy/_stitch/lib/pkgconfig/crunch.pc" "$TMP/copy/_stitch/lib"
if grep -qF "$PROJ/" "$TMP/copy/_build/flags.cache"; then fail "flags.cache does not name the original" "$(cat "$TMP/copy/_build/flags.cache")"; else pass "flags.cache does not name the original"; fi
has "flags.cache names the copy" "$TMP/copy/_build/flags.cache" "-I$TMP/copy/_stitch/include"
if grep -qaF "$PROJ/" "$TMP/copy/_build/hello.unix"; then fail "the image does not name the original" "it does"; else pass "the image does not name the original"; fi
run "doctor clean in the copy after the build" 0 st doctor
has "no problem left" "$OUT" ", 0 problems"
run "a second build in the copy" 0 st --repo "$R" build
lacks "no second relocation" "$ERR" "moved or copied"
mv "$TMP/hidden" "$PROJ"
orig_sums "$PROJ" >"$TMP/orig.after"
same "the original's switch is untouched" "$TMP/orig.sums" "$TMP/orig.after"

# A moved project (mv) likewise; the original deleted this time.
rm -rf "$PROJ"
cd "$TMP" || exit 1
mv "$TMP/copy" "$TMP/moved"
cd "$TMP/moved" || exit 1
run "doctor in the moved project reports the move" 1 st doctor
has "doctor names where it was" "$OUT" "switch moved or copied from '$TMP/copy/_stitch'"
echo 'int unused_extra(void) { return 0; }' >>main.c
run "build in the moved project" 0 st --repo "$R" build
has "relocation noted" "$ERR" "moved or copied from '$TMP/copy/_stitch'"
if [ "$("$TMP/moved/_build/hello.unix")" = "hello 1" ]; then pass "the moved image runs"; else fail "the moved image runs" "wrong output"; fi
if grep -rqF "$TMP/copy/" "$TMP/moved/_stitch/lib/pkgconfig" "$TMP/moved/_build/flags.cache"; then fail "nothing names the old place" "it does"; else pass "nothing names the old place"; fi
run "doctor clean after the move" 0 st doctor

# kill -9 in the middle of a relocation: the next command finishes it.
cp -a "$TMP/moved" "$TMP/again"
cd "$TMP/again" || exit 1
STITCH_FAULT=kill-after-moves:1 st --repo "$R" build >"$OUT" 2>"$ERR"
rc=$?
if [ "$rc" -eq 137 ]; then pass "relocation killed after one file"; else fail "relocation killed after one file" "exit $rc"; fi
if grep -qF "$TMP/moved/" "$TMP/again/_stitch/lib/pkgconfig/crunch.pc" "$TMP/again/_stitch/lib/pkgconfig/platform-unix.pc"; then pass "the kill left it half done"; else fail "the kill left it half done" "all rewritten"; fi
run "the next build finishes the relocation" 0 st --repo "$R" build
has "the interrupted relocation is reported" "$ERR" "finished the interrupted relocation from '$TMP/moved/_stitch'"
if grep -rqF "$TMP/moved/" "$TMP/again/_stitch/lib/pkgconfig"; then fail "every .pc relocated" "some name the old place"; else pass "every .pc relocated"; fi
if [ "$("$TMP/again/_build/hello.unix")" = "hello 1" ]; then pass "the image runs after the interrupted relocation"; else fail "the image runs after the interrupted relocation" "wrong output"; fi
run "doctor clean after the interrupted relocation" 0 st doctor

# A pin inside the project moves with it; one outside stays where it is.
cd "$TMP/again" || exit 1
run "pin crunch into the project" 0 st --repo "$R" pin add crunch
sed -i 's/return 1/return 7/' "$TMP/again/crunch/crunch.c"
run "build with the pin" 0 st --repo "$R" build
cp -a "$TMP/again" "$TMP/pinned-copy"
rm -rf "$TMP/again"
cd "$TMP/pinned-copy" || exit 1
run "build the copy of a pinned project" 0 st --repo "$R" build
run "pin list in the copy" 0 st list --pinned
has "the pin follows the copy" "$OUT" "$TMP/pinned-copy/crunch"
lacks "the pin no longer names the original" "$OUT" "$TMP/again/"
if [ "$("$TMP/pinned-copy/_build/hello.unix")" = "hello 7" ]; then pass "the copy builds its own pinned tree"; else fail "the copy builds its own pinned tree" "wrong output"; fi
sed -i 's/return 7/return 8/' "$TMP/pinned-copy/crunch/crunch.c"
run "an edit in the copy's pinned tree rebuilds" 0 st --repo "$R" build
if [ "$("$TMP/pinned-copy/_build/hello.unix")" = "hello 8" ]; then pass "the copy's edit is in the image"; else fail "the copy's edit is in the image" "wrong output"; fi
