#!/bin/bash
# stitch lock, build --locked, verify, the image manifest, and the artifact
# cache: local, and shared through a real nginx with WebDAV PUT on loopback.
. "$(dirname "$0")/testlib.sh"
export TMPDIR=$TMP # what verify keeps goes away with the test

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4 {>= 1.0}"
platform_pkg "$R"
PROJ=$TMP/proj
mkdir -p "$PROJ"
cat >"$PROJ/unikernel.json" <<'J'
{"name": "hello", "depends": ["tcp"], "sources": ["main.c"], "cflags": ["-O2"]}
J
# __DATE__ and __TIME__ make the image depend on when it was built, unless
# SOURCE_DATE_EPOCH pins them.
cat >"$PROJ/main.c" <<'C'
#include <stdio.h>
#include <tcp.h>
int plat_app_main(void) { printf("hello %d %s %s\n", tcp_hello(), __DATE__, __TIME__); return 0; }
C
cd "$PROJ" || exit 1
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

# ---- the lock ----
run "lock writes stitch.lock" 0 st --repo "$R" lock
has "lock says what it did" "$OUT" "stitch.lock: 3 packages, written"
has "lock has its version" stitch.lock '"lock_version": 1'
has "lock has the toolchain" stitch.lock '"cc": "cc '
has "lock has the linker" stitch.lock '"ld": "GNU ld'
has "lock names the repository" stitch.lock '"repository": "test"'
sha_tcp=$(sha256sum "$R/archives/tcp-1.0.0.tar.gz" | cut -d' ' -f1)
has "lock has the source checksum" stitch.lock "\"sha256\": \"$sha_tcp\""
has "lock has the source URL" stitch.lock '"url": "archives/tcp-1.0.0.tar.gz"'
has "lock has the recipe hash" stitch.lock '"recipe": "'
if [ "$(json_field stitch.lock "['repositories'][0]['sha256']" | wc -c)" -eq 65 ]; then
	pass "lock has the repository's content hash"
else
	fail "lock has the repository's content hash" "$(cat stitch.lock)"
fi
cp stitch.lock "$TMP/lock1"
run "lock again" 0 st --repo "$R" lock
has "lock again changes nothing" "$OUT" "unchanged"
same "locking twice gives the same bytes" "$TMP/lock1" stitch.lock
rm -rf "$ROOT/cache/index"
run "lock from a rebuilt index cache" 0 st --repo "$R" lock
same "the same bytes from a fresh index cache" "$TMP/lock1" stitch.lock
run "lock --check on a fresh lock" 0 st --repo "$R" lock --check

# ---- locked builds are bit-identical across roots, paths and times ----
run "build --locked" 0 st --repo "$R" build --locked --json
img1=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "link": print(e["sha256"])' "$OUT")
M=_build/hello.unix.manifest.json
if [ -f "$M" ]; then pass "manifest next to the image"; else fail "manifest next to the image" "no $M"; fi
if [ "$(json_field "$M" "['sha256']")" = "$img1" ] && [ "$(json_field "$M" "['target']")" = unix ]; then
	pass "manifest names the image's sha256 and target"
else
	fail "manifest names the image's sha256 and target" "$(cat "$M")"
