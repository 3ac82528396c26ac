#!/bin/bash
# The test harness for images: stitch test makes the namespace and the tap,
# starts the image, detects readiness and runs the project's test inside
# with the address ready made; packet traces with --pcap and of a failed
# run (read back with tcpdump -r); stitch run --pcap; watch --test keeps
# one namespace up between cycles.
. "$(dirname "$0")/testlib.sh"

run "--pcap is for the project's test" 2 st test tcp --pcap "$TMP/x.pcap"
has "--pcap with packages: says why" "$ERR" "--pcap is for the project's test, not with packages"

# A small image with a stand-in platform: how it starts and stops is up to
# HARNESS_MODE (the image inherits stitch's environment).
R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" platform-unix 1.0.0
P=$TMP/src/platform-unix-1.0.0
cat >>"$P/platform-unix.c" <<'C'
int plat_app_main(void);
int main(void) { return plat_app_main(); }
C
st repo pack "$P" -o "$R/archives/platform-unix-1.0.0.tar.gz" >"$TMP/pack.out"
python3 - "$R" "$(cut -d' ' -f1 "$TMP/pack.out")" <<'PY'
import json, sys
p = sys.argv[1] + "/packages/platform-unix.json"
d = json.load(open(p))
d["versions"]["1.0.0"]["source"]["sha256"] = sys.argv[2]
json.dump(d, open(p, "w"))
PY
mkdir -p "$TMP/small"
cat >"$TMP/small/unikernel.json" <<'J'
{"name": "small", "depends": ["ipv4"], "sources": ["main.c"], "test_network": true,
 "test": ["sh", "-c", "test \"$STITCH_TEST_ADDR\" = 10.0.0.2 && grep -q '^up 1$' \"$STITCH_TEST_LOG\""]}
J
cat >"$TMP/small/main.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ipv4.h>
static volatile sig_atomic_t term;
static void on_term(int sig) { (void)sig; term = 1; }
int plat_app_main(void)
{
	const char *m = getenv("HARNESS_MODE");
	if (m && strcmp(m, "exit") == 0)
		return 3;
	signal(SIGTERM, on_term);
	printf("up %d\n", ipv4_hello());
	fflush(stdout);
	while (!term)
		pause();
	return m && strcmp(m, "badstop") == 0 ? 3 : 0;
}
C
cd "$TMP/small" || exit 1
st --repo "$R" test >"$OUT" 2>"$ERR"
rc=$?
if [ $rc -eq 77 ]; then
	has "small image: no namespace, says why it skipped" "$ERR" "test skipped: cannot"
	skip "small image: ready, stopped, failures of either" "$(head -n 1 "$ERR")"
elif [ $rc -eq 0 ]; then
	pass "small image: ready at its first console line, tested, stopped"
	has "small image: the ready time is said" "$OUT" "image ready in"
	HARNESS_MODE="exit" st --repo "$R" test >"$OUT" 2>"$ERR"
	rc=$?
	if [ $rc -eq 1 ]; then pass "an image that exits at once fails the test"; else fail "an image that exits at once fails the test" "exit $rc"; fi
	has "it says the image exited before it was ready" "$ERR" "error: the image '$TMP/small/_build/small.unix' exited before it was ready"
	has "with its exit status and console" "$ERR" "exit status 3; its console is in '$TMP/small/_build/test-console.log'"
	HARNESS_MODE=badstop st --repo "$R" test >"$OUT" 2>"$ERR"
	rc=$?
	if [ $rc -eq 1 ]; then pass "an image that ends badly on SIGTERM fails the test"; else fail "an image that ends badly on SIGTERM fails the test" "exit $rc"; fi
	has "it says how the image ended" "$ERR" "the image ended with status 3 on SIGTERM, not exit status 0"
else
	fail "small image: ready at its first console line, tested, stopped" "exit $rc"
fi

SITE=$TMP/site
cp -R "$TOP/share/examples/static-website" "$SITE"
cd "$SITE" || exit 1
run "the static website builds" 0 st build

# What the test command sees, appended to $PROBE_LOG (outside the project,
# so that watch does not see it); fails when PROBE_FAIL is set.
cat >probe.sh <<'SH'
#!/bin/sh
{
	echo "addr=$STITCH_TEST_ADDR host=$STITCH_TEST_HOST tap=$STITCH_TEST_TAP"
	echo "netns=$STITCH_TEST_NETNS"
	echo "inode=$(stat -L -c %i /proc/self/ns/net)"
	ip -o link show "$STITCH_TEST_TAP" >/dev/null 2>&1 && echo "tap-here=yes"
	curl -s -o /dev/null --max-time 5 -w 'http=%{http_code}\n' "http://$STITCH_TEST_ADDR/"
	grep -q "serving 4 files on $STITCH_TEST_ADDR:80" "$STITCH_TEST_LOG" && echo "console=yes"
	[ -x "$STITCH_IMAGE" ] && echo "image=yes"
} >>"$PROBE_LOG"
[ -z "${PROBE_FAIL:-}" ]
SH
chmod +x probe.sh
use_test() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open("unikernel.json"))
d["test"] = [sys.argv[1]]
json.dump(d, open("unikernel.json", "w"))
PY
}

