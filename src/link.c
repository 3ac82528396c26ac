/*
 * generate -> compile -> link, in a fixed environment like the builds of
 * packages (build.c), so an image depends on its inputs only.
 */
#include "link.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "artifact.h"
#include "build.h"
#include "tree.h"
#include "util.h"

struct runner {
	char *path; /* PATH value */
	char **envp;
	const char *cwd;
	const char *log; /* stdout and stderr of tools, appended */
};

/* Run argv; stdout into out when given, else into the log. Returns 0 or the failure. */
static int run(const struct runner *r, char *const *argv, struct stitch_buf *out,
               struct stitch_err *err)
{
	char *prog = stitch_build_find_program(argv[0], r->path);
	struct stitch_buf line = STITCH_BUF_INIT;
	int fds[2] = {-1, -1}, log_fd, status = -1;
	pid_t pid;

	for (size_t i = 0; argv[i]; i++)
		stitch_buf_addf(&line, "%s%s", i ? " " : "", argv[i]);
	log_fd = open(r->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd >= 0)
		dprintf(log_fd, "$ %s\n", line.buf);
	if (!prog) {
		stitch_error(err, STITCH_E_BUILD, "cannot run '%s': not found in PATH=%s", argv[0],
		             r->path);
		goto out;
	}
	if (out && pipe2(fds, O_CLOEXEC) != 0)
		goto out;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out ? fds[1] : log_fd, 1);
		dup2(log_fd, 2);
		umask(022);
		if (chdir(r->cwd) != 0)
			_exit(126);
		execve(prog, argv, r->envp);
		_exit(127);
	}
	if (out) {
		char chunk[4096];
		ssize_t n;
		close(fds[1]);
		while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
			if (n > 0)
				stitch_buf_add(out, chunk, (size_t)n);
		close(fds[0]);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (status != 0) {
		char *tail = stitch_build_log_tail(r->log, 30);
		stitch_error(err, STITCH_E_BUILD, "'%s' failed (%s %d)", line.buf,
		             status > 0 && WIFSIGNALED(status) ? "signal" : "status",
		             status > 0 && WIFSIGNALED(status) ? WTERMSIG(status)
		                                               : WEXITSTATUS(status));
		stitch_error_cause(err, "%s\nlog: %s", tail, r->log);
		free(tail);
	}
out:
	if (log_fd >= 0)
		close(log_fd);
	free(prog);
	stitch_buf_release(&line);
	return status == 0 ? 0 : STITCH_E_BUILD;
}

/* Split pkg-config output into words (it quotes nothing we produce). */
static void add_words(char ***v, size_t *n, size_t *cap, const char *s)
{
	char *copy = xstrdup(s), *save = NULL;

	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		XGROW(*v, *cap, *n + 2);
		(*v)[(*n)++] = xstrdup(w);
		(*v)[*n] = NULL;
	}
	free(copy);
}

