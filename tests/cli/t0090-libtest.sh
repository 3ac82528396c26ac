#!/bin/bash
# Libraries' own tests in the loop: `stitch test PKG...` runs a package's
# "test" commands in its build tree (a release unpacked and built afresh, a
# pin in its persistent mirror), in the build sandbox; a failure names the
# package and shows the failing lines; `build --with-test` tests only what
# it rebuilt, before linking; `watch --test` tests a changed pin before the
# image; and the bundled tcp's own tests run pinned.  Builds run in the
# sandbox as every build does (bubblewrap, no root needed).
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test

# with_check REPO NAME VERSION RECIPE...: give NAME VERSION (made by
# src_pkg) a `make check` target running RECIPE lines, and "test" commands.
with_check() {
	local repo=$1 name=$2 ver=$3 line
	shift 3
	{
		echo "check: lib$name.a"
		for line in "$@"; do printf '\t%s\n' "$line"; done
	} >>"$TMP/src/$name-$ver/Makefile"
	tar -C "$TMP/src" -czf "$repo/archives/$name-$ver.tar.gz" "$name-$ver"
	python3 - "$repo/packages/$name.json" "$ver" "$(sha256sum "$repo/archives/$name-$ver.tar.gz" | cut -d' ' -f1)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = d["versions"][sys.argv[2]]
v["source"]["sha256"] = sys.argv[3]
v["test"] = [["make", "check", "PREFIX=%{prefix}%"]]
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
}

src_pkg "$R" ipv4 1.0.0
with_check "$R" ipv4 1.0.0 '@echo "check ipv4: ok in $$(pwd)"' '@touch checked-here'
src_pkg "$R" tcp 1.0.0 "ipv4"
with_check "$R" tcp 1.0.0 '@echo "check tcp: ok"'
src_pkg "$R" udp 1.0.0 "ipv4"
with_check "$R" udp 1.0.0 '@echo "udp_checksum: expected 0x1c46, got 0x1c47"' '@exit 1'
src_pkg "$R" arp 1.0.0
platform_pkg "$R"

s() { st --repo "$R" "$@"; }
META=$ROOT/switches/default/.stitch

# ---- released packages in the default switch ----
s init >/dev/null
run "install the libraries" 0 s install tcp udp arp
run "a passing test" 0 s test ipv4
has "it says so, with the time" "$OUT" "ipv4 1.0.0: tests passed in "
has "the test ran in the build tree" "$META/logs/ipv4-1.0.0.test.log" "check ipv4: ok in $META/build/ipv4-1.0.0"
has "the tree was built first, as an install builds it" "$META/logs/ipv4-1.0.0.test.log" "ar rcs libipv4.a"
if [ ! -e "$META/build/ipv4-1.0.0" ]; then pass "a passing release's tree is removed"; else fail "a passing release's tree is removed" "still there"; fi

run "a failing test" 1 s test udp
has "the failure names the package and version" "$ERR" "error: test of 'udp 1.0.0' failed: 'make check PREFIX=$ROOT/switches/default' exited with status 2"
has "the failing lines are shown" "$ERR" "udp_checksum: expected 0x1c46, got 0x1c47"
has "and the log's path" "$ERR" "log: $META/logs/udp-1.0.0.test.log"
has "the result line" "$OUT" "udp 1.0.0: tests failed after "
if [ -f "$META/build/udp-1.0.0/libudp.a" ]; then pass "a failing tree is kept for inspection"; else fail "a failing tree is kept for inspection" "gone"; fi

run "the first failure stops the rest" 1 s test udp tcp
lacks "tcp not tested after udp failed" "$OUT" "tcp 1.0.0"
run "several packages, in order" 0 s test tcp ipv4
has "tcp tested" "$OUT" "tcp 1.0.0: tests passed"
has "ipv4 tested" "$OUT" "ipv4 1.0.0: tests passed"

run "a package without tests alone is an error" 1 s test arp
has "it says it has none" "$OUT" 'arp 1.0.0: no tests (its recipe has no "test" commands)'
has "and why that fails" "$ERR" "error: 'arp' has no tests to run"
run "without tests among others is no error" 0 s test arp ipv4
has "said for arp" "$OUT" "arp 1.0.0: no tests"
has "ipv4 still tested" "$OUT" "ipv4 1.0.0: tests passed"

