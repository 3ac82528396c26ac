#!/bin/bash
# What a package puts in the switch stays in the switch: a pinned checkout
# with a link out of it is refused, an install making a link out of the
# switch is refused, and an install that ignores DESTDIR fails naming the
# package and leaves the switch as it was.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
SW=$TMP/sw
st init --switch "$SW" >/dev/null
s() { env STITCH_NO_CACHE=1 "$STITCH" --root "$ROOT" --repo "$R" --switch "$SW" "$@"; }
snapshot() { (cd "$SW" && find . -path ./.stitch -prune -o -print | sort) >"$1"; }
unchanged() { # unchanged NAME BEFORE
	local now=$TMP/snap.now
	snapshot "$now"
	if cmp -s "$2" "$now"; then pass "$1"; else fail "$1" "$(diff "$2" "$now" | head -5)"; fi
}

# A pinned checkout: links inside it are fine, links out of it are not.
src_pkg "$R" lnk 1.0.0
mkdir -p "$TMP/co"
tar -C "$TMP/co" -xzf "$R/archives/lnk-1.0.0.tar.gz"
CO=$TMP/co/lnk-1.0.0
echo "outside" >"$TMP/co/outside.txt"
ln -s lnk.h "$CO/alias.h"
run "a pin with a link inside its checkout builds" 0 s pin add lnk "$CO"
run "and installs" 0 s install lnk
if [ -f "$SW/lib/liblnk.a" ]; then pass "pinned lnk installed"; else fail "pinned lnk installed" "no liblnk.a"; fi
snapshot "$TMP/snap.pin"
ln -s ../outside.txt "$CO/escape.txt"
run "a link out of the checkout is refused" 1 s install lnk
has "the refusal names the link" "$ERR" "'$CO/escape.txt' is a symbolic link to '../outside.txt', outside the pinned tree"
unchanged "the switch is unchanged after the refused pin" "$TMP/snap.pin"
rm "$CO/escape.txt"
ln -s /etc/passwd "$CO/passwd"
run "an absolute link is refused" 1 s install lnk
has "the absolute link is named" "$ERR" "'$CO/passwd' is a symbolic link to '/etc/passwd'"
rm "$CO/passwd"
# "here" is the checkout itself, so here/../outside.txt is outside, though
# it does not read so.
ln -s . "$CO/here"
ln -s here/../outside.txt "$CO/sneaky.txt"
run "a link out through another link is refused" 1 s install lnk
has "the sneaky link is named" "$ERR" "'$CO/sneaky.txt' is a symbolic link to 'here/../outside.txt'"
rm "$CO/here" "$CO/sneaky.txt"
run "drop the pin" 0 s pin remove lnk
run "remove lnk" 0 s remove lnk

# Installed links.  ok: relative and absolute inside the switch; the others
# lead out of it.
linkpkg() { # linkpkg NAME TARGET: a package installing include/NAME.h -> TARGET
	mkdir -p "$TMP/src/$1-1.0.0"
	echo "int x;" >"$TMP/src/$1-1.0.0/real.h"
	tar -C "$TMP/src" -czf "$R/archives/$1-1.0.0.tar.gz" "$1-1.0.0"
	python3 - "$R" "$1" "$2" <<'PY'
import hashlib, json, sys
repo, name, target = sys.argv[1:]
arc = "archives/%s-1.0.0.tar.gz" % name
sha = hashlib.sha256(open(repo + "/" + arc, "rb").read()).hexdigest()
inst = 'mkdir -p "$DESTDIR$PREFIX/include" && cp real.h "$DESTDIR$PREFIX/include/%s-real.h" && ln -s "$1" "$DESTDIR$PREFIX/include/%s.h"' % (name, name)
d = {"name": name, "synopsis": name, "versions": {"1.0.0": {
    "source": {"url": arc, "sha256": sha}, "depends": [], "build": [],
    "install": [["sh", "-c", inst, "-", target]]}}}
json.dump(d, open(repo + "/packages/" + name + ".json", "w"))
PY
}
linkpkg okrel okrel-real.h
linkpkg okabs "$SW/include/okabs-real.h"
linkpkg badabs /etc/passwd
linkpkg badrel ../../outside
linkpkg badself "$SW/../outside"
run "a relative link inside the switch installs" 0 s install okrel
if [ "$(readlink "$SW/include/okrel.h")" = okrel-real.h ]; then pass "relative link in place"; else fail "relative link in place" "$(ls -l "$SW/include")"; fi
run "an absolute link inside the switch installs" 0 s install okabs
snapshot "$TMP/snap.links"
for p in badabs badrel badself; do
	run "$p: a link out of the switch is refused" 1 s install $p
	has "$p: the refusal names the package and the file" "$ERR" "install of '$p 1.0.0' made a symbolic link 'include/$p.h' to"
	unchanged "$p: the switch is unchanged" "$TMP/snap.links"