static void free_words(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *object_name(const char *src)
{
	char *o = xasprintf("_build/obj/%s.o", src);

	for (char *p = o + strlen("_build/obj/"); *p; p++)
		if (*p == '/')
			*p = '_';
	return o;
}

/* A source needs compiling when its key (text, flags, inputs) differs from the last one. */
static bool up_to_date(const char *dir, const char *obj, const char *key)
{
	char *kpath = xasprintf("%s/%s.key", dir, obj), *opath = xasprintf("%s/%s", dir, obj);
	char buf[80] = "";
	FILE *f = fopen(kpath, "re");
	bool ok = false;

	if (f) {
		ok = fgets(buf, sizeof(buf), f) && strncmp(buf, key, 64) == 0 &&
		     access(opath, F_OK) == 0;
		fclose(f);
	}
	free(kpath);
	free(opath);
	return ok;
}

static void write_key(const char *dir, const char *obj, const char *key)
{
	char *kpath = xasprintf("%s/%s.key", dir, obj);
	FILE *f = fopen(kpath, "we");

	if (f) {
		fprintf(f, "%s\n", key);
		fclose(f);
	}
	free(kpath);
}

/*
 * The stat data of every file the compiler read for the last object (the
 * depfile -MMD wrote, named after -MF in args): the project's own
 * headers.  No depfile yet: nothing to add.
 */
static void add_depfile(const char *dir, const char *switch_dir, char *const *args,
                        struct stitch_buf *b)
{
	size_t sw_len = strlen(switch_dir);
	const char *dep = NULL;
	struct stitch_buf text = STITCH_BUF_INIT;
	char *path, *p, *save = NULL;

	for (size_t i = 0; args[i]; i++)
		if (!strcmp(args[i], "-MF") && args[i + 1])
			dep = args[i + 1];
	if (!dep)
		return;
	path = xasprintf("%s/%s", dir, dep);
	if (stitch_read_file(path, &text, 0) != 0) {
		free(path);
		stitch_buf_release(&text);
		return;
	}
	free(path);
	p = strchr(text.buf, ':');
	for (char *w = p ? strtok_r(p + 1, " \t\n\\", &save) : NULL; w;
	     w = strtok_r(NULL, " \t\n\\", &save)) {
		char *full = w[0] == '/' ? xstrdup(w) : xasprintf("%s/%s", dir, w);
		struct stat st;
		/*
		 * The switch's headers are in the key by content already (the
		 * interface hashes): reinstalling one unchanged is no change.
		 */
		if (strncmp(full, switch_dir, sw_len) == 0 && full[sw_len] == '/') {
			free(full);
			continue;
		}
		if (stat(full, &st) == 0)
			stitch_buf_addf(b, "dep %s %lld %lld.%09ld %lld\n", w,
			                (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			                st.st_mtim.tv_nsec, (long long)st.st_ino);
		else
			stitch_buf_addf(b, "dep %s missing\n", w);
		free(full);
	}
	stitch_buf_release(&text);
}

/*
 * A source's key: its stat data (as make would look at it, but exact to the
 * nanosecond and the inode), the flags and the libraries' interfaces.
 * Reading a large generated source on every build would cost more.
 */
static int compile_key(const struct stitch_link_opts *o, const char *src, char *const *args,
                       char key[65])
{
	char *path = xasprintf("%s/%s", o->project->dir, src);
	struct stitch_buf b = STITCH_BUF_INIT;
	struct stat st;
	int rc = stat(path, &st);

	free(path);
	if (rc != 0)
		return -1;
	stitch_buf_addf(&b, "src %lld %lld %lld %lld\ninputs %s\n", (long long)st.st_size,
	                (long long)st.st_mtim.tv_sec, (long long)st.st_mtim.tv_nsec,
	                (long long)st.st_ino, o->inputs_key ? o->inputs_key : "");
	for (size_t i = 0; args[i]; i++)
		stitch_buf_addf(&b, "%s\n", args[i]);
	add_depfile(o->project->dir, o->switch_dir, args, &b);
	stitch_sha256_hex(b.buf, b.len, key);
	stitch_buf_release(&b);
	return 0;
}

/* The text with the project's and the switch's directories replaced by placeholders. */
static void normalize(const struct stitch_link_opts *o, const char *text, size_t len,
                      struct stitch_buf *out)
{
	struct stitch_buf mid = STITCH_BUF_INIT;

	stitch_replace_all(text, len, o->project->dir, "@PROJECT@", &mid);
	stitch_replace_all(mid.buf, mid.len, o->switch_dir, STITCH_PREFIX_PLACEHOLDER, out);
	stitch_buf_release(&mid);
}

/*
 * What an object is built from, wherever the project and its switch are:
 * the preprocessed source (local headers included) and the command, both
 * with those directories replaced, and the compiler.  args is the compile
 * command, "-o OBJ SRC" at its end.
 */
static int object_inputs(const struct stitch_link_opts *o, const struct runner *re,
                         char *const *args, const char *src, char name[512], char source[65],
                         char recipe[65], struct stitch_err *err)
{
	struct stitch_buf pre = STITCH_BUF_INIT, norm = STITCH_BUF_INIT, cmd = STITCH_BUF_INIT;
	size_t n = 0;
	char **eargs;
	int rc;

	while (args[n])
		n++;
	eargs = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0, k = 0; i < n; i++) {
		if (!strcmp(args[i], "-o")) {
			i++;
			continue;
		}
		eargs[k++] = !strcmp(args[i], "-c") ? "-E" : args[i];
		if (strcmp(args[i], "-c") != 0)
			stitch_buf_addf(&cmd, "%s\n", args[i]);
	}
	rc = run(re, eargs, &pre, err);
	free(eargs);
	if (rc == 0) {
		normalize(o, pre.buf, pre.len, &norm);
		stitch_sha256_hex(norm.buf, norm.len, source);
		stitch_buf_reset(&norm);
		normalize(o, cmd.buf, cmd.len, &norm);
		stitch_sha256_hex(norm.buf, norm.len, recipe);
		snprintf(name, 512, "%s/%s", o->project->name, src);
	}
	stitch_buf_release(&pre);
	stitch_buf_release(&norm);
	stitch_buf_release(&cmd);
	return rc;
}

/* Take obj (absolute) from the artifact cache: true when it was there. */
static bool object_from_cache(const struct stitch_link_opts *o, const char *hash, const char *obj)
{
	struct stitch_artifact art;
	char *tmp = xasprintf("%s/_build/.artifact-%ld", o->project->dir, (long)getpid());
	char *file = xasprintf("%s/object.o", tmp), sha[65];
	bool ok = false;

	stitch_rm_rf(tmp);
	if (stitch_artifacts_lookup(o->artifacts, hash, &art, NULL) == 0) {
		ok = stitch_artifacts_unpack(o->artifacts, &art, tmp, o->switch_dir, NULL) == 0 &&
		     stitch_sha256_file(file, sha) == 0 && strcmp(sha, art.interface_hash) == 0 &&
		     rename(file, obj) == 0;
		stitch_artifact_release(&art);
	}
	stitch_rm_rf(tmp);
	free(tmp);
	free(file);
	return ok;
}

static void object_to_cache(const struct stitch_link_opts *o, const struct stitch_build_inputs *in,
                            const char *hash, const char *obj)
{
	char *tmp = xasprintf("%s/_build/.artifact-%ld", o->project->dir, (long)getpid());
	char *file = xasprintf("%s/object.o", tmp), sha[65];
	const char *paths[] = {"object.o"};
	bool uploaded;

	stitch_rm_rf(tmp);
	if (stitch_mkdir_p(tmp, 0755) == 0 && link(obj, file) == 0 &&
	    stitch_sha256_file(file, sha) == 0)
		stitch_artifacts_store(o->artifacts, in, hash, sha, tmp, paths, 1, o->switch_dir,
		                       &uploaded, NULL);
	stitch_rm_rf(tmp);
	free(tmp);
	free(file);
}

/* Stat data of the project's own files (not _build, _stitch or VCS folders). */
static void stamp_tree(const char *root, const char *rel, struct stitch_buf *b,
                       const char *const *exclude, size_t n_exclude)
{
	char *dir = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char *r =
		    *rel ? xasprintf("%s/%s", rel, names[i]->d_name) : xstrdup(names[i]->d_name);
		char *full = xasprintf("%s/%s", root, r);
		struct stat st;
		bool skip = false;
		for (size_t k = 0; k < n_exclude; k++)
			skip |= strcmp(full, exclude[k]) == 0;
		if (!skip && lstat(full, &st) == 0 &&
		    !stitch_tree_ignored(names[i]->d_name, S_ISDIR(st.st_mode))) {
			if (S_ISDIR(st.st_mode))
				stamp_tree(root, r, b, exclude, n_exclude);
			else
				stitch_buf_addf(b, "%s %lld %lld %lld %o\n", r,
				                (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				                (long long)st.st_mtim.tv_nsec,
				                (unsigned)st.st_mode);
		}
		free(full);
		free(r);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* A small cache file: first line the key, then the value lines. */
static char *read_cached(const char *path, const char *key)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char line[4096];
	FILE *f = fopen(path, "re");
	bool ok = false;

	if (!f)
		return NULL;
	if (fgets(line, sizeof(line), f) && strncmp(line, key, 64) == 0 && line[64] == '\n') {
		size_t n;
		ok = true;
		while ((n = fread(line, 1, sizeof(line), f)) > 0)
			stitch_buf_add(&b, line, n);
	}
	fclose(f);
	if (!ok) {
		stitch_buf_release(&b);
		return NULL;
	}
	return stitch_buf_detach(&b, NULL);
}

static void write_cached(const char *path, const char *key, const char *value)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "we");

	if (f) {
		fprintf(f, "%s\n%s", key, value);
		if (fclose(f) == 0 && rename(tmp, path) == 0) {
			free(tmp);
			return;
		}
	}
	unlink(tmp);
	free(tmp);
}

