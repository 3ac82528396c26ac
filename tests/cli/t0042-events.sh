#!/bin/bash
# Every --json line stitch prints is in share/doc/events.md: the commands of
# a CI job (init, repo, update, cache, source, pin, build with a pin,
# install, upgrade, remove (and one refused), log, rollback, lock, build
# --locked, test, test PKG, build --with-test, verify) run with
# --json, and each line of their stdout is checked against the schema
# blocks of the document: the event is documented, each field is
# documented with its type (and, for a closed set, one of its words), no
# required field is missing, and every seconds field is rounded to the
# millisecond.  The document's own examples are checked the same way.
# list, search and show print one JSON document each, checked against the
# document's "document:" blocks.  Loopback only; no root needed.
. "$(dirname "$0")/testlib.sh"
export TMPDIR=$TMP # what verify keeps goes away with the test

DOC=$TOP/share/doc/events.md
V=$TMP/validate.py
cat >"$V" <<'PY'
# validate.py DOC --examples | DOC FILE LABEL
# The schema format is described at the top of share/doc/events.md.
import json, re, sys

TYPES = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "string[]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "object[]": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
}

def is_seconds(k):
    return k == "seconds" or k.endswith("_seconds") or k.endswith(".seconds")

def rounded(v):
    return isinstance(v, (int, float)) and abs(v * 1000 - round(v * 1000)) < 1e-6

def parse(path):
    text = open(path).read()
    blocks = re.findall(r"^```(\w+)\n(.*?)^```", text, re.S | re.M)
    schemas, docs, examples, bad = {}, {}, [], []
    for kind, body in blocks:
        if kind == "json":
            examples += [l for l in body.splitlines() if l.strip()]
        if kind != "schema":
            continue
        lines = [l.strip() for l in body.splitlines() if l.strip() and not l.strip().startswith("#")]
        m = re.fullmatch(r"event: (\S+)(?: \((.+)\))?", lines[0]) if lines else None
        d = re.fullmatch(r"document: (\S+) \((array|object)\)", lines[0]) if lines else None
        if d:
            m = d
        elif not m:
            bad.append("schema block without an 'event: NAME' first line: %r" % body[:60])
            continue
        fields = {}
        for l in lines[1:]:
            f = re.fullmatch(r"([\w.]+(?:\.\*)?)(\??): ([\w\[\]|]+)(?: \[(.*)\])?", l)
            if not f:
                bad.append("event %s: bad schema line %r" % (m.group(1), l))
                continue
            types = f.group(3).split("|")
            for t in types:
                if t not in TYPES:
                    bad.append("event %s: unknown type %r in %r" % (m.group(1), t, l))
            fields[f.group(1)] = (f.group(2) == "?", types,
                                  f.group(4).split() if f.group(4) is not None else None)
        if d:
            docs[d.group(1)] = (d.group(2), fields)
        else:
            schemas.setdefault(m.group(1), []).append((m.group(2) or m.group(1), fields))
    return schemas, docs, examples, bad

def check_variant(o, fields):
    errs = []
    flat = {}
    for k, v in o.items():
        flat[k] = v
        if isinstance(v, dict) and k in fields and "object" in fields[k][1]:
            for k2, v2 in v.items():
                flat[k + "." + k2] = v2
    for k, v in flat.items():
        if k == "event":
            continue
        # A key that is data (it may hold dots): typed by its parent's "*".
        if k not in fields and "." in k and k.split(".", 1)[0] + ".*" in fields:
            k = k.split(".", 1)[0] + ".*"
        if k not in fields:
            errs.append("field %r: not documented" % k)
            continue
        opt, types, values = fields[k]
        if not any(TYPES[t](v) for t in types):
            errs.append("field %r: %s is not of type %s" % (k, json.dumps(v), "|".join(types)))
        elif is_seconds(k) and not rounded(v):
            errs.append("field %r: %s is not rounded to the millisecond" % (k, json.dumps(v)))
        elif values is not None and isinstance(v, str) and v not in values:
            errs.append("field %r: %r is not one of [%s]" % (k, v, " ".join(values)))
    for k, (opt, types, values) in fields.items():
        if k.endswith(".*"):
            continue
        parent = k.rsplit(".", 1)[0] if "." in k else None
        if parent is not None and not isinstance(o.get(parent), dict):
            continue
        if not opt and k not in flat:
            errs.append("field %r: required, missing" % k)
    return errs

