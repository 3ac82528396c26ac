/*
 * Package commands in a fixed environment.  Nothing of the caller's
 * environment leaks in: the variables below are the whole of it, so a
 * build gives the same result on any machine and from any shell.
 */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build_driver.h"
#include "util.h"

static int lookup_var(const char *name, size_t len, const struct stitch_build_env *env,
                      struct stitch_buf *out)
{
#define IS(s) (len == sizeof(s) - 1 && memcmp(name, s, len) == 0)
	if (IS("prefix"))
		stitch_buf_adds(out, env->prefix);
	else if (IS("jobs"))
		stitch_buf_addf(out, "%d", env->jobs > 0 ? env->jobs : 1);
	else if (IS("name"))
		stitch_buf_adds(out, env->name);
	else if (IS("version"))
		stitch_buf_adds(out, env->version);
	else if (IS("lib"))
		stitch_buf_addf(out, "%s/lib", env->prefix);
	else if (IS("include"))
		stitch_buf_addf(out, "%s/include", env->prefix);
	else if (IS("target"))
		stitch_buf_adds(out, env->target ? env->target : "unix");
	else
		return -1;
	return 0;
#undef IS
}

int stitch_build_expand(const char *s, const struct stitch_build_env *env, char **out,
                        struct stitch_err *err)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	const char *p = s;

	while (*p) {
		const char *open = strstr(p, "%{"), *close;
		if (!open || !(close = strstr(open + 2, "}%"))) {
			stitch_buf_adds(&b, p);
			break;
		}
		stitch_buf_add(&b, p, (size_t)(open - p));
		if (lookup_var(open + 2, (size_t)(close - open - 2), env, &b) != 0) {
			stitch_error(err, STITCH_E_BUILD,
			             "%s %s: unknown variable '%%{%.*s}%%' in '%s' (known: prefix, "
			             "jobs, name, version, lib, include, target)",
			             env->name, env->version, (int)(close - open - 2), open + 2, s);
			stitch_buf_release(&b);
			return STITCH_E_BUILD;
		}
		p = close + 2;
	}
	*out = stitch_buf_detach(&b, NULL);
	return 0;
}

char *stitch_build_log_tail(const char *path, int n)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char chunk[65536];
	FILE *f = fopen(path, "rbe");
	long size, start;
	size_t got;
	const char *p;
	int lines = 0;

	if (!f)
		return xstrdup("");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	start = size > (long)sizeof(chunk) ? size - (long)sizeof(chunk) : 0;
	fseek(f, start, SEEK_SET);
	got = fread(chunk, 1, sizeof(chunk), f);
	fclose(f);
	while (got > 0 && chunk[got - 1] == '\n')
		got--;
	p = chunk + got;
	while (p > chunk) {
		if (p[-1] == '\n' && ++lines == n)
			break;
		p--;
	}
	stitch_buf_add(&b, p, got - (size_t)(p - chunk));
	return stitch_buf_detach(&b, NULL);
}

static char **make_envp(const struct stitch_build_env *env, char **path_out)
{
	char **envp = xcalloc(16, sizeof(char *));
	int n = 0;

	*path_out = xasprintf("%s/bin:/usr/local/bin:/usr/bin:/bin", env->prefix);
	envp[n++] = xasprintf("PATH=%s", *path_out);
	envp[n++] = xasprintf("PKG_CONFIG_PATH=%s/lib/pkgconfig", env->prefix);
	envp[n++] = xasprintf("PKG_CONFIG_LIBDIR=%s/lib/pkgconfig", env->prefix);
	envp[n++] = xstrdup("CC=cc");
	/* Paths of this machine must not reach the objects. */
	envp[n++] = xasprintf(
	    "CFLAGS=-O2 -ffile-prefix-map=%s=/stitch/src/%s-%s -ffile-prefix-map=%s=/stitch/prefix",
	    env->work_dir, env->name, env->version, env->prefix);
	/* DESTDIR comes after it for install commands (build_driver.c). */
	envp[n++] = xasprintf("PREFIX=%s", env->prefix);
	envp[n++] = xasprintf("MAKEFLAGS=-j%d", env->jobs > 0 ? env->jobs : 1);
	envp[n++] = xstrdup("LC_ALL=C");
	envp[n++] = xstrdup("TZ=UTC");
	envp[n++] = xasprintf("SOURCE_DATE_EPOCH=%lld", env->source_date_epoch);
	envp[n++] = xstrdup("ZERO_AR_DATE=1");
	envp[n++] = xasprintf("HOME=%s", env->work_dir);
	envp[n] = NULL;
	return envp;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void describe(struct stitch_buf *b, char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			stitch_buf_addch(b, ' ');
		stitch_buf_adds(b, argv[i]);
	}
}

