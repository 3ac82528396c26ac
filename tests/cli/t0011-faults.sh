#!/bin/bash
# Faults around the switch: bad checksums, escaping archives, kill -9 in
# the middle of an install, two installs at once.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4 {>= 1.0}"
src_pkg "$R" arp 1.0.0
SW=$ROOT/switches/default
st init >/dev/null

# A wrong checksum stops everything before a build.
python3 - "$R/packages/arp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["versions"]["1.0.0"]["source"]["sha256"] = "0" * 64
json.dump(d, open(sys.argv[1], "w"))
PY
run "wrong checksum refused" 1 st --repo "$R" install arp
has "checksum error names the package" "$ERR" "arp 1.0.0"
has "checksum error says mismatch" "$ERR" "checksum"
run "nothing installed after a bad checksum" 0 st list --json
if [ "$(tr -d ' \n' <"$OUT")" = "[]" ]; then pass "switch untouched"; else fail "switch untouched" "$(cat "$OUT")"; fi
if [ -z "$(ls -A "$ROOT/cache/sources" 2>/dev/null | grep -v '^0000')" ]; then
	pass "bad download not kept"
else
	fail "bad download not kept" "$(ls "$ROOT/cache/sources")"
fi

# An archive that tries to escape is refused before anything is written.
mkdir -p "$TMP/evil/evil-1.0"
echo x >"$TMP/evil/evil-1.0/Makefile"
python3 - "$R/archives/evil-1.0.tar.gz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for name, data in (("evil-1.0/Makefile", b"all:\n"), ("evil-1.0/../../escaped", b"gotcha\n")):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PY
sha=$(sha256sum "$R/archives/evil-1.0.tar.gz" | cut -d' ' -f1)
cat >"$R/packages/evil.json" <<JSON
{"name": "evil", "versions": {"1.0": {"source": {"url": "archives/evil-1.0.tar.gz", "sha256": "$sha"},
 "build": [["make"]], "install": [["make", "install"]]}}}
JSON
run "escaping archive refused" 1 st --repo "$R" install evil
has "escape named" "$ERR" "../../escaped"
if [ ! -e "$SW/.stitch/escaped" ] && [ ! -e "$SW/escaped" ] && [ ! -e "$SW/.stitch/build/escaped" ]; then
	pass "nothing escaped"
else
	fail "nothing escaped" "file written"
fi

# kill -9 while files move into the switch: the next command finishes the job.
run "install ipv4" 0 st --repo "$R" install ipv4
STITCH_FAULT=kill-after-moves:1 st --repo "$R" install tcp >"$OUT" 2>"$ERR"
rc=$?
if [ "$rc" -eq 137 ]; then pass "killed in the middle of moving files"; else fail "killed in the middle of moving files" "exit $rc"; fi
if [ -f "$SW/include/tcp.h" ] || [ -f "$SW/lib/libtcp.a" ]; then pass "some files moved"; else fail "some files moved" "none"; fi
run "next command completes the install" 0 st list
has "recovery is reported" "$ERR" "finished the interrupted install of tcp 1.0.0"
has "tcp recorded" "$OUT" "tcp                      1.0.0"
run "doctor clean after recovery" 0 st doctor
has "all files present" "$OUT" "6 files checked, 0 problems"
run "install converges" 0 st --repo "$R" install tcp
has "nothing left to do" "$OUT" "nothing to do"

# kill -9 during a build: the switch is as it was.
# The sleep's argument is this test's own, so that pgrep finds no other.
NAP="sleep 30.$$"
SRC_BUILD_EXTRA="$NAP" src_pkg "$R" arp 1.1.0
"$STITCH" --root "$ROOT" --repo "$R" install arp >"$OUT" 2>"$ERR" & # $! is stitch itself
pid=$!
for _ in $(seq 1 100); do
	[ -d "$SW/.stitch/build/arp-1.1.0" ] && break
	sleep 0.1
done
sleep 0.5
kill -9 "$pid"
wait "$pid" 2>/dev/null
for _ in $(seq 30); do pgrep -fx "$NAP" >/dev/null || break; sleep 0.1; done
if ! pgrep -fx "$NAP" >/dev/null; then pass "the killed build's commands died with it"; else fail "the killed build's commands died with it" "$(pgrep -afx "$NAP")"; pkill -fx "$NAP"; fi
run "after a killed build" 0 st list
lacks "arp not recorded" "$OUT" "arp"
run "doctor clean after a killed build" 0 st doctor

# Two installs at once take turns.
src_pkg "$R" udp 1.0.0 "ipv4"
src_pkg "$R" icmp 1.0.0 "ipv4"
st --repo "$R" install udp >"$TMP/a.out" 2>"$TMP/a.err" &
a=$!
st --repo "$R" install icmp >"$TMP/b.out" 2>"$TMP/b.err" &
b=$!
wait $a; ra=$?
wait $b; rb=$?
if [ $ra -eq 0 ] && [ $rb -eq 0 ]; then pass "both installs succeed"; else fail "both installs succeed" "$ra $rb: $(cat "$TMP/a.err" "$TMP/b.err")"; fi
run "both recorded" 0 st list
has "udp recorded" "$OUT" "udp "
has "icmp recorded" "$OUT" "icmp "
run "doctor clean after concurrent installs" 0 st doctor
