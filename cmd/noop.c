/*
 * The no-op build at the speed of stat(2).
 *
 * A `stitch build` that finds nothing to do still opens the switch, loads
 * the index, solves, plans and hashes: a few milliseconds, more than make
 * takes to stat a graph.  So a build that did nothing leaves a stamp in the
 * switch (.stitch/noop): what the build depended on, as the stat of every
 * file and directory it could have read (the project's tree with its
 * _build/, the switch's installed tree and state, pinned checkouts, the
 * repositories, the root's configuration and compiled index, targets.json,
 * the compiler's path), the invocation (stitch's own binary, the working
 * directory, the arguments, the environment variables stitch or a build
 * reads, whether stdout and stderr are terminals), and what it printed.
 * The next `stitch build` with the same invocation stats those paths first;
 * when every one is as recorded, it prints the same lines and stops there.
 * Any difference (a file edited, added or removed anywhere in those trees,
 * a package installed, an argument or a variable changed) takes the full
 * path, which is always right; the stamp only ever saves work.
 *
 * Soundness: a stamp is written only by a build that changed nothing and
 * wrote nothing on stderr, and only when no recorded path changed after
 * the process started (mtime or ctime later than its start, less a margin
 * for the kernel's coarse file clock): a file edited while the build read
 * it, or just before, leaves no stamp, so the next build takes the full
 * path.  Directories are recorded, so a new file shows as its directory's
 * changed mtime.  A symbolic link is recorded with its target's stat too.
 */
#include "cmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index.h"
#include "project.h"
#include "state.h"
#include "switch.h"
#include "target.h"
#include "util.h"

#define NOOP_MAGIC "stitch no-op stamp 2\n"
/* The coarse clock of file times lags the real one by a tick (1-10 ms). */
#define NOOP_MARGIN_NS (50 * 1000000LL)
/* A tree bigger than this is not worth statting on every build. */
#define NOOP_MAX_ENTRIES 20000

extern char **environ;

static long long started_ns;

/* STITCH_DEBUG=noop: say on stderr why a stamp was not taken or not left. */
static void debug(const char *fmt, const char *what)
{
	const char *d = getenv("STITCH_DEBUG");

	if (d && strstr(d, "noop")) {
		fputs("debug: no-op stamp: ", stderr);
		fprintf(stderr, fmt, what);
		fputc('\n', stderr);
	}
}

/* What stdout and stderr received during the build. */
struct tee {
	int fd;
	struct stitch_buf copy;
	FILE *orig;
};

struct cmd_noop {
	char *key;
	char *stamp;
	const char *project_dir;
	struct tee out, err;
	FILE *out_f, *err_f;
	struct stitch_buf files; /* the stamp's file lines */
	size_t n_files;
	bool refused; /* some path cannot be recorded: no stamp */
};