static const char *bwrap_override;

void stitch_build_set_bwrap(const char *path)
{
	bwrap_override = path;
}

static char *find_bwrap(void)
{
	if (bwrap_override)
		return access(bwrap_override, X_OK) == 0 ? xstrdup(bwrap_override) : NULL;
	return stitch_build_find_program("bwrap", "/usr/bin:/bin");
}

static void push_arg(char ***v, size_t *n, size_t *cap, const char *a)
{
	XGROW(*v, *cap, *n + 2);
	(*v)[(*n)++] = xstrdup(a);
	(*v)[*n] = NULL;
}

static void push_mount(char ***v, size_t *n, size_t *cap, const char *how, const char *path)
{
	push_arg(v, n, cap, how);
	push_arg(v, n, cap, path);
	if (strcmp(how, "--tmpfs") != 0)
		push_arg(v, n, cap, path); /* the same path inside: recipes see real paths */
}

/*
 * bwrap's command line for env's sandbox, up to its "--": the driver
 * (self, stitch itself) runs there as pid 1.  Order matters: the empty
 * directories hide what lies below them, then stitch (read-only, wherever
 * it is installed), the switch (read-only) and the build's own directories
 * (writable) come back at their paths, wherever they live.
 */
static char **sandbox_argv(const char *bwrap, const struct stitch_build_env *env, const char *self)
{
	static const char *const hidden[] = {"/tmp", "/var/tmp", "/run", "/home", "/root"};
	static const char *const fixed[] = {"--die-with-parent",
	                                    "--new-session",
	                                    "--unshare-all",
	                                    "--as-pid-1",
	                                    "--ro-bind",
	                                    "/",
	                                    "/",
	                                    "--dev",
	                                    "/dev",
	                                    "--proc",
	                                    "/proc",
	                                    NULL};
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct stat st;

	push_arg(&v, &n, &cap, bwrap);
	for (size_t i = 0; fixed[i]; i++)
		push_arg(&v, &n, &cap, fixed[i]);
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (lstat(hidden[i], &st) == 0 && S_ISDIR(st.st_mode))
			push_mount(&v, &n, &cap, "--tmpfs", hidden[i]);
	push_mount(&v, &n, &cap, "--ro-bind", env->prefix);
	if (env->hidden)
		push_mount(&v, &n, &cap, "--tmpfs", env->hidden);
	push_mount(&v, &n, &cap, "--ro-bind", self);
	if (env->work_dir)
		push_mount(&v, &n, &cap, "--bind", env->work_dir);
	if (env->staging)
		push_mount(&v, &n, &cap, "--bind", env->staging);
	push_arg(&v, &n, &cap, "--chdir");
	push_arg(&v, &n, &cap, env->work_dir ? env->work_dir : "/");
	push_arg(&v, &n, &cap, "--");
	return v;
}

static void add_sandbox_hint(struct stitch_err *err)
{
	stitch_error_cause(err, "hint: install bubblewrap, or build without the sandbox: "
	                        "'stitch --no-sandbox ...' (or \"sandbox\": false in the "
	                        "root's config.json)");
}

static int no_bwrap(const struct stitch_build_env *env, struct stitch_err *err)
{
	stitch_error(err, STITCH_E_BUILD,
	             "cannot build '%s %s' in a sandbox: bubblewrap (%s) is not installed",
	             env->name, env->version, bwrap_override ? bwrap_override : "bwrap");
	add_sandbox_hint(err);
	return STITCH_E_BUILD;
}

static int sandbox_failed(const struct stitch_build_env *env, const char *bwrap, int status,
                          struct stitch_err *err)
{
	char *tail = stitch_build_log_tail(env->log_path, 5);