/* A source to compile: its command, and its key in the artifact cache. */
struct compile_job {
	size_t src;
	char **argv, *depf, *abs;
	char name[512], source[65], recipe[65], hash[65];
	struct stitch_build_inputs in;
};

/* The argument after flag in argv ("" when there is none). */
static const char *arg_after(char *const *argv, const char *flag)
{
	for (size_t i = 0; argv[i]; i++)
		if (!strcmp(argv[i], flag) && argv[i + 1])
			return argv[i + 1];
	return "";
}

/* Start job in a child process; when it fails, its error comes back through *fd. */
static pid_t start_compile(const struct runner *re, const struct compile_job *job, int *fd)
{
	int pfd[2] = {-1, -1};
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		pfd[0] = pfd[1] = -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct stitch_err cerr = STITCH_ERR_INIT;
		int crc = run(re, job->argv, NULL, &cerr);
		if (crc && pfd[1] >= 0 &&
		    write(pfd[1], &cerr, sizeof(cerr)) != (ssize_t)sizeof(cerr))
			_exit(2);
		_exit(crc ? 1 : 0);
	}
	if (pfd[1] >= 0)
		close(pfd[1]);
	*fd = pfd[0];
	return pid;
}

/*
 * job's child ended with status: record and cache its object, or, for the
 * first failure (rc still 0), take the child's error.  Returns the new rc.
 */