fi
if [ "$(json_field "$M" "[\"packages\"][-1][\"name\"]")" = tcp ] &&
	[ "$(json_field "$M" "[\"packages\"][-1][\"source_sha256\"]")" = "$sha_tcp" ] &&
	[ "$(json_field "$M" "[\"packages\"][-1][\"build_hash\"]" | wc -c)" -eq 65 ] &&
	[ "$(json_field "$M" "[\"packages\"][-1][\"interface_hash\"]" | wc -c)" -eq 65 ]; then
	pass "manifest lists packages with version, source, build and interface hashes"
else
	fail "manifest lists packages with version, source, build and interface hashes" "$(cat "$M")"
fi
sleep 1.1
mkdir -p "$TMP/elsewhere/deeper"
cp -r "$PROJ" "$TMP/elsewhere/deeper/proj2"
rm -rf "$TMP/elsewhere/deeper/proj2/_build" "$TMP/elsewhere/deeper/proj2/_stitch"
(cd "$TMP/elsewhere/deeper/proj2" && "$STITCH" --root "$TMP/root2" --repo "$R" build --locked >"$OUT" 2>"$ERR")
has "another root, path and time: the same image" "$OUT" "sha256: $img1"

# ---- verify ----
run "verify rebuilds the lock in a fresh root" 0 st --repo "$R" verify
has "verify says the image is reproduced" "$OUT" "verified: stitch.lock rebuilds hello.unix bit for bit"
has "verify shows the fresh image hash" "$OUT" "fresh root:  $img1"

# ---- a newer release does not make the lock stale, and is not used ----
src_pkg "$R" tcp 1.1.0 "ipv4 {>= 1.0}"
run "lock --check with a newer tcp in the index" 0 st --repo "$R" lock --check
has "lock --check notes the repository changed" "$ERR" "repository 'test' changed"
run "build --locked keeps tcp 1.0.0" 0 st --repo "$R" build --locked --json
lacks "no tcp 1.1.0 in a locked build" "$OUT" '"version":"1.1.0"'
run "lock --upgrade" 0 st --repo "$R" lock --upgrade
has "lock --upgrade moves tcp" "$OUT" "tcp: 1.0.0 -> 1.1.0"
cp "$TMP/lock1" stitch.lock

# ---- stale and broken locks ----
cp unikernel.json "$TMP/uk.json"
sed -i 's/"depends": \["tcp"\]/"depends": ["tcp", "ipv4"]/' unikernel.json
run "lock --check exits 1 when depends changed" 1 st --repo "$R" lock --check
has "lock --check says why" "$ERR" "requires: the project's depends changed"
run "build --locked refuses a stale lock" 1 st --repo "$R" build --locked
has "stale lock explained" "$ERR" "stitch.lock is stale"
cp "$TMP/uk.json" unikernel.json

cp -r "$R" "$TMP/repo-bad"
python3 - "$TMP/repo-bad/packages/tcp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["versions"]["1.0.0"]["source"]["sha256"] = "0" * 64
json.dump(d, open(sys.argv[1], "w"))
PY
run "build --locked with a changed checksum" 1 st --repo "$TMP/repo-bad" build --locked
has "checksum difference named" "$ERR" "tcp 1.0.0: checksum differs: the lock has $sha_tcp"
python3 - "$TMP/repo-bad/packages/tcp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["versions"]["1.0.0"]
json.dump(d, open(sys.argv[1], "w"))
PY
run "build --locked with the locked version gone" 1 st --repo "$TMP/repo-bad" build --locked
has "missing version named" "$ERR" "tcp 1.0.0 is not in any repository (they have 1.1.0)"
run "lock --check with the locked version gone" 1 st --repo "$TMP/repo-bad" lock --check
has "lock --check lists the change" "$ERR" "tcp: 1.0.0 -> 1.1.0"

# ---- path pins ----
run "pin tcp" 0 st --repo "$R" pin add tcp
run "build --locked refuses a path pin" 1 st --repo "$R" build --locked
has "the pin is named" "$ERR" "tcp is pinned to $PROJ/tcp"
run "build --locked --allow-pins" 0 st --repo "$R" build --locked --allow-pins
run "lock with a pin" 0 st --repo "$R" lock
has "lock records the pin's path" stitch.lock '"path": "tcp"'
has "lock records the pin's tree hash" stitch.lock '"tree": "'
run "unpin tcp" 0 st --repo "$R" pin remove tcp
run "lock without the pin" 0 st --repo "$R" lock
if [ "$(json_field "$TMP/lock1" "['packages']")" = "$(json_field stitch.lock "['packages']")" ]; then
	pass "unpinned, the lock's packages are the original ones again"
else
	fail "unpinned, the lock's packages are the original ones again" "$(diff "$TMP/lock1" stitch.lock)"
fi

# ---- the local artifact cache ----
mkdir -p "$TMP/p3" && cp unikernel.json main.c stitch.lock "$TMP/p3/"
(cd "$TMP/p3" && "$STITCH" --root "$ROOT" --repo "$R" build --locked --json >"$OUT" 2>"$ERR")
if [ "$(grep -c '"action":"cached"' "$OUT")" -eq 3 ] && ! grep -q '"event":"building"' "$OUT"; then
	pass "a second project in the same root takes every package from the local cache"
else
	fail "a second project in the same root takes every package from the local cache" "$(cat "$OUT")"
fi
has "cached build: the same image" "$OUT" "\"sha256\":\"$img1\""

# ---- the shared cache: nginx with WebDAV on loopback ----
if ! command -v nginx >/dev/null || [ ! -f /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ]; then
	echo "# nginx or libnginx-mod-http-dav-ext missing: the shared-cache checks are skipped"
	exit 0
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SRV=$TMP/cache-srv
mkdir -p "$SRV" "$TMP/ngx"
cat >"$TMP/ngx/nginx.conf" <<NGX
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
worker_processes 1;
daemon on;
user root;
pid $TMP/ngx/nginx.pid;
error_log $TMP/ngx/error.log;
events {}
http {
	access_log $TMP/ngx/access.log;
	client_body_temp_path $TMP/ngx/body;
	proxy_temp_path $TMP/ngx/proxy;
	fastcgi_temp_path $TMP/ngx/fastcgi;
	uwsgi_temp_path $TMP/ngx/uwsgi;
	scgi_temp_path $TMP/ngx/scgi;
	server {
		listen 127.0.0.1:$PORT;
		root $SRV;
		client_max_body_size 100m;
		dav_methods PUT DELETE;
		dav_ext_methods PROPFIND OPTIONS;
		create_full_put_path on;
	}
}
NGX
if ! nginx -c "$TMP/ngx/nginx.conf" -p "$TMP/ngx" 2>"$ERR"; then
	fail "nginx starts" "$(cat "$ERR")"
	exit 0
fi
trap 'kill "$(cat "$TMP/ngx/nginx.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$TMP"' EXIT
URL=http://127.0.0.1:$PORT/stitch
for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

runner() { # runner ROOT DIR: a fresh CI runner building the lock in DIR
	rm -rf "$2" && mkdir -p "$2" && cp "$PROJ/unikernel.json" "$PROJ/main.c" "$PROJ/stitch.lock" "$2/"
	"$STITCH" --root "$1" cache remote "$URL" >/dev/null
	(cd "$2" && "$STITCH" --root "$1" --repo "$R" build --locked --json >"$OUT" 2>"$ERR")
}
runner "$TMP/rootA" "$TMP/runA"
if [ "$(grep -c '"action":"uploaded"' "$OUT")" -eq 3 ]; then
	pass "runner A builds and uploads every package"
else
	fail "runner A builds and uploads every package" "$(cat "$OUT")"
fi
if [ "$(find "$SRV/stitch" -name '*.json' | wc -l)" -eq 4 ] && [ "$(find "$SRV/stitch" -name '*.tar.zst' | wc -l)" -eq 4 ]; then
	pass "the server holds four descriptions and archives (three packages, one object)"
else
	fail "the server holds four descriptions and archives (three packages, one object)" "$(ls -R "$SRV")"
fi
runner "$TMP/rootB" "$TMP/runB"
if [ "$(grep -c '"action":"cached"' "$OUT")" -eq 3 ] && ! grep -q '"event":"building"' "$OUT" &&
	grep -q '"from":"remote"' "$OUT"; then
	pass "runner B, a fresh root: zero package builds, all from the remote cache"
else
	fail "runner B, a fresh root: zero package builds, all from the remote cache" "$(cat "$OUT")"
fi
lacks "runner B fetched no source" "$OUT" '"event":"fetch"'
has "runner B compiled nothing, not even the project's own source" "$OUT" '"compiled":0,"cached":1'
has "runner B: the same image" "$OUT" "\"sha256\":\"$img1\""
run "runner B's switch is sound" 0 "$STITCH" --root "$TMP/rootB" --switch "$TMP/runB/_stitch" doctor

# A corrupted archive on the server is rejected, and that package is built.
victim=$(grep -l '"name": "tcp"' "$SRV"/stitch/*.json)
arch=$(json_field "$victim" "['archive']['sha256']")
printf 'not an archive' >"$SRV/stitch/$arch.tar.zst"
runner "$TMP/rootC" "$TMP/runC"
if grep -q '"event":"cache","name":"tcp","version":"1.0.0","action":"rejected"' "$OUT" &&
	grep -q '"name":"tcp","version":"1.0.0","action":"built"' "$OUT" &&
	[ "$(grep -c '"action":"cached"' "$OUT")" -eq 2 ]; then
	pass "a corrupted artifact is rejected and the package built"
else
	fail "a corrupted artifact is rejected and the package built" "$(cat "$OUT")"
fi
has "corrupted artifact: the error names the checksum" "$OUT" "checksum"
has "corrupted artifact: still the same image" "$OUT" "\"sha256\":\"$img1\""

# A forged description (not hashing back to its name) is rejected too.
desc=$(grep -l '"name": "ipv4"' "$SRV"/stitch/*.json)
sed -i 's/"version": "1.0.0"/"version": "6.6.6"/' "$desc"
runner "$TMP/rootD" "$TMP/runD"
if grep -q '"event":"cache","name":"ipv4","version":"1.0.0","action":"rejected"' "$OUT" &&
	grep -q '"name":"ipv4","version":"1.0.0","action":"built"' "$OUT"; then
	pass "a forged description is rejected and the package built"
else
	fail "a forged description is rejected and the package built" "$(cat "$OUT")"
fi

# The remote going away is not fatal: packages are built, a warning says why.
kill "$(cat "$TMP/ngx/nginx.pid")"
sleep 0.2
runner "$TMP/rootE" "$TMP/runE"
if grep -q '"action":"built"' "$OUT" && grep -q '"event":"link"' "$OUT"; then
	pass "a dead cache server: packages are built"
else
	fail "a dead cache server: packages are built" "$(cat "$OUT" "$ERR")"
fi
has "a dead cache server is reported" "$OUT" "cannot reach the artifact cache"
if [ "$(grep -c 'cannot reach the artifact cache' "$OUT")" -eq 1 ]; then
	pass "a dead cache server is reported once, not asked again"
else
	fail "a dead cache server is reported once, not asked again" "$(cat "$OUT")"
fi

# --explain: which input of the build hash changed.
SRC_HEADER_EXTRA="int ipv4_extra(void);" src_pkg "$R" ipv4 1.0.0
(cd "$TMP/runA" && "$STITCH" --root "$TMP/rootA" --repo "$R" lock >/dev/null &&
	"$STITCH" --root "$TMP/rootA" --repo "$R" build --locked --explain >"$OUT" 2>"$ERR")
has "--explain: ipv4's source changed" "$OUT" "ipv4 1.0.0: not from the cache: source changed"
has "--explain: tcp sees ipv4's interface change" "$OUT" "tcp 1.0.0: not from the cache: interface of ipv4 changed"


# verify names the first package whose build is not reproducible.
R2=$TMP/repo2
make_repo "$R2" test2
cp "$R/packages/platform-unix.json" "$R2/packages/" && mkdir -p "$R2/archives" &&
	cp "$R/archives/platform-unix-1.0.0.tar.gz" "$R2/archives/"
SRC_BUILD_EXTRA='printf '"'"'const char clock_stamp[] = "%s";\n'"'"' "$$(date +%s%N)" > stamp.c && $(CC) -c stamp.c -o stamp.o && ar rcs $@ stamp.o' \
	src_pkg "$R2" clock 1.0.0
mkdir -p "$TMP/pclock" && cd "$TMP/pclock" || exit 1
cat >unikernel.json <<'J'
{"name": "stamped", "depends": ["clock"], "sources": ["main.c"]}
J
cat >main.c <<'C'
#include <stdio.h>
extern const char clock_stamp[];
int plat_app_main(void) { puts(clock_stamp); return 0; }
C
run "lock the stamped project" 0 st --repo "$R2" lock
run "verify fails when a package's build is not reproducible" 1 st --repo "$R2" verify
has "verify names the first package that differs" "$ERR" "the first package that differs is clock 1.0.0: its static archives differ"
has "verify keeps the fresh build" "$ERR" "note: the fresh build is kept in"

# A package that installs nothing is cached too (its archive has no entries).
# It has no install step: one that stages nothing is an error (t0051).
R3=$TMP/repo3
make_repo "$R3" test3
src_pkg "$R3" nothing 1.0.0
python3 - "$R3/packages/nothing.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["versions"]["1.0.0"]["install"] = []
json.dump(d, open(sys.argv[1], "w"))
PY
st init --switch "$TMP/sn1" >/dev/null && st init --switch "$TMP/sn2" >/dev/null
run "install a package with no files" 0 st --repo "$R3" --switch "$TMP/sn1" install nothing --json
run "again in another switch" 0 st --repo "$R3" --switch "$TMP/sn2" install nothing --json
has "a package with no files comes from the cache" "$OUT" '"name":"nothing","version":"1.0.0","action":"cached"'

# cache clean --unused-days: what no build used for that long goes, with its archive.
AD=$ROOT/cache/artifacts
before=$(ls "$AD"/*.json | wc -l)
old=$(grep -l '"name": "nothing"' "$AD"/*.json)
old_arch=$(json_field "$old" "['archive']['sha256']")
touch -d '10 days ago' "$old"
run "cache clean --unused-days 5" 0 st cache clean --unused-days 5
has "cache clean says what it removed" "$OUT" "removed 1 artifact unused for 5 days"
if [ ! -e "$old" ] && [ ! -e "$AD/$old_arch" ] && [ "$(ls "$AD"/*.json | wc -l)" -eq $((before - 1)) ]; then
	pass "the unused artifact and its archive are gone, the others stay"
else
	fail "the unused artifact and its archive are gone, the others stay" "$(ls "$AD")"
fi
if python3 - "$AD" <<'PY'
import glob, json, os, sys
for p in glob.glob(sys.argv[1] + "/*.json"):
    a = json.load(open(p))["archive"]["sha256"]
    assert os.path.exists(os.path.join(sys.argv[1], a)), p
PY
then pass "every remaining description's archive is there"; else fail "every remaining description's archive is there" "$(ls "$AD")"; fi
st init --switch "$TMP/sn3" >/dev/null
run "install after the prune" 0 st --repo "$R3" --switch "$TMP/sn3" install nothing --json
has "the pruned package is built again" "$OUT" '"name":"nothing","version":"1.0.0","action":"built"'
run "cache clean --unused-days with a bad number" 2 st cache clean --unused-days soon
