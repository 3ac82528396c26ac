#!/bin/bash
# Remote repositories and sources over HTTP, from a real server on loopback.
. "$(dirname "$0")/testlib.sh"

WWW=$TMP/www
R=$WWW/repo
make_repo "$R" web
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4"
st repo export "$R" "$WWW/index.json" >/dev/null 2>&1
cp -R "$R/archives" "$WWW/archives"

faulty_server "$WWW"
stats() { curl -s "$URL/_stats"; }
count() { stats | python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"; }

run "repo add of a URL" 0 st repo add web "$URL/etag/index.json"
has "remote repo added" "$OUT" "added repository 'web' (2 packages"
run "show from the remote repo" 0 st show tcp
run "list names the URL" 0 st repo list
has "URL kept in the configuration" "$OUT" "$URL/etag/index.json"
before=$(count /etag/index.json)
run "show again uses the mirror" 0 st show tcp
if [ "$(count /etag/index.json)" -eq "$before" ]; then pass "no request without update"; else fail "no request without update" "requested again"; fi
run "update, unchanged" 0 st update
has "update says unchanged" "$OUT" "web: unchanged"
if [ "$(count /etag/index.json)" -eq $((before + 1)) ]; then pass "unchanged update is one request"; else fail "unchanged update is one request" "$(stats)"; fi
src_pkg "$R" udp 1.0.0 "ipv4"
st repo export "$R" "$WWW/index.json" >/dev/null 2>&1
cp "$R/archives/"* "$WWW/archives/"
run "update, changed" 0 st update
has "update says updated" "$OUT" "web: updated"
run "new package visible after update" 0 st show udp

# Relative sources resolve against the document's URL.
st init >/dev/null
python3 - "$WWW/index.json" "$WWW/ok.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
json.dump(d, open(sys.argv[2], "w"))
PY
run "install over HTTP" 0 st --repo "$URL/ok/ok.json" install tcp
has "tcp installed over HTTP" "$OUT" "tcp 1.0.0: installed"
if [ "$(count /ok/archives/tcp-1.0.0.tar.gz)" -eq 1 ]; then pass "source fetched from the repo's URL"; else fail "source fetched from the repo's URL" "$(stats)"; fi
run "remote 404 is named" 1 st --repo "$URL/404/nothing.json" search x
has "404 names the URL" "$ERR" "HTTP 404 from $URL/404/nothing.json"
kill $server 2>/dev/null
wait $server 2>/dev/null
run "dead server is named" 1 st --repo "$URL/ok/ok.json" search tcp
has "dead server explained" "$ERR" "cannot read repository '$URL/ok/ok.json'"