def check(line, schemas):
    try:
        o = json.loads(line)
    except ValueError:
        return ["not JSON"]
    if not isinstance(o, dict) or next(iter(o), None) != "event":
        return ["not an object with \"event\" first"]
    ev = o["event"]
    if ev not in schemas:
        return ["event %r: not documented" % ev]
    best = None
    for name, fields in schemas[ev]:
        errs = check_variant(o, fields)
        if not errs:
            return []
        if best is None or len(errs) < len(best[1]):
            best = (name, errs)
    if len(schemas[ev]) > 1:
        return ["matches no form of %r; closest, %r: %s" % (ev, best[0], e) for e in best[1]]
    return best[1]

def check_document(text, doc):
    try:
        o = json.loads(text)
    except ValueError:
        return ["stdout is not one JSON document"]
    shape, fields = doc
    if shape == "array":
        if not isinstance(o, list):
            return ["not an array"]
        return ["element %d: %s" % (i, e) for i, x in enumerate(o, 1)
                for e in (check_variant(x, fields) if isinstance(x, dict) else ["not an object"])]
    if not isinstance(o, dict):
        return ["not an object"]
    return check_variant(o, fields)

def ok(name, errs):
    if errs:
        print("\n".join("# " + e for e in errs))
        print("not ok - " + name)
    else:
        print("ok - " + name)

schemas, docs, examples, bad = parse(sys.argv[1])
if bad:
    ok("events.md parses", bad)
    sys.exit(0)
errs = [] if examples else ["no ```json examples"]
def event_of(line):
    try:
        return json.loads(line).get("event")
    except (ValueError, AttributeError):
        return None
missing = sorted(e for e in schemas if not any(event_of(x) == e for x in examples))
if missing:
    errs.append("no example of event %s" % ", ".join(missing))
for n, line in enumerate(examples, 1):
    errs += ["example %d: %s\n#   %s" % (n, e, line) for e in check(line, schemas)]
ok("every example in events.md follows its schema", errs)
# Each command: a line "want<TAB>rc<TAB>document<TAB>name" in runs (document
# "-" for events), its stdout in N.out.
for n, run in enumerate(open(sys.argv[2] + "/runs").read().splitlines(), 1):
    want, rc, doc, name = run.split("\t", 3)
    text = open("%s/%d.out" % (sys.argv[2], n)).read()
    lines = text.splitlines()
    errs = [] if want == rc else ["exit %s, expected %s" % (rc, want)] + [
        "  stderr: " + l for l in open("%s/%d.err" % (sys.argv[2], n)).read().splitlines()[:8]]
    if doc != "-":
        if doc not in docs:
            errs.append("document %r: not in events.md" % doc)
        else:
            errs += check_document(text, docs[doc])
        ok(name, errs)
        continue
    if not lines:
        errs.append("no JSON lines on stdout")
    for i, line in enumerate(lines, 1):
        errs += ["stdout line %d: %s\n#   %s" % (i, e, line) for e in check(line, schemas)]
    ok(name, errs)
PY