	stitch_error(err, STITCH_E_BUILD,
	             "cannot build '%s %s' in a sandbox: bubblewrap (%s) could not set it up "
	             "(status %d)",
	             env->name, env->version, bwrap, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (tail[0])
		stitch_error_cause(err, "%s\nlog: %s", tail, env->log_path);
	add_sandbox_hint(err);
	free(tail);
	return STITCH_E_BUILD;
}

static int command_failed(const char *what, const struct stitch_build_env *env, const char *line,
                          int status, struct stitch_err *err)
{
	char *tail = stitch_build_log_tail(env->log_path, 30);

	if (status > 0 && WIFSIGNALED(status))
		stitch_error(err, STITCH_E_BUILD,
		             "%s of '%s %s' failed: '%s' was killed by signal %d", what, env->name,
		             env->version, line, WTERMSIG(status));
	else
		stitch_error(err, STITCH_E_BUILD,
		             "%s of '%s %s' failed: '%s' exited with status %d", what, env->name,
		             env->version, line, status > 0 ? WEXITSTATUS(status) : -1);
	stitch_error_cause(err, "%s\nlog: %s", tail, env->log_path);
	free(tail);
	return STITCH_E_BUILD;
}

/* One step's commands expanded, with what a failure says about them. */
struct expanded {
	struct stitch_build_cmd *cmds;
	const char **what; /* per command: "build", "install", ... */
	char **lines; /* per command: as the log shows it */
	size_t n;
};

static void expanded_release(struct expanded *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free_strv(e->cmds[i].argv);
		free(e->lines[i]);
	}
	free(e->cmds);
	free(e->what);
	free(e->lines);
}

/* Expand every command of every step, before any runs. */
static int expand_steps(const struct stitch_build_step *steps, size_t n_steps,
                        const struct stitch_build_env *env, struct expanded *e,
                        struct stitch_err *err)
{
	size_t total = 0;

	memset(e, 0, sizeof(*e));
	for (size_t s = 0; s < n_steps; s++)
		total += steps[s].list->n;
	e->cmds = xcalloc(total + 1, sizeof(*e->cmds));
	e->what = xcalloc(total + 1, sizeof(*e->what));
	e->lines = xcalloc(total + 1, sizeof(*e->lines));
	for (size_t s = 0; s < n_steps; s++) {
		for (size_t i = 0; i < steps[s].list->n; i++) {
			const struct stitch_command *c = &steps[s].list->cmds[i];
			struct stitch_build_cmd *bc = &e->cmds[e->n];
			struct stitch_buf line = STITCH_BUF_INIT;
			bc->argv = xcalloc(c->argc + 1, sizeof(char *));
			bc->destdir = steps[s].install;
			e->what[e->n] = steps[s].what;
			e->n++;
			for (size_t k = 0; k < c->argc; k++)
				if (stitch_build_expand(c->argv[k], env, &bc->argv[k], err) != 0)
					return STITCH_E_BUILD;
			describe(&line, bc->argv);
			e->lines[e->n - 1] = stitch_buf_detach(&line, NULL);
		}
	}
	return 0;
}

struct echo {
	const struct stitch_build_env *env;
	const struct expanded *e;
};

static void echo_start(void *data, size_t i)
{
	const struct echo *o = data;

	if (o->env->echo_fd > 0)
		dprintf(o->env->echo_fd, "%s %s: $ %s\n", o->env->name, o->env->version,
		        o->e->lines[i]);
}

/*
 * Run e's commands in one sandbox (bwrap set) or one network namespace;
 * with probe, the sandbox is started even for no command.
 */
