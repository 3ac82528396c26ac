/*
 * The build driver: a package's commands in one sandbox (or one network
 * namespace), run in order by one process.  See build_driver.h.
 */
#include "build_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build.h"
#include "util.h"

/* The driver's descriptor for its reports, in the runner and the driver. */
#define REPORT_FD 3

/* What the driver reports on its pipe: whole records, each one write. */
enum record_kind { RECORD_READY = 1, RECORD_START, RECORD_END };

struct record {
	int32_t kind;
	int32_t index;
	int32_t status;
};

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

char *stitch_build_self(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0 || n == (ssize_t)sizeof(buf) - 1)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static void report(int fd, enum record_kind kind, size_t index, int status)
{
	struct record r = {(int32_t)kind, (int32_t)index, (int32_t)status};

	/* Smaller than PIPE_BUF: written whole or not at all. */
	while (write(fd, &r, sizeof(r)) < 0 && errno == EINTR)
		;
}

/* envp with DESTDIR=value where a build's environment has it: after PREFIX. */
static char **with_destdir(char *const *envp, const char *value)
{
	size_t n = 0, k = 0;
	char **v;

	while (envp[n])
		n++;
	v = xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		v[k++] = envp[i];
		if (strncmp(envp[i], "PREFIX=", 7) == 0)
			v[k++] = xasprintf("DESTDIR=%s", value);
	}
	if (k == n)
		v[k++] = xasprintf("DESTDIR=%s", value);
	v[k] = NULL;
	return v;
}