done
run "doctor is clean after the refused links" 0 s doctor

# An install that ignores DESTDIR.
mkdir -p "$TMP/src/nodest-1.0.0" "$TMP/src/nothing-1.0.0"
echo x >"$TMP/src/nodest-1.0.0/file"
echo x >"$TMP/src/nothing-1.0.0/file"
for p in nodest nothing; do
	tar -C "$TMP/src" -czf "$R/archives/$p-1.0.0.tar.gz" "$p-1.0.0"
done
python3 - "$R" <<'PY'
import hashlib, json, sys
repo = sys.argv[1]
for name, inst in [("nodest", [["sh", "-c", "mkdir -p %{prefix}%/share && cp file %{prefix}%/share/nodest"]]),
                   ("nothing", [["true"]])]:
    arc = "archives/%s-1.0.0.tar.gz" % name
    sha = hashlib.sha256(open(repo + "/" + arc, "rb").read()).hexdigest()
    d = {"name": name, "synopsis": name, "versions": {"1.0.0": {
        "source": {"url": arc, "sha256": sha}, "depends": [], "build": [], "install": inst}}}
    json.dump(d, open(repo + "/packages/" + name + ".json", "w"))
PY
run "an install that stages nothing fails" 1 s install nothing
has "it names the package and asks about DESTDIR" "$ERR" "install of 'nothing 1.0.0' installed no files into the staging directory; does its install step honour DESTDIR?"
unchanged "nothing: the switch is unchanged" "$TMP/snap.links"
run "an install into the switch itself fails in the sandbox" 1 s install nodest
has "it names the package" "$ERR" "install of 'nodest 1.0.0' failed"
has "the switch is read-only to it" "$ERR" "Read-only file system"
unchanged "nodest: the switch is unchanged" "$TMP/snap.links"
run "without the sandbox the empty staging is caught" 1 s --no-sandbox install nodest
has "and named" "$ERR" "install of 'nodest 1.0.0' installed no files into the staging directory"
rm -f "$SW/share/nodest"

# An install that makes a set-id program.
snapshot "$TMP/snap.suid"
mkdir -p "$TMP/src/suid-1.0.0"
echo x >"$TMP/src/suid-1.0.0/file"
tar -C "$TMP/src" -czf "$R/archives/suid-1.0.0.tar.gz" suid-1.0.0
python3 - "$R" <<'PY'
import hashlib, json, sys
repo = sys.argv[1]
arc = "archives/suid-1.0.0.tar.gz"
sha = hashlib.sha256(open(repo + "/" + arc, "rb").read()).hexdigest()
inst = 'mkdir -p "$DESTDIR$PREFIX/bin" && cp file "$DESTDIR$PREFIX/bin/suid" && chmod 4755 "$DESTDIR$PREFIX/bin/suid"'
d = {"name": "suid", "synopsis": "suid", "versions": {"1.0.0": {
    "source": {"url": arc, "sha256": sha}, "depends": [], "build": [],
    "install": [["sh", "-c", inst]]}}}
json.dump(d, open(repo + "/packages/suid.json", "w"))
PY
run "an install that makes a set-user-id program fails" 1 s install suid
has "it names the package, the file and the mode" "$ERR" "install of 'suid 1.0.0' made a set-id file 'bin/suid' (mode 4755)"
unchanged "suid: the switch is unchanged" "$TMP/snap.suid"
run "doctor is clean after the failed installs" 0 s doctor
