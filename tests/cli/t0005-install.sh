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
