/*
 * stitch: the entry point.  One table lists every subcommand; its flags say
 * what set-up the command needs (git's cmd_struct with RUN_SETUP).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "archive.h"
#include "cmd.h"
#include "config.h"
#include "fetch.h"
#include "progress.h"
#include "util.h"

#ifndef STITCH_VERSION
#define STITCH_VERSION "unknown"
#endif

static const struct cmd_entry commands[] = {
    {"__complete", cmd_complete, NEED_ROOT | NEED_INDEX | CMD_HIDDEN,
     "package names for shell completion", "usage: stitch __complete packages\n"},
    {"build", cmd_build, NEED_ROOT | NEED_INDEX, "build the unikernel project here into an image",
     "usage: stitch build [--target T] [--json] [-j N] [--locked [--allow-pins]]\n"
     "                    [--explain] [--with-test[=pinned]]\n"
     "\n"
     "In a project (a directory with unikernel.json, or below one): installs\n"
     "what the project depends on into its own switch (_stitch/, made on first\n"
     "use), runs its generate commands, compiles its sources and links them\n"
     "with their libraries and the target's platform into _build/NAME.TARGET,\n"
     "with NAME.TARGET.manifest.json beside it.  Prints the image's path and\n"
     "SHA-256.  A failed build keeps the previous image.  Built packages go to\n"
     "the artifact cache (see stitch cache) and are taken from it when their\n"
     "build hash is there.\n"
     "\n"
     "  --target T    unix (a Linux process), spt (a static process sealed with\n"
     "                seccomp) or virtio (a QEMU virtual machine): the targets\n"
     "                of share/targets.json; default: \"target\" in unikernel.json\n"
     "  --locked      install exactly what stitch.lock says, without resolving;\n"
     "                fails naming the package when a locked version is missing,\n"
     "                a checksum or recipe differs, or a path pin is present\n"
     "  --allow-pins  with --locked: accept path pins\n"
     "  --explain     for each package built, say which input of its build hash\n"
     "                differs from the closest artifact in the cache\n"
     "  --with-test   run the own tests (\"test\" in its recipe) of each package\n"
     "                this build built or rebuilt, in its build tree, before\n"
     "                linking; stops at the first failure, keeping the previous\n"
     "                image; =pinned: only those of pinned packages\n"
     "  --json        one event a line\n"},
    {"cache", cmd_cache, NEED_ROOT, "the artifact cache, local and shared",
     "usage: stitch cache [status] [--json]\n"
     "       stitch cache remote URL [--read-only] [--json]\n"
     "       stitch cache remote --off [--json]\n"
     "       stitch cache clean [--unused-days N] [--json]\n"
     "\n"
     "Every package stitch builds from a release is kept in <root>/cache/artifacts\n"
     "by its build hash (its source, recipe, target, compiler and the interfaces\n"
     "of its dependencies); a later install with the same build hash unpacks it\n"
     "instead of building.  Pinned packages are never cached.\n"
     "\n"
     "  remote URL   also use a shared cache over HTTP (any server taking GET\n"
     "               and PUT, e.g. nginx with WebDAV): stitch GETs before\n"
     "               building and PUTs what it built (not with --read-only).\n"
     "               What comes back is checked against its hashes; anything\n"
     "               else is rejected and the package is built.\n"
     "  clean        empty the local cache; with --unused-days N, remove only\n"
     "               the artifacts no build has used for N days\n"
     "  --json       one JSON object a line\n"
     "\n"
     "STITCH_NO_CACHE=1 turns the cache off for one command.\n"},
    {"doctor", cmd_doctor, NEED_ROOT | NEED_SWITCH_RO, "check installed files against their hashes",
     "usage: stitch doctor [--json]\n"
     "\n"
     "Checks every file of every installed package against the SHA-256 and\n"
     "mode recorded when it was installed, and lists what is missing or changed.\n"
     "Exit status 1 when anything is wrong.\n"},
    {"env", cmd_env, NEED_ROOT | NEED_SWITCH_RO,
     "the switch's variables for eval \"$(stitch env)\"",
     "usage: stitch env [--shell sh|fish] [--json]\n"
     "\n"
     "Prints PKG_CONFIG_PATH, CPATH, LIBRARY_PATH and PATH with the switch's\n"
     "directories first, before the current values (without the switch's own\n"
     "entries, so evaluating it twice adds nothing), quoted for the shell.\n"},
    {"exec", cmd_exec, NEED_ROOT | NEED_SWITCH_RO, "run a command with the switch's variables",
     "usage: stitch exec -- CMD [ARGS...]\n"
     "\n"
     "Runs CMD with the variables of stitch env; its exit status is stitch's.\n"
     "A command that cannot be found exits 127, as in a shell.\n"},
    {"init", cmd_init, NEED_ROOT, "create a switch",
     "usage: stitch init [--switch DIR] [--json]\n"
     "\n"
     "Creates the default switch (<root>/switches/default), or with --switch a\n"
     "switch at DIR: a project keeps its own in _stitch/, which stitch finds by\n"
     "walking up from the working directory.\n"
     "\n"
     "  --json  print {\"event\": \"init\", \"switch\": DIR, \"action\": \"created\" or\n"
     "          \"exists\"}\n"},
    {"install", cmd_install, NEED_ROOT | NEED_INDEX, "install packages into the switch",
     "usage: stitch install REQ... [--dry-run] [--json] [-j N] [--upgrade]\n"
     "                      [--pin NAME=VERSION]...\n"
     "       stitch install --dry-run REQ... --installed NAME=VERSION...\n"
     "\n"
     "Resolves the requirements REQ (e.g. 'http {>= 2}') together with what is\n"
     "installed, fetches every new source at once (SHA-256 verified), builds in\n"
     "dependency order and installs each package into the switch as a whole.\n"
     "Installed packages stay installed, at their version unless --upgrade; a\n"
     "package is rebuilt when the interface of a dependency changed.\n"
     "\n"
     "A plan that downgrades a package installed by name, other than by a REQ\n"
     "that names it and excludes its version, is shown first and asked about\n"
     "on a terminal; -y (a global option) goes ahead; off a terminal it is\n"
     "refused and nothing changes.\n"
     "\n"
     "  --dry-run                 show the actions (install, upgrade, downgrade,\n"
     "                            keep), change nothing\n"
     "  --json                    one JSON object a line for each event\n"
     "  -j, --jobs N              parallel jobs inside each build (MAKEFLAGS=-jN;\n"
     "                            default $STITCH_JOBS, else one per processor)\n"
     "  --upgrade                 prefer the newest versions over the installed ones\n"
     "  --pin NAME=VERSION        hold NAME at VERSION (repeatable); NAME=VERSION@WHERE\n"
     "                            names where the pin comes from, for explanations\n"
     "  --installed NAME=VERSION  with --dry-run: act on a made-up switch holding\n"
     "                            these packages instead of the real one\n"
     "\n"
     "Downloads run 8 at once ($STITCH_FETCH_JOBS to change it).\n"
     "\n"
     "Exit status: 0 done, 1 error or not confirmed, 2 usage error, 3 no solution\n"
     "(explained on stderr, with the versions that exist; with --json also as a\n"
     "\"no-solution\" line).\n"},
    {"list", cmd_list, NEED_ROOT | NEED_SWITCH_RO, "list installed or pinned packages",
     "usage: stitch list [--installed | --pinned] [--json]\n"},
    {"lock", cmd_lock, NEED_ROOT | NEED_INDEX, "write or check the project's stitch.lock",
     "usage: stitch lock [--check] [--upgrade] [--json]\n"
     "\n"
     "In a project: resolves what it needs and writes stitch.lock next to\n"
     "unikernel.json: each package's version, source URL and SHA-256, recipe\n"
     "hash and repository (with a hash of the repository's content), the\n"
     "toolchain, and pins with their path and tree hash.  Versions already in\n"
     "the lock are kept while they still fit; --upgrade resolves afresh.  The\n"
     "same inputs give the same bytes.  Format: share/doc/lockfile.md.\n"
     "\n"
     "  --check    change nothing; exit 1, listing the differences, when the\n"
     "             lock is stale (a different compiler or repository content\n"
     "             is only noted)\n"
     "  --json     one JSON object a line\n"},
    {"log", cmd_log, NEED_ROOT | NEED_SWITCH_RO, "list the operations done on the switch",
     "usage: stitch log [-n N] [--reverse] [--json]\n"
     "\n"
     "Every operation that changed the switch, newest first as in git log: its\n"
     "number (for stitch rollback), when (local time), the command line, and\n"
     "what it did to each package: installed, upgraded OLD -> NEW, downgraded,\n"
     "removed, rebuilt, pinned, unpinned.  An operation recorded by an older\n"
     "stitch is listed with its changes only and cannot be rolled back to.\n"
     "\n"
     "  -n, --max-count N  only the newest N operations\n"
     "  --reverse          oldest first (after -n)\n"
     "  --json             one JSON object a line: each operation, then its changes\n"},
    {"pin", cmd_pin, NEED_ROOT | NEED_INDEX, "work on a library from a local checkout",
     "usage: stitch pin add PKG [DIR] [--json]\n"
     "       stitch pin remove PKG [--json]\n"
     "       stitch pin list [--json]\n"
     "\n"
     "  add      pin PKG to the checkout DIR, used as it is (uncommitted edits\n"
     "           included).  Without DIR, the release source of the version the\n"
     "           switch has (or would choose) is unpacked into ./PKG and pinned.\n"
     "           A stitch.json in DIR (a package object with one version) says\n"
     "           which version it is.  A pin that breaks resolution is refused\n"
     "           with the explanation, and nothing changes.\n"
     "  remove   go back to the release, rebuilding what needs it\n"

     "  list     each pin's version, path and whether it changed since pinned\n"
     "  --json   one JSON object a line, the rebuilds of pin remove included\n"
     "\n"
     "In a project the pins belong to its switch (_stitch/).  A checkout older\n"
     "than the installed version of a package installed by name (add), or a\n"
     "return to the release that downgrades another such package (remove), is\n"
     "asked about on a terminal and refused off one; -y goes ahead.\n"},
    {"remove", cmd_remove, NEED_ROOT | NEED_INDEX | NEED_SWITCH, "remove installed packages",
     "usage: stitch remove PKG... [--recursive] [--dry-run] [--json]\n"
     "\n"
     "Refuses when an installed package needs one of them, naming it, unless\n"
     "--recursive, which removes those too; when one of those was installed by\n"
     "name, asks first on a terminal and refuses off one (-y goes ahead).\n"},
    {"repo", cmd_repo, NEED_ROOT, "add, list, remove and export package repositories",
     "usage: stitch repo add NAME PATH [--priority N] [--json]\n"
     "       stitch repo list [--json]\n"
     "       stitch repo remove NAME [--json]\n"
     "       stitch repo export DIR OUT.json[.gz] [--json]\n"
     "       stitch repo pack DIR [-o OUT.tar.gz] [--update-index] [--json]\n"
     "       stitch repo check PATH [--json]\n"
     "\n"
     "  add      register a repository (a directory, a .json[.gz|.xz|.zst] document\n"
     "           or a file:// URL); it is read once to check it.  Without\n"
     "           --priority it goes above every configured repository\n"
     "  list     the repositories in use, highest priority first\n"
     "  remove   forget a repository\n"
     "  export   write a directory-shaped repository as one document\n"
     "  pack     pack a source tree NAME-VERSION deterministically (sorted entries,\n"
     "           owner 0, mtime $SOURCE_DATE_EPOCH or 0, gzip without timestamp)\n"
     "           and print its SHA-256; a tree at <repo>/src/ goes to <repo>/archives/,\n"
     "           and --update-index writes the checksum into the package's file\n"
     "  check    list every problem of a repository (a directory or a document),\n"
     "           each with file:line:column; exits 1 when there is any\n"
     "  --json   one JSON object a line\n"},
    {"rollback", cmd_rollback, NEED_ROOT | NEED_INDEX | NEED_SWITCH,
     "return the switch to its state after an operation",
     "usage: stitch rollback N [--dry-run] [--json] [-j N]\n"
     "\n"
     "Brings the switch back to the state operation N (see stitch log) left\n"
     "it in: the same packages at the same versions, and the same pins.  The\n"
     "plan comes first: each package kept, taken from the artifact cache\n"
     "(cached) or built again (build), and what is removed.  Refused, naming\n"
     "the package and changing nothing, when that state cannot be reached: a\n"
     "version no repository in use lists, or a pin whose checkout is gone.\n"
     "The rollback is an operation of the log itself, so it can be undone.\n"
     "\n"
     "  --dry-run  show the plan, change nothing\n"
     "  --json     one JSON object a line\n"
     "  -j, --jobs N  parallel jobs inside each build\n"},
    {"run", cmd_run, NEED_ROOT, "run the project's image",
     "usage: stitch run [--target T] [--net TAP] [--pcap FILE] [-- ARGS]\n"
     "\n"
     "Starts the image of the project's target (or T's, built with stitch\n"
     "build --target T) the way that target says in targets.json: unix and\n"
     "spt as a process, virtio under qemu-system-x86_64 with its serial\n"
     "console on stdout and its exit status passed through.\n"
     "With --net, the image attaches to the tap device TAP that you made.\n"
     "Without, stitch makes a throwaway network namespace with a tap device\n"
     "(10.0.0.1, the image is 10.0.0.2), runs the image there, prints the\n"
     "command that reaches it from inside, and removes the namespace when the\n"
     "image stops (Ctrl-C).  ARGS go to the image (e.g. --ipv4=ADDR/N).\n"
     "\n"
     "  --pcap FILE  write every frame on the image's tap to FILE (tcpdump),\n"
     "               capturing before the image starts\n"},
    {"search", cmd_search, NEED_ROOT | NEED_INDEX, "find packages by name or synopsis",
     "usage: stitch search [--json] TERM\n"
     "\n"
     "Lists the packages whose name or synopsis contains TERM (any case),\n"
     "with their newest version.\n"},
    {"show", cmd_show, NEED_ROOT | NEED_INDEX, "describe a package and its versions",
     "usage: stitch show [--json] PKG\n"
     "\n"
     "Prints the package's description and homepage, and every version, newest\n"
     "first, with its depends and conflicts in canonical form; the version\n"
     "installed in the switch is marked (installed).\n"},
    {"solve", cmd_solve, NEED_ROOT | NEED_INDEX, "choose package versions for requirements",
     "usage: stitch solve REQ... [--json] [--upgrade] [--pin NAME=VERSION]...\n"
     "                   [--installed NAME=VERSION]...\n"
     "\n"
     "Chooses one version of each package needed by the requirements REQ\n"
     "(e.g. 'http {>= 2}', 'mbedtls | openssl') and prints them, one\n"
     "\"name version\" line per package, sorted by name.  Installed versions are\n"
     "kept when possible, then the newest versions of the REQs in the order\n"
     "given, then the newest of the rest.  When nothing fits, explains why.\n"
     "\n"
     "  --json                    print {\"packages\": [{\"name\": .., \"version\": ..}]}\n"
     "  --upgrade                 prefer the newest versions over the installed ones\n"
     "  --pin NAME=VERSION        hold NAME at VERSION (repeatable); NAME=VERSION@WHERE\n"
     "                            names where the pin comes from, for explanations\n"
     "  --installed NAME=VERSION  treat NAME VERSION as installed (repeatable)\n"
     "\n"
     "Exit status: 0 solved, 1 error, 2 usage error or invalid REQ,\n"
     "3 no solution (explained on stderr, with the versions that exist; with\n"
     "--json a \"no-solution\" line instead of the document).\n"},
    {"source", cmd_source, NEED_ROOT | NEED_INDEX, "unpack a package's release source",
     "usage: stitch source PKG[=VERSION] [DIR] [--json]\n"
     "\n"
     "Fetches (SHA-256 verified) and unpacks the source into DIR (default ./PKG),\n"
     "which must not exist yet.\n"
     "\n"
     "  --json  print {\"event\": \"source\", \"action\": \"unpacked\", \"name\", \"version\",\n"
     "          \"path\"}\n"},
    {"switch", cmd_switch, NEED_ROOT, "list or remove the switches this root knows",
     "usage: stitch switch list [--json]\n"
     "       stitch switch remove DIR [--json]\n"
     "\n"
     "list: every switch a command of this root has created or opened, and those\n"
     "in <root>/switches/, with how many packages each holds, or (gone).\n"
     "remove: deletes a switch this root knows and forgets it; refuses a\n"
     "directory that is not a stitch switch, or a switch in use.  A switch\n"
     "whose directory is already gone is forgotten.\n"},
    {"test", cmd_test, NEED_ROOT | NEED_INDEX,
     "build the project and run its test, or packages' tests",
     "usage: stitch test [--target T] [-j N] [--json] [--with-test[=pinned]]\n"
     "                   [--pcap FILE]\n"
     "       stitch test PKG... [-j N] [--json]\n"
     "\n"
     "Builds like stitch build, then runs the project's \"test\" command in its\n"
     "directory with STITCH_IMAGE set to the image.  With \"test_network\": true\n"
     "in unikernel.json, stitch first makes a network namespace with a tap\n"
     "(10.0.0.1; as a user, inside a user namespace), starts the image there as\n"
     "10.0.0.2 and waits until it writes its first console line; the command\n"
     "runs inside that namespace with STITCH_TEST_ADDR (the image's address),\n"
     "STITCH_TEST_HOST, STITCH_TEST_TAP, STITCH_TEST_NETNS and STITCH_TEST_LOG\n"
     "(its console) set too, and the image must then stop with status 0 on\n"
     "SIGTERM.  Every frame on the tap is captured (tcpdump); when the test\n"
     "fails the trace is kept as _build/last-failure.pcap.  Exit status 77\n"
     "means the test was skipped (for example: the namespace cannot be made\n"
     "without privilege).\n"
     "\n"
     "  --with-test  as for stitch build, but beside the project's test, whose\n"
     "               output follows theirs; when one fails, the project's test\n"
     "               is stopped\n"
     "  --pcap FILE  keep the trace of the run in FILE, passed or failed\n"
     "               (\"test_network\" projects)\n"
     "  --json  the build's events, then {\"event\": \"test\", \"result\": \"passed\",\n"
     "          \"failed\" or \"skipped\", ...}, one JSON object a line; the test's\n"
     "          own output goes to stderr\n"
     "\n"
     "With PKG: runs each package's own tests (\"test\" in its recipe) in the\n"
     "switch in use, in its build tree and the build sandbox: a pinned package\n"
     "in the persistent mirror of its checkout, any other package in its\n"
     "installed version's source unpacked afresh; the tree is built first as an\n"
     "install builds it.  Stops at the first failure, showing the last lines\n"
     "of the test's log.  A package without tests is said so; that is an error\n"
     "only when none of the packages named has tests.\n"},
    {"tree", cmd_tree, NEED_ROOT | NEED_INDEX, "the dependency tree of the switch or project",
     "usage: stitch tree [PKG] [--invert] [--dot | --json]\n"
     "\n"
     "The installed packages as a tree, each with its version, each edge with\n"
     "the requirement that made it; in a project (without --switch), its\n"
     "resolved set rooted at the project.  A subtree already shown is marked\n"
     "(*) when it comes again.  PKG: only its subtree.\n"
     "\n"
     "  --invert  who needs PKG, up to the roots (also: stitch why PKG)\n"
     "  --dot     a Graphviz digraph (dot -Tsvg)\n"
     "  --json    {\"project\", \"switch\", \"roots\", \"packages\": [{\"name\",\n"
     "            \"version\", \"depends\", \"needed_by\", ...}]}\n"},
    {"update", cmd_update, NEED_ROOT, "refresh remote repositories",
     "usage: stitch update [--json]\n"
     "\n"
     "Fetches every remote (http, https) repository again, with a conditional\n"
     "request: an unchanged index costs one round trip.  One line a repository:\n"
     "updated, unchanged or failed (the previous copy stays in use), with the\n"
     "number of packages the copy in use lists.\n"
     "\n"
     "  --json  one {\"event\": \"update\", \"name\", \"url\", \"result\", \"changed\",\n"
     "          \"packages\"} a repository\n"},
    {"upgrade", cmd_upgrade, NEED_ROOT | NEED_INDEX | NEED_SWITCH,
     "upgrade installed packages to the newest versions that fit",
     "usage: stitch upgrade [--dry-run] [--json] [-j N]\n"
     "\n"
     "Moves every installed package to the newest version that fits.  When that\n"
     "downgrades a package installed by name (to upgrade another), the change is\n"
     "asked about on a terminal and refused off one; -y goes ahead.\n"},
    {"verify", cmd_verify, NEED_ROOT, "rebuild stitch.lock in a fresh root and compare images",
     "usage: stitch verify [--keep] [--json]\n"
     "\n"
     "In a project with a stitch.lock: builds it here as 'stitch build --locked'\n"
     "does, then again in a fresh temporary root with no cache, from a copy of\n"
     "the project at another path, and compares the two images' SHA-256.  When\n"
     "they differ, names the first package (in dependency order) whose build\n"
     "differs, and keeps the fresh build for inspection (--keep always does).\n"
     "Exit status 1 when the images differ.\n"},
    {"watch", cmd_watch, NEED_ROOT, "rebuild (and test) on every change",
     "usage: stitch watch [--test]\n"
     "\n"
     "Watches the project and its pinned trees; on a change (debounced) runs\n"
     "stitch build, or with --test stitch test --with-test=pinned (the tests of\n"
     "each changed pinned package beside the image's, theirs first), and\n"
     "prints each cycle's result and time.  Keeps going after failures;\n"
     "Ctrl-C stops it.  With --test the network namespace and tap stay up\n"
     "between cycles and only the image restarts.\n"},
    {"which", cmd_which, NEED_ROOT | NEED_SWITCH_RO,
     "which installed package owns a file, a header or a symbol",
     "usage: stitch which WHAT [--json]\n"
     "\n"
     "WHAT is a path (relative to the switch, or absolute inside it), a header\n"
     "name such as tcp.h, or a symbol defined in a package's static library.\n"},
    {"why", cmd_why, NEED_ROOT | NEED_INDEX, "who needs a package (tree --invert)",
     "usage: stitch why PKG [--dot | --json]\n"
     "\n"
     "The same as stitch tree --invert PKG.\n"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char main_usage[] =
    "usage: stitch [--root DIR] [--repo PATH]... COMMAND [ARGS]\n"
    "\n"
    "Global options (accepted before or after the command):\n"
    "  --root DIR    the stitch root: configuration, caches, switches\n"
    "                (default: $STITCH_ROOT, else ~/.stitch)\n"
    "  --repo PATH   use this repository instead of the configured ones;\n"
    "                repeatable, the first given has the highest priority\n"
    "  --switch DIR  the switch to work on (default: the nearest _stitch/\n"
    "                from here up, else <root>/switches/default)\n"
    "  --no-sandbox  run package builds without bubblewrap (they still have no\n"
    "                network); also \"sandbox\": false in <root>/config.json\n"
    "  -q, --quiet   print only errors and the final result\n"
    "  -v, --verbose print each command a build runs (and no status line)\n"
    "  -y, --yes     go ahead without asking when install, upgrade, remove or\n"
    "                pin would downgrade or remove a package installed by name\n"
    "  --color WHEN  colour errors, warnings and results: auto (on a terminal,\n"
    "                unless $NO_COLOR is set), always or never\n"
    "  --help        this text; `stitch COMMAND --help` describes a command\n"
    "  --version     print the version\n"
    "\n"
    "Commands:\n";

static void print_main_usage(FILE *out)
{
	fputs(main_usage, out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!(commands[i].flags & CMD_HIDDEN))
			fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

const struct cmd_entry *cmd_commands(size_t *n, const char **main_text)
{
	if (n)
		*n = N_COMMANDS;
	if (main_text)
		*main_text = main_usage;
	return commands;
}

static char *default_root(void)
{
	const char *env = getenv("STITCH_ROOT");
	const char *home;

	if (env && *env)
		return xstrdup(env);
	home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	return xasprintf("%s/.stitch", home);
}

/* $NAME as a positive number, or def when unset. */
static long long env_limit(const char *name, long long def)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || *end || v <= 0 ? def : v;
}