static int finish_compile(const struct stitch_link_opts *o, const struct compile_job *job,
                          int status, int fd, int rc, struct stitch_link_result *r,
                          struct stitch_err *err)
{
	const char *src = o->project->sources[job->src];
	char key[65];

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (rc == 0) {
			struct stitch_err cerr = STITCH_ERR_INIT;
			if (fd >= 0 && read(fd, &cerr, sizeof(cerr)) == (ssize_t)sizeof(cerr))
				*err = cerr;
			else
				stitch_error(err, STITCH_E_BUILD, "compiling '%s' failed", src);
			rc = STITCH_E_BUILD;
		}
	} else if (compile_key(o, src, job->argv, key) == 0) {
		write_key(o->project->dir, arg_after(job->argv, "-o"), key);
		r->compiled++;
		if (job->hash[0])
			object_to_cache(o, &job->in, job->hash, job->abs);
	}
	return rc;
}

/*
 * Compile the jobs, several at once: each runs in a child process (which
 * runs the compiler through run()), and its object is recorded and cached
 * here when it succeeds.  Once one fails no more start; the first failure
 * is the error.
 */
static int compile_all(const struct stitch_link_opts *o, const struct runner *re,
                       struct compile_job *jobs, size_t n, struct stitch_link_result *r,
                       struct stitch_err *err)
{
	size_t max = (size_t)stitch_default_jobs(0), next = 0, running = 0, k;
	pid_t *pids = xcalloc(n + 1, sizeof(pid_t)), pid;
	int *fds = xcalloc(n + 1, sizeof(int));
	int rc = 0, status;