run "a package not installed" 1 s test nosuch
has "named, with the switch" "$ERR" "error: 'nosuch' is neither installed nor pinned in the switch '$ROOT/switches/default'"
run "--with-test is not for packages" 2 s test ipv4 --with-test
run "--with-test takes rebuilt or pinned" 2 s build --with-test=everything
has "the usage error says which" "$ERR" "--with-test takes 'rebuilt' or 'pinned', not 'everything'"

run "test --json" 1 s test ipv4 udp arp --json
python3 - "$OUT" >"$TMP/ev" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e["event"], e["name"], e.get("result", "-"), "error" in e, "seconds" in e, "detail" in e)
PY
if [ "$(cat "$TMP/ev")" = "testing ipv4 - False False False
test ipv4 passed False True False
testing udp - False False False
test udp failed True True True" ]; then pass "--json: testing and test events, stopping at udp"; else fail "--json: testing and test events, stopping at udp" "$(cat "$TMP/ev")"; fi

# ---- a project with a pin: build --with-test, test PKG, watch --test ----
PROJ=$TMP/proj
value_project "$PROJ" tcp '{"name": "app", "depends": ["tcp"], "sources": ["main.c"], "test": ["sh", "-c", "$STITCH_IMAGE"]}'
cd "$PROJ" || exit 1
PMETA=$PROJ/_stitch/.stitch
tested() { python3 -c '
import json, sys
print(" ".join(e["name"] + ":" + e["result"] for e in map(json.loads, open(sys.argv[1])) if e["event"] == "test" and "name" in e))
' "$OUT"; }

run "first build --with-test" 0 s build --with-test --json
# ipv4 and tcp come from the artifact cache (built above): not rebuilt, not tested.
has "ipv4 from the cache" "$OUT" '"name":"ipv4","version":"1.0.0","action":"cached"'
if [ "$(tested)" = "platform-unix:none" ]; then pass "only what was built is tested, saying it has none"; else fail "only what was built is tested, saying it has none" "$(tested)"; fi
if [ -z "$(ls "$PMETA/build")" ]; then pass "no release tree is left behind"; else fail "no release tree is left behind" "$(ls "$PMETA/build")"; fi
run "a rebuild without the cache" 0 env STITCH_NO_CACHE=1 "$STITCH" --root "$ROOT" --repo "$R" build --with-test --json
if [ "$(tested)" = "" ]; then pass "nothing rebuilt yet, nothing tested"; else fail "nothing rebuilt yet, nothing tested" "$(tested)"; fi
rm -rf _stitch
run "a first build without the cache" 0 env STITCH_NO_CACHE=1 "$STITCH" --root "$ROOT" --repo "$R" build --with-test --json
t=$(tested)
case "$t" in
"platform-unix:none ipv4:passed tcp:passed" | "ipv4:passed platform-unix:none tcp:passed") ok=1 ;;
*) ok=0 ;;
esac
if [ $ok = 1 ]; then pass "every library built was tested, in build order"; else fail "every library built was tested, in build order" "$(tested)"; fi
run "a build with nothing rebuilt" 0 s build --with-test --json
if [ -z "$(tested)" ]; then pass "nothing rebuilt, nothing tested"; else fail "nothing rebuilt, nothing tested" "$(tested)"; fi

run "pin ipv4" 0 s pin add ipv4
run "build the pin --with-test" 0 s build --with-test
has "the pin's tests ran" "$OUT" "ipv4 1.0.0: tests passed"
lacks "tcp kept, so not tested" "$OUT" "tcp 1.0.0: tests"
if [ -f "$PMETA/build/pin-ipv4/checked-here" ]; then pass "the pin's tests ran in its persistent mirror"; else fail "the pin's tests ran in its persistent mirror" "no checked-here"; fi
if [ ! -e "$PROJ/ipv4/checked-here" ]; then pass "the checkout itself is untouched"; else fail "the checkout itself is untouched" "checked-here in the checkout"; fi
image=$(sha256sum _build/app.unix | cut -d' ' -f1)

# A header edit rebuilds tcp too: both are tested, the pin first.
echo "int ipv4_extra(void);" >>ipv4/ipv4.h
run "a header edit, build --with-test" 0 s build --with-test --json
if [ "$(tested)" = "ipv4:passed tcp:passed" ]; then pass "the pin and its rebuilt dependent tested"; else fail "the pin and its rebuilt dependent tested" "$(tested)"; fi
run "--with-test=pinned" 0 s build --with-test=pinned --json
sed -i 's/return 1/return 30/' ipv4/ipv4.c
run "a .c edit, --with-test=pinned" 0 s build --with-test=pinned --json
if [ "$(tested)" = "ipv4:passed" ]; then pass "only the pin is tested"; else fail "only the pin is tested" "$(tested)"; fi
image=$(sha256sum _build/app.unix | cut -d' ' -f1)

