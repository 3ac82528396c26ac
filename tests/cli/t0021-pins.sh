#!/bin/bash
# Pins and the fast loop on a small project: edit a pinned library, rebuild
# only what needs it, relink; header edits rebuild dependents; errors keep
# the previous image; pin remove goes back to the release; watch rebuilds.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4"
platform_pkg "$R"
PROJ=$TMP/proj
value_project "$PROJ" tcp '{"name": "app", "depends": ["tcp"], "sources": ["main.c"], "test": ["sh", "-c", "$STITCH_IMAGE"]}'
cd "$PROJ" || exit 1
s() { st --repo "$R" "$@"; }
events() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "package":
        print(e["name"], e["action"], e.get("reason", ""))
    elif e["event"] == "link":
        print("link", e["sha256"])
' "$OUT"; }

run "release build" 0 s build
release=$(sha256sum _build/app.unix | cut -d' ' -f1)
if [ "$(_build/app.unix)" = "value 2" ]; then pass "release image runs"; else fail "release image runs" "$(_build/app.unix)"; fi

run "pin add unpacks the release" 0 s pin add ipv4
has "pin add says where" "$OUT" "pinned ipv4 1.0.0 to $PROJ/ipv4"
if [ -f "$PROJ/ipv4/ipv4.c" ]; then pass "source unpacked into ./ipv4"; else fail "source unpacked into ./ipv4" "missing"; fi
run "pin list" 0 s pin list
has "pin list shows path and state" "$OUT" "$PROJ/ipv4 (unchanged since pinned)"
run "first build of the pin" 0 s build --json
events >"$TMP/ev"; cp "$TMP/ev" "$TMP/ev.last"
has "pinned package built from its tree" "$TMP/ev" "ipv4 rebuilt newly pinned"
has "tcp kept: same interface" "$TMP/ev" "tcp kept interface of ipv4 unchanged"
has "same image as the release" "$TMP/ev" "link $release"
run "no-op build" 0 s build --json
events >"$TMP/ev"; cp "$TMP/ev" "$TMP/ev.last"
has "no-op keeps ipv4" "$TMP/ev" "ipv4 kept up to date"

# A .c edit: ipv4 rebuilds, tcp stays, the image changes and behaves differently.
sed -i 's/return 1/return 40/' ipv4/ipv4.c
run "build after a .c edit" 0 s build --json
events >"$TMP/ev"; cp "$TMP/ev" "$TMP/ev.last"
has "ipv4 rebuilt for the edit" "$TMP/ev" "ipv4 rebuilt 1 file changed (ipv4.c)"
has "tcp kept after a .c edit" "$TMP/ev" "tcp kept interface of ipv4 unchanged"
if [ "$(_build/app.unix)" = "value 41" ]; then pass "edited image behaves differently"; else fail "edited image behaves differently" "$(_build/app.unix)"; fi
run "build says the pin changed" 0 s build
has "build shows the pin's path and state" "$OUT" "pin ipv4 1.0.0: $PROJ/ipv4 (changed since pinned)"
run "pin list sees the change" 0 s pin list
has "changed since pinned" "$OUT" "(changed since pinned)"
grep -q "cc .*ipv4.o\|ipv4.c" "$PROJ/_stitch/.stitch/logs/ipv4-1.0.0.log" && pass "build log written" || fail "build log written" "no log"

# A header edit rebuilds the dependent.
echo "int ipv4_extra(void);" >>ipv4/ipv4.h
run "build after a header edit" 0 s build --json
events >"$TMP/ev"; cp "$TMP/ev" "$TMP/ev.last"
has "tcp rebuilt for the header" "$TMP/ev" "tcp rebuilt interface of ipv4 changed"

# A compile error keeps the previous image and shows the compiler's words.
cp _build/app.unix "$TMP/before"
echo "int broken(" >>ipv4/ipv4.c
run "broken pinned source" 1 s build
has "compiler error shown" "$ERR" "ipv4.c"
has "previous image kept" "$ERR" "the previous image, if any, is unchanged"
same "image untouched" _build/app.unix "$TMP/before"

# Reverting every edit returns to the original image.
sed -i '$d' ipv4/ipv4.c
sed -i '$d' ipv4/ipv4.h
sed -i 's/return 40/return 1/' ipv4/ipv4.c
run "build after reverting" 0 s build
if [ "$(sha256sum _build/app.unix | cut -d' ' -f1)" = "$release" ]; then
	pass "reverted tree gives the release image"
else
	fail "reverted tree gives the release image" "different hash"
fi