	while (next < n || running) {
		while (rc == 0 && next < n && running < max) {
			pids[next] = start_compile(re, &jobs[next], &fds[next]);
			if (pids[next] < 0) {
				rc = stitch_error(err, STITCH_E_BUILD,
				                  "cannot start the compiler: %s", strerror(errno));
				break;
			}
			next++;
			running++;
		}
		if (!running)
			break;
		if ((pid = waitpid(-1, &status, 0)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < next && pids[k] != pid; k++)
			;
		if (k == next)
			continue;
		running--;
		pids[k] = 0;
		rc = finish_compile(o, &jobs[k], status, fds[k], rc, r, err);
		if (fds[k] >= 0)
			close(fds[k]);
		fds[k] = -1;
	}
	free(pids);
	free(fds);
	return rc;
}

/* The fixed environment the tools run in: the switch's tools, no user settings. */
static void runner_init(struct runner *re, const struct stitch_link_opts *o)
{
	const char *dir = o->project->dir;

	re->path = xasprintf("%s/bin:/usr/local/bin:/usr/bin:/bin", o->switch_dir);
	re->envp = xcalloc(8, sizeof(char *));
	re->envp[0] = xasprintf("PATH=%s", re->path);
	re->envp[1] = xasprintf("PKG_CONFIG_PATH=%s/lib/pkgconfig", o->switch_dir);
	re->envp[2] = xasprintf("PKG_CONFIG_LIBDIR=%s/lib/pkgconfig", o->switch_dir);
	re->envp[3] = xstrdup("LC_ALL=C");
	re->envp[4] = xstrdup("TZ=UTC");
	re->envp[5] = xstrdup("SOURCE_DATE_EPOCH=0");
	re->envp[6] = xasprintf("HOME=%s", dir);
	re->cwd = dir;
	re->log = xasprintf("%s/_build/build.log", dir);
	unlink(re->log);
}

static void runner_release(struct runner *re)
{
	free(re->path);
	for (size_t i = 0; re->envp[i]; i++)
		free(re->envp[i]);
	free(re->envp);
	free((char *)re->log);
}

/*
 * Generate only when the project's files or the installed tools changed
 * since the last successful run: a no-op build must not rewrite sources.
 */
static int generate_if_changed(const struct stitch_link_opts *o, const struct runner *re,
                               struct stitch_err *err)
{
	const struct stitch_project *p = o->project;
	struct stitch_buf st = STITCH_BUF_INIT;
	char gkey[65], *gpath = xasprintf("%s/_build/generate.stamp", p->dir), *prev;
	int rc = 0;

	stitch_buf_addf(&st, "inputs %s\n", o->inputs_key ? o->inputs_key : "");
	for (size_t i = 0; i < p->n_generate; i++)
		for (size_t k = 0; k < p->generate[i].argc; k++)
			stitch_buf_addf(&st, "%s%c", p->generate[i].argv[k],
			                k + 1 < p->generate[i].argc ? ' ' : '\n');
	stamp_tree(p->dir, "", &st, o->exclude, o->n_exclude);
	stitch_sha256_hex(st.buf, st.len, gkey);
	stitch_buf_release(&st);
	prev = read_cached(gpath, gkey);
	if (!prev) {
		for (size_t i = 0; i < p->n_generate && rc == 0; i++)
			rc = run(re, p->generate[i].argv, NULL, err);
		if (rc == 0)
			write_cached(gpath, gkey, "");
	}
	free(prev);
	free(gpath);
	return rc;
}

/* pkg-config --cflags into flags (on one line), --static --libs into libs. */
static int pkg_config_flags(const struct stitch_link_opts *o, const struct runner *re,
                            struct stitch_buf *flags, struct stitch_buf *libs,
                            struct stitch_err *err)
{
	char **pc = xcalloc(o->n_pkgs + 4, sizeof(char *));
	size_t k = 0;
	int rc;