static int run_expanded(const struct expanded *e, const struct stitch_build_env *env,
                        const char *bwrap, bool probe, struct stitch_err *err)
{
	struct stitch_build_script s = {0};
	struct stitch_build_outcome out;
	struct echo o = {env, e};
	char *path = NULL, *self = NULL, **envp = make_envp(env, &path), **sargv = NULL;
	int rc = 0;

	s.log_fd = open(env->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s.log_fd < 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot write build log '%s': %s",
		                  env->log_path, strerror(errno));
		goto out;
	}
	if (!e->n && !probe)
		goto out;
	s.cmds = e->cmds;
	s.n = e->n;
	s.destdir = env->staging;
	s.envp = envp;
	s.work_dir = env->work_dir;
	s.isolate_network = env->isolate_network;
	s.on_start = echo_start;
	s.data = &o;
	if (bwrap) {
		/* Never run outside the sandbox, whatever happens. */
		if (!(self = stitch_build_self())) {
			rc = sandbox_failed(env, bwrap, -1, err);
			goto out;
		}
		sargv = sandbox_argv(bwrap, env, self);
	}
	stitch_build_script_run(&s, sargv, &out);
	if (bwrap && !out.started)
		rc = sandbox_failed(env, bwrap, out.status, err);
	else if (out.failed < e->n)
		rc =
		    command_failed(e->what[out.failed], env, e->lines[out.failed], out.status, err);
out:
	if (s.log_fd >= 0)
		close(s.log_fd);
	free_strv(envp);
	free_strv(sargv);
	free(path);
	free(self);
	return rc;
}

int stitch_build_sandbox_check(const struct stitch_build_env *env, struct stitch_err *err)
{
	struct stitch_build_env probe = *env;
	struct expanded none;
	char *bwrap = find_bwrap();
	int rc;

	if (!bwrap)
		return no_bwrap(env, err);
	memset(&none, 0, sizeof(none));
	probe.work_dir = probe.staging = NULL;
	rc = run_expanded(&none, &probe, bwrap, true, err);
	if (rc == STITCH_E_IO) /* no log: the check itself says nothing of the sandbox */
		rc = 0;
	free(bwrap);
	return rc;
}

int stitch_build_run_steps(const struct stitch_build_step *steps, size_t n,
                           const struct stitch_build_env *env, struct stitch_err *err)
{
	struct expanded e;
	char *bwrap = NULL;
	int rc;

	if (env->sandbox && !(bwrap = find_bwrap()))
		return no_bwrap(env, err);
	rc = expand_steps(steps, n, env, &e, err);
	if (rc == 0)
		rc = run_expanded(&e, env, bwrap, false, err);
	expanded_release(&e);
	free(bwrap);
	return rc;
}

int stitch_build_run(const struct stitch_cmdlist *list, const char *what,
                     const struct stitch_build_env *env, struct stitch_err *err)
{
	struct stitch_build_step step = {list, what, env->staging != NULL};

	return stitch_build_run_steps(&step, 1, env, err);
}
void stitch_cc_identity(const char *cache_dir, char *out, size_t len)
{
	char *argv[] = {"cc", "--version", NULL};
	struct stitch_buf b = STITCH_BUF_INIT;
	char *real = realpath("/usr/bin/cc", NULL), *cache, *nl, stamp[160] = "", line[320];
	struct stat st;
	FILE *f;

	out[0] = '\0';
	if (real && stat(real, &st) == 0)
		snprintf(stamp, sizeof(stamp), "%s %lld %lld %lld", real, (long long)st.st_size,
		         (long long)st.st_mtim.tv_sec, (long long)st.st_ino);
	free(real);
	cache = xasprintf("%s/cc-identity", cache_dir);
	if (stamp[0] && (f = fopen(cache, "re")) != NULL) {
		if (fgets(line, sizeof(line), f) && strncmp(line, stamp, strlen(stamp)) == 0 &&
		    line[strlen(stamp)] == '\n' && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line);
		}
		fclose(f);
	}
	if (!out[0]) {
		stitch_run_capture(argv, &b, 4096);
		nl = strchr(b.buf, '\n');
		if (nl)
			*nl = '\0';
		snprintf(out, len, "%s", b.len ? b.buf : "unknown");
		stitch_buf_release(&b);
		if (stamp[0] && (f = fopen(cache, "we")) != NULL) {
			fprintf(f, "%s\n%s\n", stamp, out);
			fclose(f);
		}
	}
	free(cache);
}

int stitch_default_jobs(int asked)
{
	const char *e = getenv("STITCH_JOBS");
	long n;

	if (asked > 0)
		return asked;
	n = e ? strtol(e, NULL, 10) : 0;
	if (n > 0 && n < 1024)
		return (int)n;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 && n < 1024 ? (int)n : 1;
}