set_network() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open("unikernel.json"))
d["test_network"] = json.loads(sys.argv[1])
json.dump(d, open("unikernel.json", "w"))
PY
}
# Without "test_network" the test runs where stitch runs, with STITCH_IMAGE only.
set_network false
run "--pcap needs \"test_network\"" 2 st test --pcap "$TMP/x.pcap"
has "--pcap without a network: says what to set" "$ERR" '--pcap needs the image on a tap: set "test_network": true in unikernel.json'
set_network '"yes"'
run "\"test_network\" must be true or false" 1 st build
has "the field is named" "$ERR" "field 'test_network': expected true or false"
set_network true

export PROBE_LOG=$TMP/probe.log
st test >"$OUT" 2>"$ERR"
rc=$?
if [ $rc -eq 77 ]; then
	# Where the kernel refuses, the harness says so and the test is skipped.
	has "no namespace: says why it skipped" "$ERR" "test skipped: cannot"
	skip "the harness runs the static website's test" "$(head -n 1 "$ERR")"
	exit 0
fi
if [ $rc -eq 0 ]; then pass "the harness runs the static website's test"; else
	sed 's/^/# /' "$OUT" | tail -n 25
	fail "the harness runs the static website's test" "exit $rc"
fi
has "readiness detected, not slept for" "$OUT" "image ready in"
has "every htdocs file compared" "$OUT" "GET /big.bin: 200 application/octet-stream, same bytes"
has "ten connections at once" "$OUT" "10 of 10 identical"
has "the start line, from the console stitch kept" "$OUT" "ok - start line: static-website: serving 4 files on 10.0.0.2:80"
has "the example's checks all pass" "$OUT" " passed, 0 failed"
if [ ! -e _build/test.pcap ] && [ ! -e _build/last-failure.pcap ]; then pass "a passed run keeps no trace"; else fail "a passed run keeps no trace" "$(ls _build)"; fi

# The test command's view: the address, the tap, the console, its own namespace.
use_test ./probe.sh
: >"$PROBE_LOG"
run "a probe as the project's test" 0 st test
has "STITCH_TEST_ADDR, _HOST and _TAP" "$PROBE_LOG" "addr=10.0.0.2 host=10.0.0.1 tap=tap0"
has "the tap is in the test's namespace" "$PROBE_LOG" "tap-here=yes"
has "the image answers the test at once" "$PROBE_LOG" "http=200"
has "STITCH_TEST_LOG is the image's console" "$PROBE_LOG" "console=yes"
has "STITCH_IMAGE is the image" "$PROBE_LOG" "image=yes"
mine=$(stat -L -c %i /proc/self/ns/net)
lacks "the test runs in a namespace of its own" "$PROBE_LOG" "inode=$mine"
if ip -o link show tap0 >/dev/null 2>&1; then fail "no tap left outside" "tap0 is here"; else pass "no tap left outside"; fi

can_capture=1
if [ "$(id -u)" -ne 0 ]; then
	can_capture=0
fi
command -v tcpdump >/dev/null || can_capture=0

# A failed run: its trace is kept and named, and holds the HTTP request.
if [ $can_capture -eq 1 ]; then
	PROBE_FAIL=1 st test >"$OUT" 2>"$ERR"
	rc=$?
	if [ $rc -eq 1 ]; then pass "a failing test fails stitch test"; else fail "a failing test fails stitch test" "exit $rc"; fi
	has "the trace of the failed run is named" "$ERR" "packet trace of the failed run: $SITE/_build/last-failure.pcap"
	tcpdump -nn -A -r _build/last-failure.pcap >"$TMP/dump" 2>"$TMP/dump.err"
	has "tcpdump -r reads the kept trace: GET /" "$TMP/dump" "GET / HTTP/1.1"
	has "the trace holds the image's answer" "$TMP/dump" "HTTP/1.1 200 OK"
	PROBE_FAIL=1 st test --json >"$OUT" 2>"$ERR"
	if python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