static const char *env_path(char *const *envp)
{
	for (size_t i = 0; envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return "/usr/bin:/bin";
}

/*
 * As pid 1 of a namespace: what the last command left running (a daemon,
 * a stray background job) dies before the next one starts, as it did when
 * each command had a sandbox of its own, and every orphan is reaped.
 * kill(-1) reaches this namespace only, and only pid 1 is ever in one.
 */
static void reap_leftovers(void)
{
	if (getpid() != 1)
		return;
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/* Run one command in a child; its wait status (127 << 8 when not found). */
static int run_command(char *const *argv, char *const *envp, const char *path)
{
	struct stitch_buf line = STITCH_BUF_INIT;
	char *prog;
	int status = 127 << 8;
	pid_t self = getpid(), pid;

	for (size_t i = 0; argv[i]; i++)
		stitch_buf_addf(&line, "%s%s", i ? " " : "", argv[i]);
	dprintf(1, "$ %s\n", line.buf);
	stitch_buf_release(&line);
	prog = stitch_build_find_program(argv[0], path);
	if (!prog) {
		dprintf(1, "stitch: '%s' not found in PATH=%s\n", argv[0], path);
		return status;
	}
	pid = fork();
	if (pid == 0) {
		/* Outside a PID namespace of its own the command dies with us this way. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(126);
		execve(prog, argv, envp);
		dprintf(2, "stitch: cannot run '%s': %s\n", prog, strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		dprintf(2, "stitch: cannot start '%s': %s\n", prog, strerror(errno));
		status = 126 << 8;
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = 126 << 8;
			break;
		}
	}
	free(prog);
	return status;
}

/* The driver's loop: every command in order, up to the first failure. */
static int drive(const struct stitch_build_cmd *cmds, size_t n, const char *destdir,
                 char *const *envp, int fd)
{
	char **denvp = destdir ? with_destdir(envp, destdir) : NULL;
	const char *path = env_path(envp);
	int status = 0;

	/* The commands see 0, 1 and 2 only. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	umask(022);
	report(fd, RECORD_READY, 0, 0);
	for (size_t i = 0; i < n && status == 0; i++) {
		report(fd, RECORD_START, i, 0);
		status = run_command(cmds[i].argv, cmds[i].destdir && denvp ? denvp : envp, path);
		reap_leftovers();
		report(fd, RECORD_END, i, status);
	}
	if (denvp) {
		for (size_t i = 0; denvp[i]; i++)
			if (strncmp(denvp[i], "DESTDIR=", 8) == 0)
				free(denvp[i]);
		free(denvp);
	}
	return status == 0 ? 0 : 1;
}

/*
 * The driver's command line: STITCH_BUILD_DRIVER, DESTDIR's value ("-"
 * for none: a real one is an absolute path), then per command "d" (with
 * DESTDIR) or "-", its argument count and its arguments.
 */
static void push(char ***v, size_t *n, size_t *cap, const char *a)
{
	XGROW(*v, *cap, *n + 2);
	(*v)[(*n)++] = xstrdup(a);
	(*v)[*n] = NULL;
}

static char **driver_argv(const struct stitch_build_script *s, char *const *sandbox,
                          const char *self)
{
	char **v = NULL, num[32];
	size_t n = 0, cap = 0;

	for (size_t i = 0; sandbox[i]; i++)
		push(&v, &n, &cap, sandbox[i]);
	push(&v, &n, &cap, self);
	push(&v, &n, &cap, STITCH_BUILD_DRIVER);
	push(&v, &n, &cap, s->destdir ? s->destdir : "-");
	for (size_t i = 0; i < s->n; i++) {
		size_t argc = 0;
		while (s->cmds[i].argv[argc])
			argc++;
		snprintf(num, sizeof(num), "%zu", argc);
		push(&v, &n, &cap, s->cmds[i].destdir ? "d" : "-");
		push(&v, &n, &cap, num);
		for (size_t k = 0; k < argc; k++)
			push(&v, &n, &cap, s->cmds[i].argv[k]);
	}
	return v;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Decode driver_argv's arguments (after the driver word) into cmds; -1 if malformed. */
static int parse_driver_args(int argc, char **argv, struct stitch_build_cmd **cmds, size_t *n)
{
	size_t cap = 0;
	int i = 0;

	*cmds = NULL;
	*n = 0;
	while (i < argc) {
		char *end;
		long k;
		if (i + 1 >= argc || (strcmp(argv[i], "d") != 0 && strcmp(argv[i], "-") != 0))
			return -1;
		errno = 0;
		k = strtol(argv[i + 1], &end, 10);
		if (errno || *end || end == argv[i + 1] || k < 1 || k > argc - i - 2)
			return -1;
		XGROW(*cmds, cap, *n + 1);
		(*cmds)[*n].destdir = argv[i][0] == 'd';
		(*cmds)[*n].argv = xcalloc((size_t)k + 1, sizeof(char *));
		memcpy((*cmds)[*n].argv, argv + i + 2, (size_t)k * sizeof(char *));
		(*n)++;
		i += 2 + (int)k;
	}
	return 0;
}

int stitch_build_driver_main(int argc, char **argv)
{
	extern char **environ;
	struct stitch_build_cmd *cmds;
	size_t n;
	int rc;

	/* argv[0] is stitch, argv[1] the driver word. */
	if (argc < 3 || fcntl(REPORT_FD, F_GETFD) < 0 ||
	    parse_driver_args(argc - 3, argv + 3, &cmds, &n) != 0) {
		dprintf(2, "stitch: '%s' is for stitch's own builds, not to be run by hand\n",
		        STITCH_BUILD_DRIVER);
		return 2;
	}
	rc = drive(cmds, n, strcmp(argv[2], "-") == 0 ? NULL : argv[2], environ, REPORT_FD);
	for (size_t i = 0; i < n; i++)
		free(cmds[i].argv);
	free(cmds);
	return rc;
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

/*
 * In a new PID namespace: the driver runs as its first process, so that
 * whatever the commands start dies with it, and it dies with this one,
 * which waits and passes its status on.  Returns in the driver.
 */
static void fork_init(void)
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
	close(REPORT_FD);
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

/*
 * In the runner: stdin from /dev/null, stdout and stderr to the log, the
 * driver's reports on REPORT_FD, and nothing else open, whatever the
 * parent had (sqlite, curl's connections, other builds' pipes).
 */
static void runner_fds(int log_fd, int report_fd)
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(log_fd, 1);
	dup2(log_fd, 2);
	if (report_fd == REPORT_FD)
		fcntl(REPORT_FD, F_SETFD, 0);
	else
		dup2(report_fd, REPORT_FD);
	close_range(REPORT_FD + 1, ~0U, 0);
}

static void runner(const struct stitch_build_script *s, char *const *dargv)
{
	umask(022);
	if (dargv) {
		execve(dargv[0], dargv, s->envp);
		dprintf(2, "stitch: cannot run '%s': %s\n", dargv[0], strerror(errno));
		_exit(127);
	}
	if (s->isolate_network) {
		if (leave_network(CLONE_NEWPID) == 0)
			fork_init();
		else if (leave_network(0) != 0) {
			dprintf(2, "stitch: cannot take the build off the network: %s\n",
			        strerror(errno));
			_exit(126);
		}
	}
	if (chdir(s->work_dir) != 0) {
		dprintf(2, "stitch: cannot enter '%s': %s\n", s->work_dir, strerror(errno));
		_exit(126);
	}
	_exit(drive(s->cmds, s->n, s->destdir, s->envp, REPORT_FD));
}

/* Read the driver's reports until it and its runner are gone. */
static void read_reports(const struct stitch_build_script *s, int fd,
                         struct stitch_build_outcome *out)
{
	struct record r;
	size_t got = 0;
	ssize_t k;

	while ((k = read(fd, (char *)&r + got, sizeof(r) - got)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)k;
		if (got < sizeof(r))
			continue;
		got = 0;
		if (r.kind == RECORD_READY) {
			out->started = true;
		} else if (r.index < 0 || (size_t)r.index >= s->n) {
			continue;
		} else if (r.kind == RECORD_START) {
			out->failed = (size_t)r.index; /* cut short unless it ends */
			if (s->on_start)
				s->on_start(s->data, (size_t)r.index);
		} else if (r.kind == RECORD_END) {
			out->ended = (size_t)r.index + 1;
			out->status = r.status;
			out->failed = r.status == 0 ? s->n : (size_t)r.index;
		}
	}
}

void stitch_build_script_run(const struct stitch_build_script *s, char *const *sandbox,
                             struct stitch_build_outcome *out)
{
	char *self = NULL, **dargv = NULL;
	int fds[2], status = -1;
	pid_t parent = getpid(), pid;

	memset(out, 0, sizeof(*out));
	out->failed = s->n;
	out->status = -1;
	if (sandbox && !(self = stitch_build_self()))
		return;
	if (sandbox)
		dargv = driver_argv(s, sandbox, self);
	if (pipe2(fds, O_CLOEXEC) != 0)
		goto out;
	pid = fork();
	if (pid == 0) {
		/* Dies with us, even when we are killed with no chance to clean up. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		runner_fds(s->log_fd, fds[1]);
		runner(s, dargv);
	}
	close(fds[1]);
	if (pid > 0)
		read_reports(s, fds[0], out);
	close(fds[0]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	/* Never started, or cut short: the runner's status says why. */
	if (!out->started) {
		out->failed = 0;
		out->status = status;
	} else if (out->failed == s->n && out->ended < s->n) {
		out->failed = out->ended;
		out->status = status;
	} else if (out->failed < s->n && out->ended <= out->failed) {
		out->status = status;
	}
out:
	free(self);
	free_strv(dargv);
}
