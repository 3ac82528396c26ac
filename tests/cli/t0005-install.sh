#!/bin/bash
# make install puts the binary, share/ and the bundled index where the
# installed binary finds them, DESTDIR or not.
. "$(dirname "$0")/testlib.sh"

run "make install" 0 make -s -C "$TOP" install PREFIX=/opt/stitch DESTDIR="$TMP/dest"
bin=$TMP/dest/opt/stitch/bin/stitch
if [ -x "$bin" ]; then pass "binary installed"; else fail "binary installed" "no $bin"; fi
if [ -f "$TMP/dest/opt/stitch/share/stitch/repo-index/repo.json" ]; then
	pass "bundled index installed"
else
	fail "bundled index installed" "no repo.json"
fi
run "installed binary runs" 0 "$bin" --root "$ROOT" repo list
has "installed binary finds its bundled index" "$OUT" "$TMP/dest/opt/stitch/share/stitch/repo-index (bundled)"
run "make install twice" 0 make -s -C "$TOP" install PREFIX=/opt/stitch DESTDIR="$TMP/dest"
if [ ! -e "$TMP/dest/opt/stitch/share/stitch/repo-index/repo-index" ]; then
	pass "reinstall does not nest the index"
else
	fail "reinstall does not nest the index" "nested copy"
fi

# Packages that do not depend on each other build at the same time: each of
# left and right waits for the other to have started (a handshake, not a
# timing), which only works when both builds run at once; top needs both.
# The handshake is a directory both builds write to, which the sandbox
# rightly forbids: this check of the scheduler runs without it.
HS=$TMP/handshake
mkdir -p "$HS"
RP=$TMP/par
make_repo "$RP" par
SRC_BUILD_EXTRA="touch $HS/left; for i in \$\$(seq 300); do [ -e $HS/right ] && exit 0; sleep 0.1; done; exit 1" \
	src_pkg "$RP" left 1.0.0
SRC_BUILD_EXTRA="touch $HS/right; for i in \$\$(seq 300); do [ -e $HS/left ] && exit 0; sleep 0.1; done; exit 1" \
	src_pkg "$RP" right 1.0.0
src_pkg "$RP" top 1.0.0 left right
st init --switch "$TMP/swpar" >/dev/null
run "independent packages build at once" 0 env STITCH_JOBS=2 "$STITCH" --no-sandbox --root "$ROOT" --repo "$RP" --switch "$TMP/swpar" install top --json
if python3 - "$OUT" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
order = [(e["event"], e["name"]) for e in ev if e["event"] in ("building", "package")]
# both started before either finished; top after both
first_done = min(i for i, (k, n) in enumerate(order) if k == "package")
started = {n for k, n in order[:first_done] if k == "building"}
top = order.index(("building", "top"))
assert started == {"left", "right"}, order
assert top > order.index(("package", "left")) and top > order.index(("package", "right")), order
PY
then pass "both started before either finished, top after both"; else fail "both started before either finished, top after both" "$(cat "$OUT")"; fi
