#!/bin/bash
# The bundled index: archives re-pack to the same bytes and checksums, every
# package builds and passes its own tests, and the static website builds to
# the same image in two roots at two paths, and passes its network test.
. "$(dirname "$0")/testlib.sh"

IDX=$TOP/repo-index
for d in "$IDX"/src/*; do
	top=${d##*/}
	st repo pack "$d" -o "$TMP/$top.tar.gz" >"$OUT" 2>"$ERR"
	same "$top re-packs to the same archive" "$TMP/$top.tar.gz" "$IDX/archives/$top.tar.gz"
	sha=$(cut -d' ' -f1 "$OUT")
	name=${top%-*}
	ver=${top##*-}
	if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["versions"][sys.argv[2]]["source"]["sha256"] == sys.argv[3]
' "$IDX/packages/$name.json" "$ver" "$sha"; then pass "$top checksum in the index"; else fail "$top checksum in the index" "differs"; fi
done

# Every package's own tests, against its dependencies installed in a switch.
SW=$TMP/sw
st init --switch "$SW" >/dev/null
run "install every bundled package (newest)" 0 st --switch "$SW" install http crunch
for top in platform-api-1.0.0 platform-unix-1.0.0 platform-unix-1.1.0 platform-spt-1.0.0 platform-virtio-1.0.0 ethernet-1.0.0 ethernet-1.1.0 arp-1.0.0 ipv4-1.0.0 tcp-1.1.0 tcp-1.1.1 tcp-1.1.2 http-1.1.0 crunch-1.0.0; do
	mkdir -p "$TMP/t"
	tar -C "$TMP/t" -xzf "$IDX/archives/$top.tar.gz"
	if make -s -C "$TMP/t/$top" check PREFIX="$SW" >"$TMP/check.log" 2>&1; then
		pass "$top: make check"
	else
		tail -n 20 "$TMP/check.log" | sed 's/^/# /'
		fail "$top: make check" "failed"
	fi
done
# The older pair: http 1.0.0 works with tcp 1.0.0, and needs nothing newer.
SW0=$TMP/sw0
st init --switch "$SW0" >/dev/null
run "install http 1.0.0" 0 st --switch "$SW0" install "http {= 1.0.0}" "tcp {= 1.0.0}"
for top in tcp-1.0.0 http-1.0.0; do
	tar -C "$TMP/t" -xzf "$IDX/archives/$top.tar.gz"
	if make -s -C "$TMP/t/$top" check PREFIX="$SW0" >"$TMP/check.log" 2>&1; then
		pass "$top: make check"
	else
		tail -n 20 "$TMP/check.log" | sed 's/^/# /'
		fail "$top: make check" "failed"
	fi
done
run "http 1.1.0 needs tcp 1.1" 3 st solve "http {= 1.1.0}" "tcp {= 1.0.0}"
has "the reason is tcp" "$ERR" "http 1.1.0 depends on tcp >= 1.1"

# The static website: the same image from two roots at two paths.
for n in 1 2; do
	mkdir -p "$TMP/p$n"
	cp -R "$TOP/share/examples/static-website" "$TMP/p$n/site"
done
(cd "$TMP/p1/site" && "$STITCH" --root "$TMP/r1" build >"$OUT" 2>"$ERR")
rc1=$?
(cd "$TMP/p2/site" && "$STITCH" --root "$TMP/r2" build >"$TMP/out2" 2>"$ERR")
rc2=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]; then pass "static website builds twice"; else fail "static website builds twice" "$rc1 $rc2"; fi
h1=$(sha256sum "$TMP/p1/site/_build/static-website.unix" | cut -d' ' -f1)
h2=$(sha256sum "$TMP/p2/site/_build/static-website.unix" | cut -d' ' -f1)
if [ "$h1" = "$h2" ]; then pass "bit-identical images from two roots"; else fail "bit-identical images from two roots" "$h1 $h2"; fi
if [ "$(id -u)" -ne 0 ]; then
	skip "stitch test of the static website" "creating a network namespace needs root"
else
	(cd "$TMP/p1/site" && "$STITCH" --root "$TMP/r1" test >"$OUT" 2>"$ERR")
	rc=$?
	if [ $rc -eq 0 ]; then pass "stitch test of the static website"; else sed 's/^/# /' "$OUT" | tail -n 25; fail "stitch test of the static website" "exit $rc"; fi
	has "every htdocs file compared" "$OUT" "GET /big.bin: 200 application/octet-stream, same bytes"
	has "ten connections at once" "$OUT" "10 of 10 identical"
fi

# The same project, the same stack archives, on the other targets: the
# image links the target's platform instead of platform-unix (spt: a
# static process sealed with seccomp; virtio: a QEMU virtual machine), and
# passes the same test.
on_target() {
	local t=$1 m=$TMP/p1/site/_build/static-website.$1.manifest.json rc
	(cd "$TMP/p1/site" && "$STITCH" --root "$TMP/r1" build --target "$t" >"$OUT" 2>"$ERR")
	rc=$?
	if [ $rc -eq 0 ]; then pass "the static website builds for $t"; else fail "the static website builds for $t" "exit $rc: $(tail -n 5 "$ERR")"; fi
	lacks "$t: the stack is not rebuilt" "$OUT" "ethernet 1.1.0: installed"
	if file "$TMP/p1/site/_build/static-website.$t" | grep -q "statically linked"; then pass "$t: a static image"; else
		fail "$t: a static image" "$(file "$TMP/p1/site/_build/static-website.$t")"; fi
	has "$t: platform-$t in the manifest" "$m" "\"name\": \"platform-$t\""
	lacks "$t: no platform-unix in the manifest" "$m" '"name": "platform-unix"'
	if [ "$(id -u)" -ne 0 ]; then
		skip "stitch test of the static website on $t" "creating a network namespace needs root"
		return
	fi
	(cd "$TMP/p1/site" && "$STITCH" --root "$TMP/r1" test --target "$t" >"$OUT" 2>"$ERR")
	rc=$?
	if [ $rc -eq 0 ]; then pass "stitch test of the static website on $t"; else sed 's/^/# /' "$OUT" "$ERR" | tail -n 25; fail "stitch test of the static website on $t" "exit $rc"; fi
	has "$t: ten connections at once" "$OUT" "10 of 10 identical"
	has "$t: every htdocs file compared" "$OUT" "GET /big.bin: 200 application/octet-stream, same bytes"
}
on_target spt
on_target virtio

# The CI recipe of README.md, as written: lock committed, build --locked, verify.
(cd "$TMP/p1/site" && "$STITCH" --root "$TMP/r1" lock >"$OUT" 2>"$ERR")
has "stitch lock on the static website" "$OUT" "stitch.lock: 8 packages, written"
mkdir -p "$TMP/ci" && cp -R "$TOP/share/examples/static-website" "$TMP/ci/site"
cp "$TMP/p1/site/stitch.lock" "$TMP/ci/site/"
cd "$TMP/ci/site" || exit 1
run "CI: stitch lock --check" 0 "$STITCH" --root "$TMP/rci" lock --check
run "CI: stitch build --locked --json" 0 "$STITCH" --root "$TMP/rci" build --locked --json
has "CI: the locked build gives the same image" "$OUT" "\"sha256\":\"$h1\""
if python3 -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)
' "$OUT"; then pass "CI: every line of --json is a JSON object"; else fail "CI: every line of --json is a JSON object" "$(cat "$OUT")"; fi
run "CI: stitch verify" 0 "$STITCH" --root "$TMP/rci" verify
has "CI: verify reproduces the image" "$OUT" "verified: stitch.lock rebuilds static-website.unix bit for bit"