static long long ns_of(struct timespec t)
{
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void cmd_noop_clock(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	started_ns = ns_of(t);
}

/* Variables that change what a build does or prints. */
static bool key_var(const char *e)
{
	static const char *const names[] = {"PATH=",
	                                    "HOME=",
	                                    "TMPDIR=",
	                                    "CC=",
	                                    "CFLAGS=",
	                                    "CPPFLAGS=",
	                                    "LDFLAGS=",
	                                    "LDLIBS=",
	                                    "AR=",
	                                    "MAKEFLAGS=",
	                                    "PKG_CONFIG_PATH=",
	                                    "SOURCE_DATE_EPOCH=",
	                                    "NO_COLOR=",
	                                    "TERM=",
	                                    "LANG=",
	                                    "LC_ALL=",
	                                    "LC_CTYPE=",
	                                    "LC_MESSAGES="};

	if (!strncmp(e, "STITCH_", 7))
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strncmp(e, names[i], strlen(names[i])))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_field(struct stitch_buf *b, const char *what, const char *s)
{
	stitch_buf_addf(b, "%s %zu:", what, strlen(s));
	stitch_buf_adds(b, s);
	stitch_buf_addch(b, '\n');
}

/* The invocation, as text: two builds with the same key would do the same. */
static char *make_key(const char *root, int argc, char **argv)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char exe[PATH_MAX], cwd[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;
	const char **vars;
	size_t nv = 0, nenv = 0;

	if (n <= 0 || stat("/proc/self/exe", &st) != 0 || !getcwd(cwd, sizeof(cwd)))
		return NULL;
	exe[n] = '\0';
	stitch_buf_adds(&b, NOOP_MAGIC);
	add_field(&b, "exe", exe);
	stitch_buf_addf(&b, "exe-stat %llu %llu %lld %lld\n", (unsigned long long)st.st_dev,
	                (unsigned long long)st.st_ino, (long long)st.st_size, ns_of(st.st_mtim));
	add_field(&b, "cwd", cwd);
	add_field(&b, "root", root);
	for (int i = 1; i < argc; i++)
		add_field(&b, "arg", argv[i]);
	stitch_buf_addf(&b, "tty %d %d\n", isatty(STDOUT_FILENO), isatty(STDERR_FILENO));
	while (environ[nenv])
		nenv++;
	vars = xcalloc(nenv + 1, sizeof(*vars));
	for (size_t i = 0; i < nenv; i++)
		if (key_var(environ[i]))
			vars[nv++] = environ[i];
	qsort(vars, nv, sizeof(*vars), cmp_str);
	for (size_t i = 0; i < nv; i++)
		add_field(&b, "env", vars[i]);
	free(vars);
	return stitch_buf_detach(&b, NULL);
}

/*
 * `build` with options whose output the stamp can stand for, and no
 * other: --json, --with-test and --explain print or run more, and a remote
 * --repo is fetched again by every command.
 */
static bool eligible(const struct stitch_ctx *ctx, int argc, char **argv)
{
	static const char *const exact[] = {
	    "--root",    "--repo",   "--switch", "--no-sandbox", "-q", "--quiet",  "-v",
	    "--verbose", "-y",       "--yes",    "--color",      "-t", "--target", "-j",
	    "--jobs",    "--locked", "-L",       "--allow-pins", "-P"};
	static const char *const prefix[] = {
	    "--color=", "--root=", "--repo=", "--switch=", "--target=", "--jobs="};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool known = a[0] != '-' || (a[1] == 'j' && a[2] >= '0' && a[2] <= '9');
		for (size_t k = 0; !known && k < sizeof(exact) / sizeof(*exact); k++)
			known = !strcmp(a, exact[k]);
		for (size_t k = 0; !known && k < sizeof(prefix) / sizeof(*prefix); k++)
			known = !strncmp(a, prefix[k], strlen(prefix[k]));
		if (!known)
			return false;
	}
	for (size_t i = 0; i < ctx->n_repo_args; i++)
		if (cmd_is_remote(ctx->repo_args[i]))
			return false;
	return true;
}

static char *stamp_path(const struct stitch_ctx *ctx, const char *project_dir)
{
	char *sw = cmd_project_switch(ctx, project_dir), *path = xasprintf("%s/.stitch/noop", sw);

	free(sw);
	return path;
}

/* ---- the file lines: "T dev ino size mtime ctime mode path" ---- */

/*
 * kind: 'L' lstat of the path, 'F' stat through a link, 'M' mtime and size
 * only (sqlite's files, whose ctime a reader changes).  A path that cannot
 * be statted is "-KIND ERRNO PATH" (missing, or in a directory this user
 * cannot search, as a $PATH entry may be).
 */
static void put_missing(struct stitch_buf *b, char kind, int errnum, const char *path)
{
	stitch_buf_addf(b, "-%c %d %s\n", kind, errnum, path);
}