/*
 * The root's limits (config.json "limits"), overridden by
 * $STITCH_DOWNLOAD_BYTES, $STITCH_UNPACK_BYTES and $STITCH_FETCH_SECONDS.
 * A broken configuration is reported by the commands that read it.
 */
static void apply_limits(const char *root)
{
	struct stitch_config cfg;
	struct stitch_limits l = {0};

	if (stitch_config_load(root, &cfg, NULL) == 0) {
		l = cfg.limits;
		stitch_config_release(&cfg);
	}
	stitch_fetch_set_limits(env_limit("STITCH_DOWNLOAD_BYTES", l.download_bytes),
	                        (long)env_limit("STITCH_FETCH_SECONDS", l.fetch_seconds));
	stitch_archive_set_max_bytes(
	    (unsigned long long)env_limit("STITCH_UNPACK_BYTES", l.unpack_bytes));
}

static int ensure_root(const char *root)
{
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		return cmd_error("cannot create root '%s': %s", root, strerror(errno));
	return EXIT_OK;
}

static const struct cmd_entry *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int load_index(struct stitch_ctx *ctx)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_repo_spec *specs = NULL;
	size_t n = 0;
	char *cache;
	int rc;

	if (cmd_repo_specs(ctx, &specs, &n, &err) != 0)
		return cmd_fail(&err);
	cache = cmd_index_cache_dir(ctx);
	rc = stitch_index_open(&ctx->index, specs, n, cache, &err);
	free(cache);
	cmd_repo_specs_free(specs, n);
	if (rc != 0)
		return cmd_fail(&err);
	/* Packages and versions left out of a repository: say why, every time. */
	for (size_t i = 0; i < ctx->index->n_repos; i++)
		for (const char *w = stitch_repo_next_warning(ctx->index->repos[i], NULL); w;
		     w = stitch_repo_next_warning(ctx->index->repos[i], w)) {
			cmd_paint(stderr, CMD_STYLE_WARNING, "warning:");
			fprintf(stderr, " %s\n", w);
		}
	if (getenv("STITCH_DEBUG") && strstr(getenv("STITCH_DEBUG"), "index")) {
		for (size_t i = 0; i < ctx->index->n_repos; i++)
			fprintf(stderr, "debug: repository '%s' (%zu packages) read from %s\n",
			        ctx->index->repos[i]->name, ctx->index->repos[i]->n_pkgs,
			        ctx->index->repos[i]->from_cache ? "the compiled cache" : "source");
	}
	return EXIT_OK;
}

