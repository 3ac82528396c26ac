/*
 * Package commands in a fixed environment.  Nothing of the caller's
 * environment leaks in: the variables below are the whole of it, so a
 * build gives the same result on any machine and from any shell.
 */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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

char *stitch_build_find_program(const char *prog, const char *path)
{
	const char *p = path;

	if (strchr(prog, '/'))
		return xstrdup(prog);
	while (*p) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char *cand = xasprintf("%.*s/%s", (int)len, p, prog);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		p += len + (colon ? 1 : 0);
	}
	return NULL;
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
	envp[n++] = xasprintf("PREFIX=%s", env->prefix);
	if (env->staging)
		envp[n++] = xasprintf("DESTDIR=%s", env->staging);
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

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Take the calling process off the network.  Root gets a new network
 * namespace directly.  Anyone else needs a user namespace first, and in it
 * the process keeps its own uid and gid: without a map it would run as the
 * overflow id, and exec of the compiler fails ("make: cc: Invalid
 * argument").  A new PID namespace comes with it when it can (extra:
 * CLONE_NEWPID), for the children to come.  Returns 0, or -1 with errno
 * set when neither works.
 */
static int leave_network(int extra)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];

	if (unshare(CLONE_NEWNET | extra) == 0)
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET | extra) != 0)
		return -1;
	/* An unprivileged gid_map needs setgroups denied first. */
	if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) != 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return write_file("/proc/self/gid_map", map);
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
 * bwrap's command line running argv in env's sandbox, its status to fd 3.
 * Order matters: the empty directories hide what lies below them, then the
 * switch (read-only) and the build's own directories (writable) come back
 * at their paths, wherever they live.  argv NULL: no command (the caller
 * adds one).
 */
static char **sandbox_argv(const char *bwrap, const struct stitch_build_env *env, char *const *argv)
{
	static const char *const hidden[] = {"/tmp", "/var/tmp", "/run", "/home", "/root"};
	static const char *const fixed[] = {"--die-with-parent",
	                                    "--new-session",
	                                    "--unshare-all",
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
	if (env->work_dir)
		push_mount(&v, &n, &cap, "--bind", env->work_dir);
	if (env->staging)
		push_mount(&v, &n, &cap, "--bind", env->staging);
	push_arg(&v, &n, &cap, "--chdir");
	push_arg(&v, &n, &cap, env->work_dir ? env->work_dir : "/");
	push_arg(&v, &n, &cap, "--json-status-fd");
	push_arg(&v, &n, &cap, "3");
	push_arg(&v, &n, &cap, "--");
	for (size_t i = 0; argv && argv[i]; i++)
		push_arg(&v, &n, &cap, argv[i]);
	return v;
}

/*
 * In the child: stdin from /dev/null, stdout and stderr to the log, the
 * sandbox's status (if any) on 3, and nothing else open, whatever the
 * parent had (sqlite, curl's connections, other builds' pipes).
 */
static void child_fds(int log_fd, int status_fd)
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(log_fd, 1);
	dup2(log_fd, 2);
	if (status_fd == 3)
		fcntl(3, F_SETFD, 0);
	else if (status_fd >= 0)
		dup2(status_fd, 3);
	close_range(status_fd >= 0 ? 4 : 3, ~0U, 0);
}

/* What one command did: its wait status, and whether its sandbox started. */
struct run_result {
	int status; /* -1: it could not be started */
	bool sandbox_failed; /* bubblewrap ran but never started the command */
};

/*
 * Once in a new PID namespace: the command runs as its first process, so
 * that whatever it starts dies with it, and it dies with this one, which
 * waits and passes its status on.
 */
static void run_as_init(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		dprintf(2, "stitch: cannot start the build: %s\n", strerror(errno));
		_exit(126);
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
		_exit(128 + WTERMSIG(status));
	}
	_exit(WEXITSTATUS(status));
}

static void exec_child(char *const *argv, char *const *envp, const char *prog, char *const *sargv,
                       const struct stitch_build_env *env)
{
	umask(022);
	if (sargv) {
		execve(sargv[0], sargv, envp);
		dprintf(2, "stitch: cannot run '%s': %s\n", sargv[0], strerror(errno));
		_exit(127);
	}
	if (env->isolate_network) {
		if (leave_network(CLONE_NEWPID) == 0)
			run_as_init();
		else if (leave_network(0) != 0) {
			dprintf(2, "stitch: cannot take the build off the network: %s\n",
			        strerror(errno));
			_exit(126);
		}
	}
	if (chdir(env->work_dir) != 0) {
		dprintf(2, "stitch: cannot enter '%s': %s\n", env->work_dir, strerror(errno));
		_exit(126);
	}
	execve(prog, argv, envp);
	dprintf(2, "stitch: cannot run '%s': %s\n", prog, strerror(errno));
	_exit(127);
}