# The pin's test fails: the build fails before linking and shows why.
printf '\t@echo "ipv4_route: no route to 10.0.0.1"\n\t@exit 1\n' >>ipv4/Makefile
sed -i 's/return 30/return 31/' ipv4/ipv4.c
run "build --with-test with a failing test" 1 s build --with-test
has "the failing lines" "$ERR" "ipv4_route: no route to 10.0.0.1"
has "named" "$ERR" "error: test of 'ipv4 1.0.0' failed"
has "the previous image stays" "$ERR" "note: the previous image, if any, is unchanged"
if [ "$(sha256sum _build/app.unix | cut -d' ' -f1)" = "$image" ]; then pass "the image was not relinked"; else fail "the image was not relinked" "it changed"; fi
# stitch test --with-test: the pin's tests beside the project's test, which
# here would sleep; the pin's failure ends both, and says why.
NAP="sleep 30.$$"
cp unikernel.json "$TMP/unikernel.json"
python3 - "$NAP" "$TMP/slept" <<'PY'
import json, sys
d = json.load(open("unikernel.json"))
d["test"] = ["sh", "-c", sys.argv[1] + "; touch " + sys.argv[2]]
json.dump(d, open("unikernel.json", "w"))
PY
sed -i 's/return 31/return 33/' ipv4/ipv4.c
t0=$(date +%s)
run "test --with-test with a failing pin test" 1 s test --with-test
has "beside: the failing lines" "$ERR" "ipv4_route: no route to 10.0.0.1"
has "beside: named" "$ERR" "error: test of 'ipv4 1.0.0' failed"
lacks "beside: no verdict of the project's test" "$OUT" "test passed"
if pgrep -f "^$NAP" >/dev/null; then fail "beside: the project's test was stopped" "$(pgrep -af "^$NAP")"; else pass "beside: the project's test was stopped"; fi
if [ $(($(date +%s) - t0)) -lt 25 ] && [ ! -e "$TMP/slept" ]; then pass "beside: not waited for"; else fail "beside: not waited for" "$(($(date +%s) - t0)) s"; fi
cp "$TMP/unikernel.json" unikernel.json
run "stitch test on the pin" 1 s test ipv4
has "its failing lines again" "$ERR" "ipv4_route: no route to 10.0.0.1"
has "from its persistent mirror's log" "$ERR" "log: $PMETA/logs/ipv4-1.0.0.test.log"
head -n -2 ipv4/Makefile >"$TMP/mk" && cat "$TMP/mk" >ipv4/Makefile
run "fixed: stitch test on the pin" 0 s test ipv4
has "the pin passes" "$OUT" "ipv4 1.0.0: tests passed"
sed -i 's/return 33/return 34/' ipv4/ipv4.c
run "test --with-test, both passing" 0 s test --with-test
python3 - "$OUT" >"$TMP/order" <<'PY'
import sys
for l in open(sys.argv[1]):
    for key in ("ipv4 1.0.0: tests passed", "testing: sh", "test passed"):
        if l.startswith(key):
            print(key)