static char *join_args(int argc, char **argv)
{
	struct stitch_buf b = STITCH_BUF_INIT;

	stitch_buf_adds(&b, "stitch");
	for (int i = 1; i < argc; i++) {
		stitch_buf_addch(&b, ' ');
		stitch_buf_adds(&b, argv[i]);
	}
	return stitch_buf_detach(&b, NULL);
}

/* Test hooks the suite sets from the environment; the library reads none. */
static void set_test_hooks(void)
{
	const char *f = getenv("STITCH_FAULT");
	char *end;
	long n;

	if (getenv("STITCH_BWRAP"))
		stitch_build_set_bwrap(getenv("STITCH_BWRAP"));

	if (!f || strncmp(f, "kill-after-moves:", 17) != 0)
		return;
	n = strtol(f + 17, &end, 10);
	if (f[17] && !*end && n > 0 && n < INT_MAX)
		stitch_switch_fault_after_moves((int)n);
}

/*
 * The set-up ctx->cmd's flags ask for (the root, the index, the switch),
 * then the command on its arguments rest, and the tear-down.
 */
static int run_command(struct stitch_ctx *ctx, const char *root, int n_rest, char **rest, int argc,
                       char **argv)
{
	const struct cmd_entry *cmd = ctx->cmd;
	int status;

	ctx->root = root ? xstrdup(root) : default_root();
	if (!ctx->root)
		return cmd_error("no root: set $HOME or $STITCH_ROOT, or pass --root DIR");
	ctx->argc = argc;
	ctx->argv = argv;
	if (cmd->fn == cmd_build && cmd_noop_replay(ctx, argc, argv)) {
		free((char *)ctx->root);
		return fflush(stdout) == 0 ? EXIT_OK
		                           : cmd_error("cannot write output: %s", strerror(errno));
	}
	if ((cmd->flags & NEED_ROOT) && ensure_root(ctx->root) != EXIT_OK)
		return EXIT_ERROR;
	apply_limits(ctx->root);
	if ((cmd->flags & NEED_INDEX) && load_index(ctx) != EXIT_OK)
		return EXIT_ERROR;
	if ((cmd->flags & (NEED_SWITCH | NEED_SWITCH_RO)) &&
	    cmd_open_switch(ctx, !(cmd->flags & NEED_SWITCH)) != EXIT_OK) {
		stitch_index_free(ctx->index);
		return EXIT_ERROR;
	}
	ctx->command_line = join_args(argc, argv);

	status = cmd->fn(n_rest, rest, ctx);
	if (fflush(stdout) != 0 && status == EXIT_OK)
		status = cmd_error("cannot write output: %s", strerror(errno));
	stitch_switch_close(ctx->sw);
	stitch_fetch_global_cleanup();
	free(ctx->command_line);
	stitch_index_free(ctx->index);
	free((char *)ctx->root);
	return status;
}