static void put_line(struct stitch_buf *b, char kind, const struct stat *st, const char *path)
{
	stitch_buf_addf(b, "%c %llu %llu %lld %lld %lld %o %s\n", kind,
	                (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
	                (long long)st->st_size, ns_of(st->st_mtim),
	                kind == 'M' ? 0LL : ns_of(st->st_ctim), (unsigned)st->st_mode, path);
}

/* stat (kind F) or lstat (L, M) of path: 0, or the errno. */
static int stat_as(char kind, const char *path, struct stat *st)
{
	return (kind == 'F' ? stat(path, st) : lstat(path, st)) == 0 ? 0 : errno;
}

static void record(struct cmd_noop *n, char kind, const char *path)
{
	struct stat st;
	int rc;

	if (n->refused)
		return;
	if (strchr(path, '\n') || ++n->n_files > NOOP_MAX_ENTRIES) {
		debug("not left: too many paths, or a newline in %s", path);
		n->refused = true;
		return;
	}
	if ((rc = stat_as(kind, path, &st)) != 0) {
		put_missing(&n->files, kind, rc, path);
		return;
	}
	/* Changed since this process started, or just before: not to be trusted. */
	if (ns_of(st.st_mtim) >= started_ns - NOOP_MARGIN_NS ||
	    (kind != 'M' && ns_of(st.st_ctim) >= started_ns - NOOP_MARGIN_NS)) {
		debug("not left: %s changed while the build ran, or just before", path);
		n->refused = true;
		return;
	}
	put_line(&n->files, kind, &st, path);
	if (kind == 'L' && S_ISLNK(st.st_mode)) {
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			debug("not left: %s links to a directory", path);
			n->refused = true; /* its tree is not walked */
		} else
			record(n, 'F', path);
	}
}

/* path and everything under it; skip: names (relative to top) not walked. */
static void walk(struct cmd_noop *n, const char *path, const char *const *skip)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	for (size_t i = 0; skip && skip[i]; i++)
		if (!strcmp(path, skip[i]))
			return;
	record(n, 'L', path);
	if (n->refused || lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return;
	if (!(d = opendir(path))) {
		n->refused = true;
		return;
	}
	while (!n->refused && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *sub = xasprintf("%s/%s", path, e->d_name);
		walk(n, sub, skip);
		free(sub);
	}
	closedir(d);
}

/*
 * What the index reads of a repository: a directory's repo.json and
 * packages/ (not the archives it ships, read only when a source is
 * fetched, and checked against its SHA-256 then), or the one document.
 */
static void record_repo(struct cmd_noop *n, const char *location)
{
	struct stat st;

	if (lstat(location, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *doc = xasprintf("%s/repo.json", location);
		char *pkgs = xasprintf("%s/packages", location);
		record(n, 'L', location);
		record(n, 'L', doc);
		walk(n, pkgs, NULL);
		free(doc);
		free(pkgs);
	} else {
		record(n, 'L', location);
	}
}

/* A command's path: each hop of its symbolic links. */
static void record_chain(struct cmd_noop *n, const char *start)
{
	char *path = xstrdup(start), target[PATH_MAX];

	for (int hops = 0; hops < 16 && !n->refused; hops++) {
		ssize_t len;
		record(n, 'L', path);
		if ((len = readlink(path, target, sizeof(target) - 1)) <= 0)
			break;
		target[len] = '\0';
		char *next;
		if (target[0] == '/') {
			next = xstrdup(target);
		} else {
			char *slash = strrchr(path, '/');
			next = xasprintf("%.*s/%s", (int)(slash ? slash - path : 0), path, target);
		}
		free(path);
		path = next;
	}
	free(path);
}

/* cc as the PATH finds it, and /usr/bin/cc (the compiler's identity). */
static void record_compiler(struct cmd_noop *n)
{
	const char *env = getenv("PATH");
	char *copy = xstrdup(env ? env : ""), *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir && !n->refused;
	     dir = strtok_r(NULL, ":", &save)) {
		char *cc = xasprintf("%s/cc", *dir ? dir : ".");
		bool found = access(cc, X_OK) == 0;
		if (found)
			record_chain(n, cc);
		else
			record(n, 'L', cc);
		free(cc);
		if (found)
			break;
	}
	free(copy);
	record_chain(n, "/usr/bin/cc");
}