	pc[k++] = "pkg-config";
	pc[k++] = "--cflags";
	for (size_t i = 0; i < o->n_pkgs; i++)
		pc[k++] = (char *)o->pkgs[i];
	rc = run(re, pc, flags, err);
	if (rc == 0) {
		pc[1] = "--static";
		memmove(pc + 3, pc + 2, o->n_pkgs * sizeof(char *));
		pc[2] = "--libs";
		pc[o->n_pkgs + 3] = NULL;
		rc = run(re, pc, libs, err);
	}
	free(pc);
	for (size_t i = 0; i < flags->len; i++)
		if (flags->buf[i] == '\n')
			flags->buf[i] = ' ';
	return rc;
}

/* Flags of every library, from their pkg-config files (cached by their interfaces). */
static int library_flags(const struct stitch_link_opts *o, const struct runner *re,
                         struct stitch_buf *flags, struct stitch_buf *libs, struct stitch_err *err)
{
	struct stitch_buf kb = STITCH_BUF_INIT;
	char fkey[65], *fpath = xasprintf("%s/_build/flags.cache", o->project->dir), *cached;
	int rc = 0;

	/* The flags name the switch: a moved or copied project gets its own. */
	stitch_buf_addf(&kb, "%s\n%s\n", o->inputs_key ? o->inputs_key : "", o->switch_dir);
	for (size_t i = 0; i < o->n_pkgs; i++)
		stitch_buf_addf(&kb, "%s\n", o->pkgs[i]);
	stitch_sha256_hex(kb.buf, kb.len, fkey);
	stitch_buf_release(&kb);
	cached = read_cached(fpath, fkey);
	if (cached && strchr(cached, '\n')) {
		char *nl = strchr(cached, '\n');
		stitch_buf_add(flags, cached, (size_t)(nl - cached));
		stitch_buf_adds(libs, nl + 1);
	} else {
		rc = pkg_config_flags(o, re, flags, libs, err);
		if (rc == 0) {
			char *v = xasprintf("%s\n%s", flags->buf, libs->buf);
			write_cached(fpath, fkey, v);
			free(v);
		}
	}
	free(cached);
	free(fpath);
	return rc;
}

/* "cc -c", the project's cflags, the libraries' and the prefix maps, as words. */
static char **compile_flags(const struct stitch_link_opts *o, const char *lib_flags, size_t *n)
{
	const struct stitch_project *p = o->project;
	char **cflags = NULL;
	size_t cap = 0;
	char *map = xasprintf("-ffile-prefix-map=%s=.", p->dir);
	char *map2 = xasprintf("-ffile-prefix-map=%s=/stitch/prefix", o->switch_dir);

	*n = 0;
	add_words(&cflags, n, &cap, "cc -c");
	for (size_t i = 0; i < p->n_cflags; i++)
		add_words(&cflags, n, &cap, p->cflags[i]);
	add_words(&cflags, n, &cap, lib_flags);
	add_words(&cflags, n, &cap, o->target->cflags);
	add_words(&cflags, n, &cap, map);
	add_words(&cflags, n, &cap, map2);
	free(map);
	free(map2);
	return cflags;
}

/* The objects to link, and the compiles still needed for them. */
struct compile_plan {
	char **objs; /* one per source, in order */
	size_t n_objs;
	struct compile_job *jobs;
	size_t n_jobs;
};

/*
 * Take the job's object from the artifact cache when it is there: true
 * when it was, and the job was cleared.
 */
static bool job_from_cache(const struct stitch_link_opts *o, const struct runner *re,
                           struct compile_job *cj, const char *obj, struct stitch_link_result *r)
{
	const struct stitch_project *p = o->project;
	const char *src = p->sources[cj->src];
	char key[65];

	if (!o->artifacts ||
	    object_inputs(o, re, cj->argv, src, cj->name, cj->source, cj->recipe, NULL) != 0)
		return false;
	cj->in = (struct stitch_build_inputs){
	    cj->name, "object", cj->source, o->target->name, o->cc_id, cj->recipe, 0, NULL, NULL};
	stitch_build_inputs_hash(&cj->in, cj->hash);
	if (!object_from_cache(o, cj->hash, cj->abs))
		return false;
	if (compile_key(o, src, cj->argv, key) == 0)
		write_key(p->dir, obj, key);
	r->from_cache++;
	free(cj->abs);
	memset(cj, 0, sizeof(*cj));
	return true;
}

/*
 * Source i's object joins the plan; it becomes a job unless it is up to
 * date or the artifact cache has it.
 */
static int plan_source(const struct stitch_link_opts *o, const struct runner *re, char **cflags,
                       size_t n_cf, size_t i, struct compile_plan *plan,
                       struct stitch_link_result *r, struct stitch_err *err)
{
	const struct stitch_project *p = o->project;
	struct compile_job *cj = &plan->jobs[plan->n_jobs];
	char key[65];
	char *obj = object_name(p->sources[i]);
	char *depf = xasprintf("%s.d", obj);
	char **argv = xcalloc(n_cf + 8, sizeof(char *));
	int rc = 0;

