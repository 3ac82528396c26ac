#!/bin/bash
# Early cutoff past comments: after a pinned library is rebuilt, an edit to
# an installed header that the compiler does not see (comments, layout)
# keeps its dependents, and the message names the header and says why;
# a change to a macro, a declaration, a string's spaces or a `#pragma once`
# still rebuilds them, naming the header.
. "$(dirname "$0")/testlib.sh"

R=$TMP/repo
make_repo "$R" test
SRC_HEADER_EXTRA='#define IPV4_MTU 1500 /* bytes */
#define IPV4_NAME "ip v4"' src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4"
src_pkg "$R" udp 1.0.0 "ipv4"
platform_pkg "$R"
PROJ=$TMP/proj
mkdir -p "$PROJ"
cat >"$PROJ/unikernel.json" <<'J'
{"name": "app", "depends": ["tcp", "udp"], "sources": ["main.c"]}
J
cat >"$PROJ/main.c" <<'C'
#include <tcp.h>
#include <udp.h>
int plat_app_main(void) { return tcp_hello() + udp_hello() == 4 ? 0 : 1; }
C
cd "$PROJ" || exit 1
s() { st --repo "$R" "$@"; }
events() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "package" and e["name"] != "platform-unix":
        print(e["name"], e["action"] + ":", e.get("reason", ""))
' "$OUT"; }
H=ipv4/ipv4.h

run "first build" 0 s build
run "pin ipv4" 0 s pin add ipv4
run "build the pin" 0 s build

# expect NAME WANT: the packages' lines of the last --json build, sorted (tcp
# and udp build at once), are exactly WANT.
expect() {
	if [ "$(events | sort)" = "$2" ]; then pass "$1"; else fail "$1" "got: $(events | sort | tr '\n' '|')"; fi
}

# Comments: a new one, an edited one, one inside a #define line.
sed -i 's|^#endif|/* Routes are looked up\n * longest prefix first. */\n#endif|' "$H"
sed -i 's|/\* bytes \*/|/* bytes on the wire, IP header included */|' "$H"
run "a comment edit" 0 s build --json
expect "dependents kept, the header named, and why" "ipv4 rebuilt: 1 file changed (ipv4.h)
tcp kept: interface of ipv4 unchanged: include/ipv4.h differs only in comments or whitespace
udp kept: interface of ipv4 unchanged: include/ipv4.h differs only in comments or whitespace"

# Whitespace: runs of spaces and tabs, indentation, blank lines.
sed -i 's|^int ipv4_hello(void);|\n   int \t ipv4_hello(void);   \n|' "$H"
sed -i 's|^#define IPV4_MTU 1500|#define  IPV4_MTU\t1500|' "$H"
run "a whitespace edit" 0 s build
has "text: kept, saying why" "$OUT" "tcp 1.0.0: kept (interface of ipv4 unchanged: include/ipv4.h differs only in comments or whitespace)"
lacks "tcp not rebuilt" "$OUT" "tcp 1.0.0: rebuilt"

# A macro's value.
sed -i 's|IPV4_MTU\t1500|IPV4_MTU\t9000|' "$H"
run "a macro edit" 0 s build --json
expect "dependents rebuilt, the header named" "ipv4 rebuilt: 1 file changed (ipv4.h)
tcp rebuilt: interface of ipv4 changed in include/ipv4.h
udp rebuilt: interface of ipv4 changed in include/ipv4.h"

# A declaration.
sed -i 's|^#endif|int ipv4_route(unsigned addr);\n#endif|' "$H"
run "a new declaration" 0 s build --json
has "tcp rebuilt for a declaration" "$OUT" '"name":"tcp","version":"1.0.0","action":"rebuilt","change":"rebuild","reason":"interface of ipv4 changed in include/ipv4.h"'

# Spaces inside a string literal are what the compiler sees.
sed -i 's|"ip v4"|"ip  v4"|' "$H"
run "spaces in a string" 0 s build --json
has "tcp rebuilt for a string's spaces" "$OUT" '"name":"tcp","version":"1.0.0","action":"rebuilt"'

# `#pragma once` counts, though the preprocessor takes it in its main file.
sed -i '1i #pragma once' "$H"
run "a #pragma once" 0 s build --json
has "tcp rebuilt for #pragma once" "$OUT" '"name":"tcp","version":"1.0.0","action":"rebuilt"'

# A header file added to what ipv4 installs: named, with the count.
sed -i 's|^#endif|/* a comment again */\n#endif|' "$H"
printf '#define IPV4_EXTRA 1\n' >ipv4/ipv4_extra.h
sed -i 's|cp ipv4.h |cp ipv4.h ipv4_extra.h |' ipv4/Makefile
run "a header added, another's comment edited" 0 s build --json
has "the added header named" "$OUT" '"reason":"interface of ipv4 changed in include/ipv4_extra.h"'

# A .c edit changes no installed header: kept, as before, nothing named.
sed -i 's/return 1/return 2/' ipv4/ipv4.c
run "a .c edit" 0 s build --json
expect "kept, no file named" "ipv4 rebuilt: 1 file changed (ipv4.c)
tcp kept: interface of ipv4 unchanged
udp kept: interface of ipv4 unchanged"