# jrun NAME EXPECTED_EXIT CMD...: run CMD, keep its exit status and stdout
# for the check at the end (one python3 for all: it is slow to start).
# drun DOCUMENT NAME EXPECTED_EXIT CMD...: the same for a command printing
# the document DOCUMENT of events.md.
RUNS=$TMP/runs
mkdir -p "$RUNS"
: >"$RUNS/runs"
jrun() { drun - "$@"; }
drun() {
	local doc=$1 name=$2 want=$3 rc n
	shift 3
	n=$(($(wc -l <"$RUNS/runs") + 1))
	"$@" >"$RUNS/$n.out" 2>"$RUNS/$n.err"
	rc=$?
	printf '%s\t%s\t%s\t%s\n' "$want" "$rc" "$doc" "$name" >>"$RUNS/runs"
	[ -n "${EVENTS_DEBUG:-}" ] && { echo "== $name ($rc)"; cat "$RUNS/$n.out" "$RUNS/$n.err"; } >>"$EVENTS_DEBUG"
}

# ---- a repository of small C libraries ----
R=$TMP/repo
make_repo "$R" test
src_pkg "$R" ipv4 1.0.0
src_pkg "$R" tcp 1.0.0 "ipv4"
src_pkg "$R" udp 1.0.0 "ipv4"
src_pkg "$R" arp 1.0.0
platform_pkg "$R"

# ---- init, repo, update, cache ----
jrun "init --json" 0 st init --json
jrun "init --json again" 0 st init --json
jrun "repo add --json" 0 st repo add test "$R" --priority 50 --json
jrun "repo list --json" 0 st repo list --json
jrun "repo list --json with --repo" 0 st --repo "$R" repo list --json
jrun "repo export --json" 0 st repo export "$R" "$TMP/index.json" --json
mkdir -p "$TMP/packdir" && cp -R "$TMP/src/ipv4-1.0.0" "$TMP/packdir/"
jrun "repo pack --json" 0 st repo pack "$TMP/packdir/ipv4-1.0.0" -o "$TMP/ipv4.tar.gz" --json
make_repo "$TMP/r2" other
mkdir -p "$TMP/r2/src" && cp -R "$TMP/src/ipv4-1.0.0" "$TMP/r2/src/" && cp "$R/packages/ipv4.json" "$TMP/r2/packages/"
jrun "repo pack --update-index --json" 0 st repo pack "$TMP/r2/src/ipv4-1.0.0" --update-index --json

WWW=$TMP/www
mkdir -p "$WWW"
cp "$TMP/index.json" "$WWW/index.json"
cp "$TMP/index.json" "$WWW/gone.json"
faulty_server "$WWW"
st repo add web "$URL/etag/index.json" >/dev/null 2>&1
st repo add gone "$URL/etag/gone.json" >/dev/null 2>&1
echo >>"$WWW/index.json"
rm "$WWW/gone.json"
jrun "update --json, one changed, one failing" 1 st update --json
jrun "repo remove --json" 0 st repo remove gone --json
st repo remove web >/dev/null 2>&1

jrun "cache --json" 0 st cache --json
jrun "cache remote --json" 0 st cache remote "$URL/cache" --read-only --json
jrun "cache remote --off --json" 0 st cache remote --off --json

# ---- a project with a pin ----
PROJ=$TMP/proj
value_project "$PROJ" tcp '{"name": "app", "depends": ["tcp"], "sources": ["main.c"], "test": ["sh", "-c", "exit 0"]}'
cd "$PROJ" || exit 1
s() { st --repo "$R" "$@"; }

jrun "source --json" 0 s source ipv4=1.0.0 "$TMP/unpacked" --json
jrun "pin add --json" 0 s pin add ipv4 --json
jrun "build --json with a pin (first build)" 0 s build --json
jrun "pin list --json" 0 s pin list --json
sed -i 's/return 1/return 5/' ipv4/ipv4.c
jrun "pin list --json after an edit" 0 s pin list --json
jrun "build --json --explain after an edit of the pin" 0 s build --json --explain
jrun "build --json, nothing to do" 0 s build --json
jrun "test --json" 0 s test --json
# set_test CMD...: every version of tcp gets this "test" command.
set_test() { python3 - "$R/packages/tcp.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for v in d["versions"].values():
    v["test"] = [sys.argv[2:]]
json.dump(d, open(sys.argv[1], "w"))
PY
}
set_test true
sed -i 's/return 5/return 6/' ipv4/ipv4.c
jrun "build --with-test --json, the pin rebuilt" 0 s build --with-test --json
jrun "test PKG --json, one without tests" 0 s test ipv4 tcp --json