	memcpy(argv, cflags, n_cf * sizeof(char *));
	/* The depfile tells the next build which headers this object read. */
	argv[n_cf] = "-MMD";
	argv[n_cf + 1] = "-MF";
	argv[n_cf + 2] = depf;
	argv[n_cf + 3] = "-o";
	argv[n_cf + 4] = obj;
	argv[n_cf + 5] = p->sources[i];
	plan->objs[plan->n_objs++] = obj;
	if (compile_key(o, p->sources[i], argv, key) != 0) {
		rc = stitch_error(err, STITCH_E_BUILD, "cannot read source '%s/%s': %s", p->dir,
		                  p->sources[i], strerror(errno));
	} else if (!up_to_date(p->dir, obj, key)) {
		cj->src = i;
		cj->argv = argv;
		cj->depf = depf;
		cj->abs = xasprintf("%s/%s", p->dir, obj);
		if (!job_from_cache(o, re, cj, obj, r)) {
			plan->n_jobs++;
			return 0; /* the job owns argv and depf now */
		}
	}
	free(argv);
	free(depf);
	return rc;
}

/* Compile what is out of date and not in the cache; plan->objs is filled for the link. */
static int compile_changed(const struct stitch_link_opts *o, const struct runner *re,
                           const char *lib_flags, struct compile_plan *plan,
                           struct stitch_link_result *r, struct stitch_err *err)
{
	size_t n_sources = o->project->n_sources, n_cf;
	char **cflags = compile_flags(o, lib_flags, &n_cf);
	int rc = 0;

