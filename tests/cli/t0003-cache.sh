#!/bin/bash
# The compiled index cache: reused while the source is unchanged, rebuilt
# when it changes, never trusted when corrupt.
. "$(dirname "$0")/testlib.sh"

A=$TMP/a
make_repo "$A" alpha
add_pkg "$A" tcp "TCP" 1.0.0 1.1.0
add_pkg "$A" ipv4 "IPv4" 1.0.0
# Old sources: outside the window where stat data cannot be trusted.
touch -d '1 hour ago' "$A/repo.json" "$A"/packages/*.json
export STITCH_DEBUG=index

run "first load" 0 st --repo "$A" show tcp
has "first load reads the source" "$ERR" "read from source"
n=$(ls "$ROOT/cache/index" 2>/dev/null | wc -l)
if [ "$n" -eq 1 ]; then pass "one compiled file written"; else fail "one compiled file written" "found $n"; fi
cache=$(ls "$ROOT"/cache/index/*.idx)
cp "$cache" "$TMP/cache.before"
run "second load" 0 st --repo "$A" show tcp
has "second load uses the cache" "$ERR" "read from the compiled cache"
same "cache not rewritten when unchanged" "$cache" "$TMP/cache.before"
run "a relative path shares the cache" 0 bash -c "cd '$TMP' && '$STITCH' --root '$ROOT' --repo a show tcp"
has "relative path uses the cache" "$ERR" "read from the compiled cache"

# Same size, same second: the edit must still be seen.
sed -i 's/"1.1.0"/"1.2.0"/' "$A/packages/tcp.json"
run "edited source" 0 st --repo "$A" show tcp
has "edit seen at once" "$OUT" "1.2.0"
has "edit read from source" "$ERR" "read from source"
run "edited source again" 0 st --repo "$A" show tcp
has "edit still seen" "$OUT" "1.2.0"
lacks "old version gone" "$OUT" "1.1.0"

# A touched but unchanged source is verified by hash, not re-parsed.
touch -d '30 minutes ago' "$A/packages/tcp.json"
run "touched source" 0 st --repo "$A" show tcp
has "touched source reuses the compiled form" "$ERR" "read from the compiled cache"

# New and deleted package files are noticed.
add_pkg "$A" arp "ARP" 1.0.0
run "added package seen" 0 st --repo "$A" show arp
rm "$A/packages/arp.json"
run "deleted package gone" 1 st --repo "$A" show arp

# A corrupt or truncated cache is rebuilt, not trusted.
cache=$(ls "$ROOT"/cache/index/*.idx)
head -c 100 "$cache" >"$TMP/trunc" && cp "$TMP/trunc" "$cache"
run "truncated cache" 0 st --repo "$A" show tcp
has "truncated cache: source read" "$ERR" "read from source"
has "truncated cache: right answer" "$OUT" "1.2.0"
python3 - "$cache" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
# Clobber the records after the header with large offsets.
for i in range(200, min(len(b), 400)):
    b[i] = 0xee
open(p, 'wb').write(bytes(b))
PY
run "corrupt cache" 0 st --repo "$A" show tcp
has "corrupt cache: right answer" "$OUT" "1.2.0"
echo garbage >"$cache"
run "garbage cache" 0 st --repo "$A" show tcp
has "garbage cache: right answer" "$OUT" "1.2.0"

# An unwritable cache is not an error.
R2=$TMP/root2
mkdir -p "$R2/cache" && echo file >"$R2/cache/index"
run "unwritable cache dir" 0 "$STITCH" --root "$R2" --repo "$A" show tcp

# A broken source is reported even when an old compiled form exists.
echo '{"name": "tcp", "versions": {]}' >"$A/packages/tcp.json"
run "broken source over a good cache" 1 st --repo "$A" show tcp
has "broken source named" "$ERR" "packages/tcp.json:1:30: invalid JSON"
