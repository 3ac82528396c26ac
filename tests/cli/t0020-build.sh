#!/bin/bash
# stitch build / test on a small project, with a stand-in platform package
# (the bundled stack has its own end-to-end test).
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
platform_pkg "$R"
PROJ=$TMP/proj
mkdir -p "$PROJ/sub"
cat >"$PROJ/unikernel.json" <<'J'
{"name": "hello", "depends": ["ipv4"], "sources": ["main.c", "_build/gen.c"],
 "generate": [["sh", "-c", "echo 'int generated(void) { return 41; }' > _build/gen.c"]],
 "cflags": ["-O2"], "test": ["sh", "-c", "test \"$($STITCH_IMAGE)\" = 'hello 42'"]}
J
cat >"$PROJ/main.c" <<'C'
#include <stdio.h>
#include <ipv4.h>
int generated(void);
int plat_app_main(void) { printf("hello %d\n", generated() + ipv4_hello()); return 0; }
C
cd "$PROJ/sub" || exit 1
run "build from a subdirectory" 0 st --repo "$R" build
has "build prints the image" "$OUT" "image: $PROJ/_build/hello.unix"
has "build compiled two sources" "$OUT" "(2 sources compiled)"
if [ -d "$PROJ/_stitch/.stitch" ]; then pass "project switch made"; else fail "project switch made" "no _stitch"; fi
sha=$(sha256sum "$PROJ/_build/hello.unix" | cut -d' ' -f1)
has "build prints the sha256" "$OUT" "sha256: $sha"
if [ "$("$PROJ/_build/hello.unix")" = "hello 42" ]; then pass "image runs"; else fail "image runs" "wrong output"; fi
run "second build" 0 st --repo "$R" build --json
if python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert [e["action"] for e in ev if e["event"] == "package"] == ["kept", "kept"], ev
link = [e for e in ev if e["event"] == "link"]
assert len(link) == 1 and link[0]["compiled"] == 0 and link[0]["sha256"] == sys.argv[2], ev
' "$OUT" "$sha"; then pass "nothing rebuilt, same image"; else fail "nothing rebuilt, same image" "$(cat "$OUT")"; fi
run "test" 0 st --repo "$R" test
has "test passed" "$OUT" "test passed"
# The project's own header: an edit recompiles what includes it, nothing else.
echo '#define GREETING "hello"' >"$PROJ/app.h"
sed -i 's/#include <stdio.h>/#include <stdio.h>\n#include "app.h"/; s/printf("hello %d/printf(GREETING " %d/' "$PROJ/main.c"
run "build with a local header" 0 st --repo "$R" build
if [ "$("$PROJ/_build/hello.unix")" = "hello 42" ]; then pass "image with a local header runs"; else fail "image with a local header runs" "wrong output"; fi
echo '#define GREETING "howdy"' >"$PROJ/app.h"
run "build after a local header edit" 0 st --repo "$R" build --json
has "the header edit recompiled main.c only" "$OUT" '"compiled":1'
if [ "$("$PROJ/_build/hello.unix")" = "howdy 42" ]; then pass "the header edit is in the image"; else fail "the header edit is in the image" "$("$PROJ/_build/hello.unix")"; fi
run "build again" 0 st --repo "$R" build --json
has "then nothing to compile" "$OUT" '"compiled":0'
cp "$PROJ/_build/hello.unix" "$TMP/image.before"
echo "int broken(" >>"$PROJ/main.c"
run "broken source" 1 st --repo "$R" build
has "compiler error shown" "$ERR" "main.c:6:1: error"
has "previous image kept (said)" "$ERR" "the previous image, if any, is unchanged"
same "previous image kept" "$PROJ/_build/hello.unix" "$TMP/image.before"
cd "$TMP" || exit 1
run "build outside a project" 1 st --repo "$R" build
has "no project explained" "$ERR" "no unikernel.json in"