	plan->objs = xcalloc(n_sources + 1, sizeof(char *));
	plan->jobs = xcalloc(n_sources + 1, sizeof(*plan->jobs));
	for (size_t i = 0; i < n_sources && rc == 0; i++)
		rc = plan_source(o, re, cflags, n_cf, i, plan, r, err);
	if (rc == 0)
		rc = compile_all(o, re, plan->jobs, plan->n_jobs, r, err);
	for (size_t k = 0; k < plan->n_jobs; k++) {
		free(plan->jobs[k].argv);
		free(plan->jobs[k].depf);
		free(plan->jobs[k].abs);
	}
	free(plan->jobs);
	plan->jobs = NULL;
	plan->n_jobs = 0;
	free_words(cflags, n_cf);
	return rc;
}

/* "cc -o out", the objects, the libraries and the ldflags: n words and a NULL. */
static char **link_command(const struct stitch_link_opts *o, const struct compile_plan *plan,
                           const char *libs, const char *out, size_t *n)
{
	const struct stitch_project *p = o->project;
	char **lv = NULL;
	size_t cap = 0;

	*n = 0;
	add_words(&lv, n, &cap, "cc -o");
	XGROW(lv, cap, *n + 2);
	lv[(*n)++] = xstrdup(out);
	for (size_t i = 0; i < plan->n_objs; i++) {
		XGROW(lv, cap, *n + 2);
		lv[(*n)++] = xstrdup(plan->objs[i]);
	}
	add_words(&lv, n, &cap, libs);
	for (size_t i = 0; i < p->n_ldflags; i++)
		add_words(&lv, n, &cap, p->ldflags[i]);
	add_words(&lv, n, &cap, o->target->ldflags);
	XGROW(lv, cap, *n + 1);
	lv[*n] = NULL;
	return lv;
}

/*
 * Relink when any input changed: the objects, the command, or an archive
 * of the switch (stat data, as make would see it).
 */
static void link_key(const struct stitch_link_opts *o, char *const *lv, size_t n, char key[65])
{
	struct stitch_buf kb = STITCH_BUF_INIT;
	char *libdir = xasprintf("%s/lib", o->switch_dir);

	for (size_t i = 1; i < n; i++) {
		char *f =
		    lv[i][0] == '/' ? xstrdup(lv[i]) : xasprintf("%s/%s", o->project->dir, lv[i]);
		struct stat st;
		stitch_buf_addf(&kb, "%s\n", i == 1 ? "(output)" : lv[i]);
		if (i > 1 && stat(f, &st) == 0)
			stitch_buf_addf(&kb, " %lld %lld.%09ld %lld\n", (long long)st.st_size,
			                (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			                (long long)st.st_ino);
		free(f);
	}
	stamp_tree(libdir, "", &kb, NULL, 0);
	free(libdir);
	stitch_sha256_hex(kb.buf, kb.len, key);
	stitch_buf_release(&kb);
}

/* Link into tmp, then replace r->image with it; unchanged inputs keep the image. */
static int link_image(const struct stitch_link_opts *o, const struct runner *re,
                      const struct compile_plan *plan, const char *libs, const char *tmp,
                      struct stitch_link_result *r, struct stitch_err *err)
{
	char lkey[65], *lpath = xasprintf("%s/_build/link.stamp", o->project->dir), *prev;
	size_t n;
	char **lv = link_command(o, plan, libs, tmp, &n);
	struct stat ist;
	int rc = 0;

	link_key(o, lv, n, lkey);
	prev = read_cached(lpath, lkey);
	if (prev && stat(r->image, &ist) == 0 && strlen(prev) == 64) {
		/* Nothing changed: the image stands; its hash is on record. */
		memcpy(r->sha256, prev, 65);
		r->relinked = false;
	} else {
		rc = run(re, lv, NULL, err);
		if (rc == 0 && rename(tmp, r->image) != 0)
			rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", r->image,
			                  strerror(errno));
		if (rc == 0 && stitch_sha256_file(r->image, r->sha256) != 0)
			rc = stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", r->image,
			                  strerror(errno));
		if (rc == 0)
			write_cached(lpath, lkey, r->sha256);
		r->relinked = true;
	}
	free(prev);
	free(lpath);
	free_words(lv, n);
	return rc;
}

int stitch_link(const struct stitch_link_opts *o, struct stitch_link_result *r,
                struct stitch_err *err)
{
	const struct stitch_project *p = o->project;
	struct runner run_env = {0};
	struct stitch_buf flags = STITCH_BUF_INIT, libs = STITCH_BUF_INIT;
	struct compile_plan plan = {0};
	char *obj_dir = xasprintf("%s/_build/obj", p->dir), *tmp = NULL;
	double t0 = stitch_now(), t_link;
	int rc;

	memset(r, 0, sizeof(*r));
	stitch_mkdir_p(obj_dir, 0755);
	runner_init(&run_env, o);
	rc = generate_if_changed(o, &run_env, err);
	if (rc == 0)
		rc = library_flags(o, &run_env, &flags, &libs, err);
	if (rc == 0)
		rc = compile_changed(o, &run_env, flags.buf, &plan, r, err);
	if (rc)
		goto out;
	/* Link into a temporary name: a failed link keeps the previous image. */
	t_link = stitch_now();
	r->image = xasprintf("%s/_build/%s%s", p->dir, p->name, o->target->suffix);
	tmp = xasprintf("%s.tmp", r->image);
	rc = link_image(o, &run_env, &plan, libs.buf, tmp, r, err);
	r->link_seconds = stitch_now() - t_link;
out:
	if (rc && tmp)
		unlink(tmp);
	if (rc == STITCH_E_BUILD)
		stitch_error_wrap(err, "cannot build '%s'", p->name);
	r->seconds = stitch_now() - t0;
	free_words(plan.objs, plan.n_objs);
	free(tmp);
	free(obj_dir);
	stitch_buf_release(&flags);
	stitch_buf_release(&libs);
	runner_release(&run_env);
	return rc;
}

void stitch_link_result_release(struct stitch_link_result *r)
{
	free(r->image);
	memset(r, 0, sizeof(*r));
}