static void record_targets(struct cmd_noop *n)
{
	char *paths[STITCH_TARGET_PATHS];
	size_t count = stitch_target_paths(paths);

	for (size_t i = 0; i < count; i++) {
		record(n, 'F', paths[i]);
		free(paths[i]);
	}
}

/* ---- the tee of stdout and stderr ---- */

static ssize_t tee_write(void *cookie, const char *buf, size_t len)
{
	struct tee *t = cookie;
	size_t done = 0;

	stitch_buf_add(&t->copy, buf, len);
	while (done < len) {
		ssize_t w = write(t->fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)w;
	}
	return (ssize_t)len;
}

static FILE *tee_open(struct tee *t, FILE *orig, int mode)
{
	cookie_io_functions_t io = {NULL, tee_write, NULL, NULL};
	FILE *f;

	fflush(orig);
	t->fd = fileno(orig);
	t->orig = orig;
	t->copy = (struct stitch_buf)STITCH_BUF_INIT;
	if ((f = fopencookie(t, "w", io)) != NULL)
		setvbuf(f, NULL, mode, 0);
	return f;
}

/* ---- the two ends ---- */

bool cmd_noop_replay(const struct stitch_ctx *ctx, int argc, char **argv)
{
	struct stitch_buf file = STITCH_BUF_INIT, now = STITCH_BUF_INIT;
	char *dir = NULL, *key = NULL, *stamp = NULL, *text, *p, *end, *output;
	size_t len, klen;
	bool same = false;

	if (!ctx->root || !eligible(ctx, argc, argv) || stitch_project_find(".", &dir, NULL) != 0)
		goto out;
	stamp = stamp_path(ctx, dir);
	if (!(key = make_key(ctx->root, argc, argv)) || stitch_read_file(stamp, &file, 0) != 0)
		goto out;
	text = file.buf;
	len = file.len;
	klen = strlen(key);
	if (len < klen + 1 || memcmp(text, key, klen) != 0 || text[klen] != '\0') {
		debug("%s is of another invocation", stamp);
		goto out;
	}
	p = text + klen + 1;
	end = text + len;
	/* then the output, NUL-terminated, then the file lines */
	output = p;
	if (!(p = memchr(p, '\0', (size_t)(end - p))))
		goto out;
	p++;
	/* each line, as the same path's stat would write it now */
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *path = p;
		char kind = *p == '-' ? p[1] : *p;
		struct stat st;
		int e;

		if (!nl || nl - p < 3)
			goto out;
		*nl = '\0';
		/* the path follows 2 fields on a "-" line, 7 on the others */
		for (int f = *p == '-' ? 2 : 7; f > 0 && path; f--)
			if ((path = strchr(path, ' ')) != NULL)
				path++;
		if (!path)
			goto out;
		stitch_buf_reset(&now);
		if ((e = stat_as(kind, path, &st)) != 0)
			put_missing(&now, kind, e, path);
		else
			put_line(&now, kind, &st, path);
		if (now.len != (size_t)(nl - p) + 1 || memcmp(now.buf, p, now.len - 1) != 0) {
			debug("%s is not as recorded", path);
			goto out;
		}
		p = nl + 1;
	}
	fputs(output, stdout);
	same = true;
out:
	free(dir);
	free(key);
	free(stamp);
	stitch_buf_release(&file);
	stitch_buf_release(&now);
	return same;
}