/* Did bwrap's status (read from fd until EOF) say the command ran? */
static bool sandbox_ran(int fd)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char chunk[1024];
	ssize_t n;
	bool ran;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len > 65536)
			break;
		stitch_buf_add(&b, chunk, (size_t)n);
	}
	ran = b.len && strstr(b.buf, "\"exit-code\"") != NULL;
	stitch_buf_release(&b);
	return ran;
}

/* Run one command (in the sandbox when sargv is set, else argv directly). */
static struct run_result run_one(char *const *argv, char *const *envp, const char *prog,
                                 char *const *sargv, const struct stitch_build_env *env, int log_fd)
{
	struct run_result r = {-1, false};
	int fds[2] = {-1, -1};
	pid_t parent = getpid(), pid;

	if (sargv && pipe2(fds, O_CLOEXEC) != 0)
		return r;
	pid = fork();
	if (pid == 0) {
		/* Dies with us, even when we are killed with no chance to clean up. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		child_fds(log_fd, fds[1]);
		exec_child(argv, envp, prog, sargv, env);
	}
	if (fds[1] >= 0)
		close(fds[1]);
	while (pid > 0 && waitpid(pid, &r.status, 0) < 0) {
		if (errno != EINTR) {
			r.status = -1;
			break;
		}
	}
	if (pid > 0 && sargv && r.status != -1 && !WIFSIGNALED(r.status))
		r.sandbox_failed = !sandbox_ran(fds[0]);
	if (fds[0] >= 0)
		close(fds[0]);
	return r;
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

/* Expand and run command c, logged to log_fd. */
static int run_command(const struct stitch_command *c, const char *what,
                       const struct stitch_build_env *env, const char *bwrap, char *const *envp,
                       const char *path, int log_fd, struct stitch_err *err)
{
	char **argv = xcalloc(c->argc + 1, sizeof(char *)), **sargv = NULL;
	struct stitch_buf line = STITCH_BUF_INIT;
	struct run_result r = {127 << 8, false};
	char *prog = NULL;
	int rc = 0;

	for (size_t k = 0; k < c->argc && rc == 0; k++)
		rc = stitch_build_expand(c->argv[k], env, &argv[k], err);
	if (rc)
		goto out;
	describe(&line, argv);
	dprintf(log_fd, "$ %s\n", line.buf);
	if (env->echo_fd > 0)
		dprintf(env->echo_fd, "%s %s: $ %s\n", env->name, env->version, line.buf);
	prog = stitch_build_find_program(argv[0], path);
	if (!prog) {
		dprintf(log_fd, "stitch: '%s' not found in PATH=%s\n", argv[0], path);
	} else {
		if (bwrap)
			sargv = sandbox_argv(bwrap, env, argv);
		r = run_one(argv, envp, prog, sargv, env, log_fd);
	}
	if (r.sandbox_failed)
		rc = sandbox_failed(env, bwrap, r.status, err);
	else if (r.status != 0)
		rc = command_failed(what, env, line.buf, r.status, err);
out:
	free(prog);
	stitch_buf_release(&line);
	free_strv(argv);
	free_strv(sargv);
	return rc;
}

int stitch_build_sandbox_check(const struct stitch_build_env *env, struct stitch_err *err)
{
	char *bwrap = find_bwrap(), *path = NULL;
	char *argv[] = {"true", NULL}, **envp, **sargv;
	struct stitch_build_env probe = *env;
	struct run_result r;
	int log_fd;

	if (!bwrap)
		return no_bwrap(env, err);
	probe.work_dir = probe.staging = NULL;
	envp = make_envp(env, &path);
	sargv = sandbox_argv(bwrap, &probe, argv);
	log_fd = open(env->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		log_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	r = run_one(argv, envp, "/bin/true", sargv, &probe, log_fd);
	close(log_fd);
	free_strv(envp);
	free_strv(sargv);
	free(path);
	if (r.sandbox_failed || r.status != 0) {
		int rc = sandbox_failed(env, bwrap, r.status, err);
		free(bwrap);
		return rc;
	}
	free(bwrap);
	return 0;
}

int stitch_build_run(const struct stitch_cmdlist *list, const char *what,
                     const struct stitch_build_env *env, struct stitch_err *err)
{
	char *path = NULL, *bwrap = NULL;
	char **envp = make_envp(env, &path);
	int log_fd = -1, rc = 0;

	if (env->sandbox && !(bwrap = find_bwrap())) {
		rc = no_bwrap(env, err);
		goto out;
	}
	log_fd = open(env->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot write build log '%s': %s",
		                  env->log_path, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < list->n && rc == 0; i++)
		rc = run_command(&list->cmds[i], what, env, bwrap, envp, path, log_fd, err);
	close(log_fd);
out:
	free_strv(envp);
	free(path);
	free(bwrap);
	return rc;
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