int main(int argc, char **argv)
{
	/* Static: they live for the whole run, and stay reachable (not leaked, to
	 * LeakSanitizer) when an early return below skips the frees at the end. */
	static struct stitch_ctx ctx;
	static char **rest;
	const struct cmd_entry *cmd = NULL;
	enum cmd_verbosity verbosity = CMD_NORMAL;
	enum cmd_color color = CMD_COLOR_AUTO;
	char *root = NULL;
	int n_rest = 0, status;
	bool dashdash = false;

	/* stitch itself, run in a build's sandbox: nothing else of main applies. */
	if (argc > 1 && strcmp(argv[1], STITCH_BUILD_DRIVER) == 0)
		return stitch_build_driver_main(argc, argv);
	cmd_noop_clock();
	set_test_hooks();
	rest = xcalloc((size_t)argc + 1, sizeof(char *));
	ctx.repo_args = xcalloc((size_t)argc + 1, sizeof(char *));
	/* Global options may appear anywhere before "--". */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = true;
			rest[n_rest++] = argv[i];
		} else if (!dashdash && (strcmp(a, "--root") == 0 || strcmp(a, "--repo") == 0 ||
		                         strcmp(a, "--switch") == 0)) {
			if (i + 1 >= argc)
				return cmd_usage_error(NULL, "option '%s' needs a value", a);
			if (a[2] == 's')
				ctx.switch_arg = argv[++i];
			else if (a[4] == 'o')
				root = argv[++i];
			else
				ctx.repo_args[ctx.n_repo_args++] = argv[++i];
		} else if (!dashdash && strcmp(a, "--no-sandbox") == 0) {
			ctx.no_sandbox = true;
		} else if (!dashdash && (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)) {
			verbosity = CMD_QUIET;
		} else if (!dashdash && (strcmp(a, "-y") == 0 || strcmp(a, "--yes") == 0)) {
			ctx.yes = true;
		} else if (!dashdash && (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)) {
			verbosity = CMD_VERBOSE;
		} else if (!dashdash &&
		           (strcmp(a, "--color") == 0 || strncmp(a, "--color=", 8) == 0)) {
			const char *w = a[7] == '=' ? a + 8 : i + 1 < argc ? argv[++i] : NULL;
			if (!w)
				return cmd_usage_error(NULL, "option '--color' needs a value");
			if (!cmd_color_parse(w, &color))
				return cmd_usage_error(
				    NULL, "--color takes auto, always or never, not '%s'", w);
		} else if (!dashdash && strncmp(a, "--switch=", 9) == 0) {
			ctx.switch_arg = argv[i] + 9;
		} else if (!dashdash && strncmp(a, "--root=", 7) == 0) {
			root = argv[i] + 7;
		} else if (!dashdash && strncmp(a, "--repo=", 7) == 0) {
			ctx.repo_args[ctx.n_repo_args++] = argv[i] + 7;
		} else if (!cmd && (strcmp(a, "--version") == 0)) {
			printf("stitch %s\n", STITCH_VERSION);
			return EXIT_OK;
		} else if (!cmd && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			print_main_usage(stdout);
			return EXIT_OK;
		} else if (!cmd && strcmp(a, "help") == 0) {
			/* stitch help [COMMAND] */
			if (i + 1 >= argc) {
				print_main_usage(stdout);
				return EXIT_OK;
			}
			if (!(cmd = find_command(argv[i + 1])))
				return cmd_unknown_command(argv[i + 1]);
			cmd_print_help(stdout, cmd);
			return EXIT_OK;
		} else if (!cmd && strcmp(a, "--print-man") == 0) {
			cmd_print_man(stdout);
			return EXIT_OK;
		} else if (!cmd && strcmp(a, "--print-completion") == 0) {
			if (i + 1 >= argc)
				return cmd_usage_error(NULL, "option '%s' needs a value", a);
			return cmd_print_completion(stdout, argv[i + 1]);
		} else if (!cmd && a[0] == '-') {
			return cmd_usage_error(NULL, "unknown option '%s'", a);
		} else {
			if (!cmd) {
				cmd = find_command(a);
				if (!cmd)
					return cmd_unknown_command(a);
			}
			rest[n_rest++] = argv[i];
		}
	}
	if (!cmd) {
		print_main_usage(stderr);
		return EXIT_USAGE;
	}
	ctx.cmd = cmd;
	cmd_output_init(verbosity, color);
	for (int i = 1; i < n_rest; i++) {
		if (strcmp(rest[i], "--") == 0)
			break;
		if (strcmp(rest[i], "--help") == 0 || strcmp(rest[i], "-h") == 0) {
			cmd_print_help(stdout, cmd);
			return EXIT_OK;
		}
	}

	status = run_command(&ctx, root, n_rest, rest, argc, argv);
	free(ctx.repo_args);
	free(rest);
	return status;
}
