#!/bin/bash
# Single-document repositories, plain and compressed, and repo export.
. "$(dirname "$0")/testlib.sh"

A=$TMP/a
make_repo "$A" alpha
add_pkg "$A" tcp "TCP" 1.0.0 "1.1.0:ipv4 {>= 1.0 & < 2.0};platform-unix | platform-spt"
add_pkg "$A" ipv4 "IPv4" 1.0.0
# Unknown fields survive an export.
python3 - "$A/packages/ipv4.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["x-maintainer"] = "someone"
d["versions"]["1.0.0"]["x-extra"] = [1, 2]
json.dump(d, open(p, "w"))
PY

run "export to .json" 0 st repo export "$A" "$TMP/idx.json"
run "export again" 0 st repo export "$A" "$TMP/idx2.json"
same "export is byte-identical" "$TMP/idx.json" "$TMP/idx2.json"
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == 1 and d["name"] == "alpha"
assert sorted(d["packages"]) == ["ipv4", "tcp"]
assert d["packages"]["ipv4"]["x-maintainer"] == "someone"
assert d["packages"]["ipv4"]["versions"]["1.0.0"]["x-extra"] == [1, 2]
' "$TMP/idx.json"; then pass "export keeps packages and unknown fields"; else fail "export keeps packages and unknown fields" "bad document"; fi
run "export to .json.gz" 0 st repo export "$A" "$TMP/idx.json.gz"
sleep 1.1
run "export .gz again later" 0 st repo export "$A" "$TMP/idx2.json.gz"
same "gz export is byte-identical (no timestamp)" "$TMP/idx.json.gz" "$TMP/idx2.json.gz"
if gzip -dc "$TMP/idx.json.gz" | cmp -s - "$TMP/idx.json"; then pass "gz export holds the plain export"; else fail "gz export holds the plain export" "differs"; fi
run "export to a bad name" 2 st repo export "$A" "$TMP/idx.txt"
has "bad export name explained" "$ERR" "expected a name ending in .json, .json.gz"
run "export of a missing dir" 2 st repo export "$TMP/nope" "$TMP/x.json"
mkdir -p "$TMP/bad/packages" && echo '{"format": 1, "name": "bad"}' >"$TMP/bad/repo.json"
echo '{"name": "y", "versions": {}}' >"$TMP/bad/packages/x.json"
run "export of an invalid repo" 1 st repo export "$TMP/bad" "$TMP/bad.json"
has "export validates first" "$ERR" "does not match the file's base name"
if [ ! -e "$TMP/bad.json" ]; then pass "no output for an invalid repo"; else fail "no output for an invalid repo" "file written"; fi

# Every shape and compression reads the same.
st --repo "$A" show tcp >"$TMP/show.dir" 2>"$ERR"
xz -k -c "$TMP/idx.json" >"$TMP/idx.json.xz"
zstd -q -c "$TMP/idx.json" >"$TMP/idx.json.zst"
for f in idx.json idx.json.gz idx.json.xz idx.json.zst; do
	run "show from $f" 0 st --repo "$TMP/$f" show tcp
	same "$f reads like the directory" "$OUT" "$TMP/show.dir"
	run "show from file://$f" 0 st --repo "file://$TMP/$f" show ipv4
done

# Errors inside a compressed document point into its text.
printf '{"format": 1,\n "name": "z",\n "packages": {"a": }}\n' | gzip -c >"$TMP/broken.json.gz"
run "broken gz document" 1 st --repo "$TMP/broken.json.gz" search a
has "gz error has line and column" "$ERR" "broken.json.gz:3:20: invalid JSON"
printf '\x1f\x8b\x08\x00garbage' >"$TMP/corrupt.json.gz"
run "corrupt gz document" 1 st --repo "$TMP/corrupt.json.gz" search a
has "corrupt gz explained" "$ERR" "cannot decompress"
run "a dead remote repository is an error" 1 st --repo "http://127.0.0.1:9/idx.json" search a
has "dead server named with its URL" "$ERR" "cannot read repository 'http://127.0.0.1:9/idx.json'"
has "dead server's cause" "$ERR" "connection refused"