# ---- install, upgrade, remove (in the project's switch) ----
jrun "install --dry-run --json" 0 s install udp --dry-run --json
jrun "install --json" 0 s install udp --json
src_pkg "$R" udp 1.1.0 "ipv4"
jrun "upgrade --dry-run --json" 0 s upgrade --dry-run --json
jrun "upgrade --json" 0 s upgrade --json
jrun "install --json, a downgrade" 0 s install "udp {= 1.0.0}" --json
jrun "remove --dry-run --json" 0 s remove udp --dry-run --json
jrun "remove --json" 0 s remove udp --json
jrun "install --json, from the artifact cache" 0 s install udp --json
jrun "remove --json, refused: packages installed by name would go" 1 s remove ipv4 --recursive --json
jrun "log --json" 0 s log --json
drun list "list --json" 0 s list --json
drun search "search --json" 0 s search --json i
drun search "search --json, no match" 1 s search --json nosuchthing
drun show "show --json, installed" 0 s show --json udp
drun show "show --json, not installed" 0 s show --json arp
jrun "rollback --dry-run --json" 0 s rollback 1 --dry-run --json
jrun "rollback --json, to the newest operation" 0 s rollback "$(s log -n 1 --json | sed -n '1s/^{"event":"log","id":\([0-9]*\),.*/\1/p')" --json

# ---- pin remove, lock, build --locked, verify ----
jrun "pin remove --json" 0 s pin remove ipv4 --json
jrun "lock --json" 0 s lock --json
jrun "lock --json again" 0 s lock --json
jrun "lock --check --json" 0 s lock --check --json
sed -i 's/"depends": \["tcp"\]/"depends": ["tcp", "udp"]/' unikernel.json
jrun "lock --check --json, stale" 1 s lock --check --json
jrun "lock --json, updated" 0 s lock --json
src_pkg "$R" tcp 1.1.0 "ipv4"
jrun "lock --upgrade --json" 0 s lock --upgrade --json
jrun "build --locked --explain --json" 0 s build --locked --explain --json
jrun "verify --json" 0 s verify --json

# ---- failures: a broken library, a dead cache, no solution, a broken project ----
SRC_BUILD_EXTRA="false" src_pkg "$R" ipv4 1.1.0
s cache remote http://127.0.0.1:9/cache >/dev/null 2>&1
jrun "install --json, a build fails, the remote cache unreachable" 1 s install "ipv4 {>= 1.1}" --json
s cache remote --off >/dev/null 2>&1
jrun "install --json, no solution" 3 s install "udp {> 9}" --json
jrun "solve --json, no solution" 3 s solve "udp {> 9}" tpc --json
cp main.c "$TMP/main.c"
echo 'syntax error' >>main.c
jrun "build --json, the link fails" 1 s build --json
cp "$TMP/main.c" main.c
sed -i 's/"exit 0"/"kill -9 $$"/' unikernel.json
jrun "test --json, killed" 1 s test --json
set_test sh -c "echo tcp_rto: expected 200, got 0; exit 3"
jrun "test PKG --json, failing" 1 s test tcp --json
jrun "pin add --json, a package not built" 0 s pin add arp --json
jrun "build --json, an unused pin" 0 s build --json
mv arp "$TMP/arp.away"
jrun "pin list --json, a pin's directory gone" 0 s pin list --json
mv "$TMP/arp.away" arp

# ---- cache clean ----
jrun "cache clean --unused-days --json" 0 s cache clean --unused-days 1 --json
jrun "cache clean --json" 0 s cache clean --json

python3 "$V" "$DOC" "$RUNS"