PY
if [ "$(cat "$TMP/order")" = "ipv4 1.0.0: tests passed
testing: sh
test passed" ]; then pass "beside: the pin's verdict, then the project's test"; else fail "beside: the pin's verdict, then the project's test" "$(cat "$OUT")"; fi
# stitch killed while the project's test runs beside: nothing of it lives on.
cp unikernel.json "$TMP/unikernel.json"
python3 - "$NAP" <<'PY'
import json, sys
d = json.load(open("unikernel.json"))
d["test"] = ["sh", "-c", sys.argv[1]]
json.dump(d, open("unikernel.json", "w"))
PY
sed -i 's/return 34/return 35/' ipv4/ipv4.c
"$STITCH" --root "$ROOT" --repo "$R" test --with-test >"$TMP/killed.out" 2>&1 &
spid=$!
for _ in $(seq 1 200); do pgrep -f "^$NAP" >/dev/null && break; sleep 0.05; done
if pgrep -f "^$NAP" >/dev/null; then pass "beside: the project's test started"; else fail "beside: the project's test started" "$(cat "$TMP/killed.out")"; fi
kill -9 $spid
wait $spid 2>/dev/null
for _ in $(seq 1 100); do pgrep -f "^$NAP" >/dev/null || break; sleep 0.05; done
if pgrep -f "^$NAP" >/dev/null; then fail "beside: killing stitch ends the project's test" "$(pgrep -af "^$NAP")"; pkill -f "^$NAP"; else
	pass "beside: killing stitch ends the project's test"; fi
cp "$TMP/unikernel.json" unikernel.json
sed -i 's/return 35/return 34/' ipv4/ipv4.c

# watch --test: a changed pin's tests, then the image's.
s build >/dev/null 2>&1
"$STITCH" --root "$ROOT" --repo "$R" watch --test >"$TMP/watch.out" 2>&1 &
wpid=$!
for _ in $(seq 1 150); do grep -q "ok in" "$TMP/watch.out" && break; sleep 0.1; done
sed -i 's/return 34/return 36/' ipv4/ipv4.c
for _ in $(seq 1 200); do [ "$(grep -c "ok in\|FAILED in" "$TMP/watch.out")" -ge 2 ] && break; sleep 0.1; done
printf '\t@echo "ipv4_arp: table full"\n\t@exit 1\n' >>ipv4/Makefile
for _ in $(seq 1 200); do [ "$(grep -c "ok in\|FAILED in" "$TMP/watch.out")" -ge 3 ] && break; sleep 0.1; done
kill -INT $wpid
wait $wpid
python3 - "$TMP/watch.out" >"$TMP/order" <<'PY'
import sys
seen = False
for l in open(sys.argv[1]):
    seen = seen or "ipv4.c: building" in l
    for key in [] if not seen else ("ipv4.c: building", "ipv4 1.0.0: tests passed", "test passed", "ipv4_arp: table full", "FAILED in"):
        if key in l:
            print(key)
PY
if [ "$(cat "$TMP/order")" = "ipv4.c: building
ipv4 1.0.0: tests passed
test passed
ipv4_arp: table full
FAILED in" ]; then pass "watch --test: the pin's tests, then the image's; a failure shown"; else fail "watch --test: the pin's tests, then the image's; a failure shown" "$(cat "$TMP/watch.out")"; fi
head -n -2 ipv4/Makefile >"$TMP/mk" && cat "$TMP/mk" >ipv4/Makefile

# ---- the bundled stack: tcp pinned, its own tests ----
B=$TMP/bundled
mkdir -p "$B"
cat >"$B/unikernel.json" <<'J'
{"name": "echo", "depends": ["tcp"], "sources": ["main.c"]}
J
echo 'int plat_app_main(void) { return 0; }' >"$B/main.c"
cd "$B" || exit 1
b() { st --repo "$TOP/repo-index" "$@"; }
run "bundled: pin tcp" 0 b pin add tcp
run "bundled: build" 0 b build
run "bundled: stitch test tcp" 0 b test tcp
has "tcp's own tests passed" "$OUT" "tcp 1.1.2: tests passed"
if grep -q "test_tcp" "$B/_stitch/.stitch/logs/tcp-1.1.2.test.log"; then pass "tcp's make check ran its test program"; else fail "tcp's make check ran its test program" "not in the log"; fi
if [ -d "$B/_stitch/.stitch/build/pin-tcp" ]; then pass "in tcp's persistent mirror"; else fail "in tcp's persistent mirror" "missing"; fi
# A .c edit: the build compiles the file once, and tcp's tests link that
# object rather than compiling the source again (tcp 1.1.2).
echo 'int tcp_loop_edit(void) { return 7; }' >>tcp/src/tcp_output.c
run "bundled: build after a .c edit" 0 b build
run "bundled: stitch test tcp after it" 0 b test tcp
has "tcp's tests pass after the edit" "$OUT" "tcp 1.1.2: tests passed"
if grep -q 'tcp_output\.c' "$B/_stitch/.stitch/logs/tcp-1.1.2.test.log"; then
	fail "tcp's tests compile nothing the build compiled" "$(grep 'tcp_output\.c' "$B/_stitch/.stitch/logs/tcp-1.1.2.test.log")"
else
	pass "tcp's tests compile nothing the build compiled"
fi
has "they link the library's object" "$B/_stitch/.stitch/logs/tcp-1.1.2.test.log" "src/tcp_output.o"