# pin remove goes back to the release build.
sed -i 's/return 1/return 7/' ipv4/ipv4.c
run "build with an edit" 0 s build
run "pin remove" 0 s pin remove ipv4
has "pin remove takes the release build from the artifact cache" "$OUT" "ipv4 1.0.0: from the local artifact cache"
run "build after pin remove" 0 s build
if [ "$(_build/app.unix)" = "value 2" ]; then pass "release behaviour back"; else fail "release behaviour back" "$(_build/app.unix)"; fi
run "no pins left" 0 s pin list
has "pin list empty" "$ERR" "no pins"

# A pin that breaks resolution is refused, and nothing changes.
src_pkg "$R" ipv4 2.0.0
python3 - "$R/packages/tcp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["versions"]["1.0.0"]["depends"] = ["ipv4 {< 2.0}"]
json.dump(d, open(sys.argv[1], "w"))
PY
mkdir -p "$TMP/v2" && tar -C "$TMP/v2" -xzf "$R/archives/ipv4-2.0.0.tar.gz"
printf '{"name": "ipv4", "versions": {"2.0.0": {"source": {"url": "x.tar.gz"}}}}\n' >"$TMP/v2/ipv4-2.0.0/stitch.json"
run "conflicting pin refused" 3 s pin add ipv4 "$TMP/v2/ipv4-2.0.0"
has "refusal names the pin" "$ERR" "pinning ipv4 2.0.0 breaks the resolution"
has "refusal explains" "$ERR" "tcp 1.0.0 depends on ipv4 < 2.0"
run "still no pins" 0 s pin list
has "nothing changed" "$ERR" "no pins"

# A checkout's own stitch.json: its version and recipe are used, even a
# version no repository has.
mkdir -p "$TMP/dev" && tar -C "$TMP/dev" -xzf "$R/archives/ipv4-1.0.0.tar.gz"
cat >"$TMP/dev/ipv4-1.0.0/stitch.json" <<'J'
{"name": "ipv4", "versions": {"1.0.5~dev": {"source": {"url": "."},
 "build": [["make", "PREFIX=%{prefix}%"]],
 "install": [["make", "install", "PREFIX=%{prefix}%"],
             ["sh", "-c", "mkdir -p \"$DESTDIR$PREFIX/share\" && echo %{version}% > \"$DESTDIR$PREFIX/share/ipv4-dev\""]]}}}
J
run "pin a checkout with stitch.json" 0 s pin add ipv4 "$TMP/dev/ipv4-1.0.0"
has "its version is used" "$OUT" "pinned ipv4 1.0.5~dev"
run "build with the checkout's recipe" 0 s build
has "built at the checkout's version" "$OUT" "pin ipv4 1.0.5~dev"
if [ "$(cat "$PROJ/_stitch/share/ipv4-dev" 2>/dev/null)" = "1.0.5~dev" ]; then
	pass "the checkout's install recipe ran"
else
	fail "the checkout's install recipe ran" "no share/ipv4-dev"
fi
run "back to the release" 0 s pin remove ipv4
if [ ! -e "$PROJ/_stitch/share/ipv4-dev" ]; then pass "release build has no dev file"; else fail "release build has no dev file" "still there"; fi

# A pin outside what gets built is never silently ignored.
run "pin a package the project does not use" 0 s pin add platform-unix "$TMP/src/platform-unix-1.0.0"
src_pkg "$R" unused 1.0.0
mkdir -p "$TMP/u" && tar -C "$TMP/u" -xzf "$R/archives/unused-1.0.0.tar.gz"
run "pin an unused package" 0 s pin add unused "$TMP/u/unused-1.0.0"
run "build with an unused pin" 0 s build
has "unused pin warned about" "$ERR" "warning: pin unused 1.0.0 at $TMP/u/unused-1.0.0: not part of what gets built"
run "drop the unused pin" 0 s pin remove unused
run "drop the platform pin" 0 s pin remove platform-unix

# watch picks up an edit.
run "pin again" 0 s pin add ipv4 "$PROJ/ipv4"
s build >/dev/null 2>&1
"$STITCH" --root "$ROOT" --repo "$R" watch >"$TMP/watch.out" 2>&1 &
wpid=$!
for _ in $(seq 1 100); do grep -q "ok in" "$TMP/watch.out" && break; sleep 0.1; done
sed -i 's/return 7/return 9/' ipv4/ipv4.c
for _ in $(seq 1 150); do [ "$(grep -c "ok in" "$TMP/watch.out")" -ge 2 ] && break; sleep 0.1; done
kill -INT $wpid
wait $wpid
rc=$?
if [ "$rc" -eq 0 ]; then pass "watch stops cleanly on Ctrl-C"; else fail "watch stops cleanly on Ctrl-C" "exit $rc"; fi
has "watch saw the edit" "$TMP/watch.out" "ipv4.c: building"
has "watch said it stopped" "$TMP/watch.out" "stopped watching"
if [ "$(_build/app.unix)" = "value 10" ]; then pass "watch rebuilt the image"; else fail "watch rebuilt the image" "$(_build/app.unix)"; fi