t = [e for e in ev if e["event"] == "test"]
assert len(t) == 1 and t[0]["result"] == "failed", t
assert t[0]["pcap"] == sys.argv[2], t
' "$OUT" "$SITE/_build/last-failure.pcap"; then pass "--json: the test event names the trace"; else fail "--json: the test event names the trace" "$(tail -n 2 "$OUT")"; fi

	rm -f _build/last-failure.pcap
	run "stitch test --pcap FILE" 0 st test --pcap "$TMP/run.pcap"
	tcpdump -nn -A -r "$TMP/run.pcap" >"$TMP/dump" 2>"$TMP/dump.err"
	has "tcpdump -r reads --pcap FILE: GET /" "$TMP/dump" "GET / HTTP/1.1"
	has "--pcap FILE: a pcap file (Ethernet)" "$TMP/dump.err" "link-type EN10MB (Ethernet)"
	run "--pcap to a directory that does not exist" 1 st test --pcap "$TMP/no/such/dir/x.pcap"
	has "--pcap: says which file" "$ERR" "cannot write '$TMP/no/such/dir/x.pcap'"
else
	skip "traces of a failed run and --pcap" "tcpdump cannot capture here (needs root and tcpdump)"
fi

# stitch run --pcap: capture from before the image starts until it stops.
if [ "$(id -u)" -eq 0 ] && [ $can_capture -eq 1 ]; then
	"$STITCH" --root "$ROOT" run --pcap "$TMP/runc.pcap" >"$TMP/run.out" 2>"$TMP/run.err" &
	runpid=$!
	for _ in $(seq 1 200); do
		grep -q "reach it with" "$TMP/run.out" && break
		sleep 0.05
	done
	ns=$(sed -n 's/^reach it with: ip netns exec \([^ ]*\) .*/\1/p' "$TMP/run.out")
	got=000
	for _ in $(seq 1 100); do
		got=$(ip netns exec "$ns" curl -s -o /dev/null --max-time 1 -w '%{http_code}' http://10.0.0.2/)
		[ "$got" = 200 ] && break
		sleep 0.05
	done
	kill -INT "$runpid"
	wait "$runpid"
	rc=$?
	if [ "$got" = 200 ] && [ $rc -eq 0 ]; then pass "stitch run --pcap serves and stops"; else fail "stitch run --pcap serves and stops" "http $got, exit $rc"; fi
	has "stitch run --pcap names the trace" "$TMP/run.out" "packet trace: $TMP/runc.pcap"
	tcpdump -nn -A -r "$TMP/runc.pcap" >"$TMP/dump" 2>"$TMP/dump.err"
	has "tcpdump -r reads stitch run's trace: GET /" "$TMP/dump" "GET / HTTP/1.1"
else
	skip "stitch run --pcap" "a named network namespace needs root"
fi

# watch --test: one namespace for every cycle, only the image restarts.
: >"$PROBE_LOG"
"$STITCH" --root "$ROOT" watch --test >"$TMP/watch.out" 2>&1 &
wpid=$!
cycles() { grep -c 'in [0-9.]* s; watching$' "$TMP/watch.out"; }
for _ in $(seq 1 600); do
	[ "$(cycles)" -ge 1 ] && break
	sleep 0.05
done
echo "/* edit */" >>main.c
for _ in $(seq 1 600); do
	[ "$(cycles)" -ge 2 ] && break
	sleep 0.05
done
kill -INT "$wpid"
wait "$wpid"
if [ "$(grep -c '] ok in' "$TMP/watch.out")" -eq 2 ]; then pass "watch --test: two cycles pass"; else
	sed 's/^/# /' "$TMP/watch.out" | tail -n 20
	fail "watch --test: two cycles pass" "$(cycles) cycles"
fi
if [ "$(grep -c '^netns=/proc/'"$wpid"'/fd/' "$PROBE_LOG")" -eq 2 ] &&
	[ "$(grep '^inode=' "$PROBE_LOG" | sort -u | wc -l)" -eq 1 ]; then
	pass "watch --test: both cycles in watch's one namespace"
else
	fail "watch --test: both cycles in watch's one namespace" "$(grep -E '^(netns|inode)=' "$PROBE_LOG" | tr '\n' ' ')"
fi
has "watch --test: the image answered in the second cycle" "$PROBE_LOG" "http=200"

# The example's script alone, as before stitch provided the namespace.
if [ "$(id -u)" -eq 0 ]; then
	use_test ./test.sh
	STITCH_IMAGE=$SITE/_build/static-website.unix ./test.sh >"$OUT" 2>"$ERR"
	rc=$?
	if [ $rc -eq 0 ]; then pass "test.sh alone passes"; else fail "test.sh alone passes" "exit $rc: $(grep '^not ok' "$OUT")"; fi
	has "test.sh alone stops the image" "$OUT" "ok - image stops on SIGTERM (exit status 0)"
else
	skip "test.sh alone" "it makes a named network namespace, which needs root"
fi