struct cmd_noop *cmd_noop_begin(const struct stitch_ctx *ctx, int argc, char **argv,
                                const char *project_dir)
{
	struct cmd_noop *n;
	char *key;

	if (!ctx->root || !eligible(ctx, argc, argv) || !(key = make_key(ctx->root, argc, argv)))
		return NULL;
	n = xcalloc(1, sizeof(*n));
	n->key = key;
	n->stamp = stamp_path(ctx, project_dir);
	n->project_dir = project_dir;
	n->files = (struct stitch_buf)STITCH_BUF_INIT;
	n->out_f = tee_open(&n->out, stdout, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF);
	n->err_f = tee_open(&n->err, stderr, _IONBF);
	if (n->out_f)
		stdout = n->out_f;
	if (n->err_f)
		stderr = n->err_f;
	n->refused = !n->out_f || !n->err_f; /* what it printed would not be known */
	return n;
}

/* Whether path is dir or inside it (walked with it already). */
static bool under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return !strncmp(path, dir, len) && (path[len] == '/' || path[len] == '\0');
}

/* Every path the build could have read (see the top of this file). */
static void record_all(struct cmd_noop *n, const struct stitch_ctx *ctx)
{
	const char *sw = ctx->sw ? ctx->sw->dir : NULL;
	char *state = sw ? xasprintf("%s/.stitch", sw) : NULL;
	const char *skip[] = {state, NULL, NULL};
	char *git = xasprintf("%s/.git", n->project_dir);
	struct stitch_pin *pins = NULL;
	size_t n_pins = 0;

	skip[1] = git;
	if (!sw) {
		n->refused = true;
		goto out;
	}
	walk(n, n->project_dir, skip);
	if (!under(sw, n->project_dir))
		walk(n, sw, skip);
	const char *own[] = {"state.db", "state.db-wal", "cc-identity"};
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++) {
		char *p = xasprintf("%s/%s", state, own[i]);
		record(n, i < 2 ? 'M' : 'L', p);
		free(p);
	}
	if (stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL) == 0)
		for (size_t i = 0; i < n_pins; i++)
			if (!under(pins[i].path, n->project_dir))
				walk(n, pins[i].path, skip);
	stitch_pins_free(pins, n_pins);
	for (size_t i = 0; ctx->index && i < ctx->index->n_repos; i++)
		record_repo(n, ctx->index->repos[i]->location);
	char *conf = xasprintf("%s/config.json", ctx->root);
	char *idx = xasprintf("%s/cache/index", ctx->root);
	record(n, 'L', conf);
	walk(n, idx, skip);
	free(conf);
	free(idx);
	record_targets(n);
	record_compiler(n);
out:
	free(git);
	free(state);
}

void cmd_noop_end(struct cmd_noop *n, const struct stitch_ctx *ctx, int status)
{
	struct stitch_buf b = STITCH_BUF_INIT;

	if (!n)
		return;
	if (n->out_f) {
		fflush(n->out_f);
		stdout = n->out.orig;
		fclose(n->out_f);
	}
	if (n->err_f) {
		fflush(n->err_f);
		stderr = n->err.orig;
		fclose(n->err_f);
	}
	if (status == EXIT_OK && n->err.copy.len != 0)
		debug("not left: the build wrote on stderr%s", "");
	if (status == EXIT_OK && n->err.copy.len == 0 &&
	    !memchr(n->out.copy.buf ? n->out.copy.buf : "", '\0', n->out.copy.len)) {
		record_all(n, ctx);
		if (!n->refused) {
			stitch_buf_add(&b, n->key, strlen(n->key) + 1);
			stitch_buf_add(&b, n->out.copy.buf ? n->out.copy.buf : "", n->out.copy.len);
			stitch_buf_addch(&b, '\0');
			stitch_buf_add(&b, n->files.buf ? n->files.buf : "", n->files.len);
			/* Not synced: a stamp lost in a crash only costs the full path. */
			stitch_write_file(n->stamp, b.buf, b.len, false);
		}
	}
	stitch_buf_release(&b);
	stitch_buf_release(&n->out.copy);
	stitch_buf_release(&n->err.copy);
	stitch_buf_release(&n->files);
	free(n->key);
	free(n->stamp);
	free(n);
}
