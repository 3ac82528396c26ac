#!/bin/bash
# Hostile HTTP servers: endless and dripping bodies, HTML error pages sent
# with 200, redirects to file://, 404s, local sources named by a remote
# index, and stitch killed in the middle of a download.  Each fails within
# a bounded time naming the URL, leaves no temporary file and keeps nothing.
. "$(dirname "$0")/testlib.sh"

WWW=$TMP/www
mkdir -p "$WWW/archives"
echo '{"format": 1, "name": "x", "packages": {}}' >"$WWW/x.json"
tar -C "$TMP" -czf "$WWW/archives/p-1.0.0.tar.gz" www/x.json
faulty_server "$WWW"
count() { curl -s "$URL/_stats" | python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"; }
st init >/dev/null

# temps NAME DIR: no temporary file in DIR.
temps() {
	local left
	left=$(find "$2" -name '*.tmp-*' 2>/dev/null)
	if [ -z "$left" ]; then pass "$1"; else fail "$1" "left: $left"; fi
}
# empty NAME DIR: DIR has no file at all (nothing kept).
empty() {
	local left
	left=$(find "$2" -type f 2>/dev/null)
	if [ -z "$left" ]; then pass "$1"; else fail "$1" "kept: $left"; fi
}
# within NAME SECONDS CMD...: run CMD (exit 1 expected) in at most SECONDS
# (killed a little later: a hang fails, it does not hold the test).
within() {
	local name=$1 max=$2 t0 t1
	shift 2
	t0=$(date +%s)
	run "$name fails" 1 timeout $((max + 5)) "$STITCH" --root "$ROOT" "$@"
	t1=$(date +%s)
	if [ $((t1 - t0)) -le "$max" ]; then pass "$name within ${max}s"; else fail "$name within ${max}s" "took $((t1 - t0))s"; fi
}
# index NAME URL [SHA]: a remote index document $WWW/NAME.json with one
# package p 1.0.0 whose source is URL.
index() {
	python3 - "$WWW/$1.json" "$2" "${3:-}" <<'PY'
import json, sys
src = {"url": sys.argv[2]}
if sys.argv[3]:
    src["sha256"] = sys.argv[3]
v = {"source": src, "build": [["true"]], "install": []}
json.dump({"format": 1, "name": "h", "packages": {"p": {"name": "p", "versions": {"1.0.0": v}}}},
          open(sys.argv[1], "w"))
PY
}
FAKE=$(printf '%064d' 0 | tr 0 a)

# --- documents -----------------------------------------------------------
export STITCH_DOWNLOAD_BYTES=1000000
within "endless document" 20 repo add web "$URL/endless/index.json"
has "endless: URL named" "$ERR" "$URL/endless/index.json"
has "endless: the limit named" "$ERR" "larger than the download limit of 1000000 bytes"
temps "endless: no temporary file" "$ROOT/cache"
empty "endless: nothing kept" "$ROOT/cache/repos"
unset STITCH_DOWNLOAD_BYTES

# The limit also comes from config.json, and repo add keeps it there.
python3 - "$ROOT/config.json" <<'PY'
import json, sys
json.dump({"format": 1, "repos": [{"name": "default", "bundled": True, "priority": 0}],
           "limits": {"download_bytes": 2000000}}, open(sys.argv[1], "w"))
PY
within "endless document, limit from config.json" 20 repo add web "$URL/endless/index.json"
has "config limit applies" "$ERR" "larger than the download limit of 2000000 bytes"
run "a good repo add with limits configured" 0 st repo add good "$URL/ok/x.json"
has "repo add keeps the limits" "$ROOT/config.json" '"download_bytes": 2000000'
run "repo remove good" 0 st repo remove good
rm -f "$ROOT"/cache/repos/*
echo '{"format": 1, "repos": [], "limits": {"download_byte": 1}}' >"$TMP/bad.json"
cp "$ROOT/config.json" "$TMP/good.json"
cp "$TMP/bad.json" "$ROOT/config.json"
run "unknown limit refused" 1 st repo list
has "unknown limit named" "$ERR" "unknown key 'download_byte'"
cp "$TMP/good.json" "$ROOT/config.json"

export STITCH_FETCH_SECONDS=2
within "dripping document" 10 repo add web "$URL/drip/index.json"
has "drip: URL named" "$ERR" "$URL/drip/index.json"
has "drip: the time limit named" "$ERR" "took longer than the limit of 2 s"
if [ "$(count /drip/index.json)" -eq 1 ]; then pass "drip: not retried past the limit"; else fail "drip: not retried past the limit" "$(count /drip/index.json) requests"; fi
temps "drip: no temporary file" "$ROOT/cache"
unset STITCH_FETCH_SECONDS

within "HTML page with 200 as a document" 10 repo add web "$URL/garbage/index.json"
has "garbage: URL named" "$ERR" "$URL/garbage/index.json did not send a JSON document"
lacks "garbage: the cache path is not named" "$ERR" "$ROOT/cache"
empty "garbage: nothing kept" "$ROOT/cache/repos"
run "garbage: no repository added" 0 st repo list
lacks "garbage: web not configured" "$OUT" "web"

# Past 4 MiB a document is checked at both ends only (the index parses it).
export STITCH_DOWNLOAD_BYTES=100000000 # over config.json's
python3 -c 'import sys; open(sys.argv[1], "w").write("<html>" + "x" * 5000000)' "$WWW/big.json"
within "a large HTML page as a document" 10 repo add web "$URL/ok/big.json"
has "large garbage: URL named" "$ERR" "$URL/ok/big.json did not send a JSON document: 1:1: expected '{'"
empty "large garbage: nothing kept" "$ROOT/cache/repos"
python3 -c 'import sys; open(sys.argv[1], "w").write("{\"format\": 1, \"packages\": {" + " " * 5000000)' "$WWW/big.json"
within "a large truncated document" 10 repo add web "$URL/ok/big.json"
has "large truncated: the end named" "$ERR" "$URL/ok/big.json did not send a JSON document: the end: expected '}'"
empty "large truncated: nothing kept" "$ROOT/cache/repos"
unset STITCH_DOWNLOAD_BYTES

echo '[1, 2]' >"$WWW/array.json"
within "JSON that is no repository" 10 repo add web "$URL/ok/array.json"
has "not a repository: URL named" "$ERR" "$URL/ok/array.json: expected a repository object"
lacks "not a repository: the cache path is not named" "$ERR" "$ROOT/cache"
empty "not a repository: nothing kept" "$ROOT/cache/repos"

within "redirect to file://" 10 repo add web "$URL/redirect-file/x.json"
has "redirect: refused, target named" "$ERR" "refused a redirect to file://$WWW/x.json"
if [ "$(count /redirect-file/x.json)" -eq 1 ]; then pass "redirect: tried once"; else fail "redirect: tried once" "$(count /redirect-file/x.json) requests"; fi
empty "redirect: nothing kept" "$ROOT/cache/repos"

within "404 document" 10 repo add web "$URL/404/x.json"
has "404: URL named" "$ERR" "HTTP 404 from $URL/404/x.json"
if [ "$(count /404/x.json)" -eq 1 ]; then pass "404: tried once"; else fail "404: tried once" "$(count /404/x.json) requests"; fi

# A certificate nobody signed: refused, and not tried again.
if openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 \
	-keyout "$TMP/tls.pem" -out "$TMP/tls.crt" >/dev/null 2>&1; then
	cat "$TMP/tls.crt" >>"$TMP/tls.pem"
	python3 "$TOP/tests/server/faulty.py" --port 0 --dir "$WWW" --cert "$TMP/tls.pem" >"$TMP/tport" 2>"$TMP/tserver.err" &
	tserver=$!
	trap 'kill $server $tserver 2>/dev/null; rm -rf "$TMP"' EXIT
	for _ in $(seq 1 50); do [ -s "$TMP/tport" ] && break; sleep 0.1; done
	TURL=https://127.0.0.1:$(head -n1 "$TMP/tport")
	within "self-signed certificate" 10 repo add web "$TURL/ok/x.json"
	has "certificate: URL named" "$ERR" "$TURL/ok/x.json"
	has "certificate: the cause named" "$ERR" "certificate"
	lacks "certificate: tried once" "$ERR" "gave up after"
	empty "certificate: nothing kept" "$ROOT/cache/repos"
else
	skip "self-signed certificate" "openssl cannot make a certificate"
fi

# --- sources -------------------------------------------------------------
export STITCH_DOWNLOAD_BYTES=1000000
index endless "$URL/endless/p-1.0.0.tar.gz" "$FAKE"
within "endless source" 20 --repo "$URL/ok/endless.json" install p
has "endless source: package named" "$ERR" "'p 1.0.0'"
has "endless source: URL and limit named" "$ERR" "$URL/endless/p-1.0.0.tar.gz: larger than the download limit"
temps "endless source: no temporary file" "$ROOT/cache"
empty "endless source: nothing kept" "$ROOT/cache/sources"
unset STITCH_DOWNLOAD_BYTES

index garbage "$URL/garbage/p-1.0.0.tar.gz" "$FAKE"
within "HTML page with 200 as a source" 10 --repo "$URL/ok/garbage.json" install p
has "garbage source: URL named" "$ERR" "$URL/garbage/p-1.0.0.tar.gz did not send an archive"
empty "garbage source: nothing kept" "$ROOT/cache/sources"

index e404 "$URL/404/p-1.0.0.tar.gz" "$FAKE"
within "404 source" 10 --repo "$URL/ok/e404.json" install p
if [ "$(count /404/p-1.0.0.tar.gz)" -eq 1 ]; then pass "404 source: tried once"; else fail "404 source: tried once" "$(count /404/p-1.0.0.tar.gz) requests"; fi

index local "file://$WWW/archives/p-1.0.0.tar.gz"
within "file:// source without sha256 in a remote index" 10 --repo "$URL/ok/local.json" install p
has "local source refused: package, version and URL named" "$ERR" "'p 1.0.0': source file://$WWW/archives/p-1.0.0.tar.gz of a remote repository has no sha256"
empty "local source: nothing read" "$ROOT/cache/sources"
run "local source: nothing installed" 0 st list
lacks "p not installed" "$OUT" "p 1.0.0"
SHA=$(sha256sum "$WWW/archives/p-1.0.0.tar.gz" | cut -d' ' -f1)
index localsha "file://$WWW/archives/p-1.0.0.tar.gz" "$SHA"
run "file:// source with its sha256 is fetched" 0 st --repo "$URL/ok/localsha.json" install p
if [ -f "$ROOT/cache/sources/$SHA" ]; then pass "local source with sha256 in the cache"; else fail "local source with sha256 in the cache" "$(ls "$ROOT/cache/sources")"; fi

# --- killed in the middle ------------------------------------------------
# (stitch itself in the background, not the st function's subshell)
# wait_temp DIR: wait (up to 10 s) for a temporary file in DIR.
wait_temp() {
	for _ in $(seq 1 100); do
		[ -n "$(find "$1" -name '*.tmp-*' 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}
"$STITCH" --root "$ROOT" repo add slow "$URL/endless-slow/index.json" >"$OUT" 2>"$ERR" &
pid=$!
if wait_temp "$ROOT/cache/repos"; then pass "SIGTERM: download under way"; else fail "SIGTERM: download under way" "no temporary file"; fi
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 143 ]; then pass "SIGTERM: stitch dies of the signal"; else fail "SIGTERM: stitch dies of the signal" "exit $rc"; fi
temps "SIGTERM: temporary file removed" "$ROOT/cache"

rm -f "$ROOT/cache/sources/$SHA"
index slowsrc "$URL/endless-slow/p-1.0.0.tar.gz" "$FAKE"
"$STITCH" --root "$ROOT" --repo "$URL/ok/slowsrc.json" install p >"$OUT" 2>"$ERR" &
pid=$!
if wait_temp "$ROOT/cache/sources"; then pass "SIGTERM: source download under way"; else fail "SIGTERM: source download under way" "no temporary file"; fi
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 143 ]; then pass "SIGTERM: stitch dies of the signal (source)"; else fail "SIGTERM: stitch dies of the signal (source)" "exit $rc"; fi
temps "SIGTERM: source temporary file removed" "$ROOT/cache"
empty "SIGTERM: no source kept" "$ROOT/cache/sources"

rm -f "$ROOT"/cache/repos/*.tmp-* # what a failure above left
"$STITCH" --root "$ROOT" repo add slow "$URL/endless-slow/index.json" >"$OUT" 2>"$ERR" &
pid=$!
wait_temp "$ROOT/cache/repos"
{
	kill -KILL $pid
	wait $pid
} 2>/dev/null
stale=$(find "$ROOT/cache/repos" -name '*.tmp-*')
if [ -n "$stale" ] && [ -e "$stale" ]; then pass "kill -9 leaves a temporary file"; else fail "kill -9 leaves a temporary file" "none: nothing to sweep"; fi
# a live process's temporary file is left alone by the sweep
sleep 300 &
live=$!
touch "$ROOT/cache/repos/0123.doc.tmp-$live-abcdef"
run "the next fetch" 1 st repo add web "$URL/404/x.json"
if [ -z "$stale" ] || [ ! -e "$stale" ]; then pass "next command sweeps the stale temporary file"; else fail "next command sweeps the stale temporary file" "$stale"; fi
if [ -e "$ROOT/cache/repos/0123.doc.tmp-$live-abcdef" ]; then pass "a live process's temporary file is kept"; else fail "a live process's temporary file is kept" "removed"; fi
kill $live
