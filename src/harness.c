/*
 * The test harness for images (harness.h): namespaces through unshare and
 * setns, the tap through iproute2, the capture through tcpdump.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

/* The tap, addressed and up, in the namespace `ip -batch -` runs in. */
static const char setup_cmds[] =
    "link set lo up\n"
    "tuntap add dev " STITCH_HARNESS_TAP " mode tap\n"
    "addr add " STITCH_HARNESS_HOST "/" STITCH_HARNESS_PREFIX " dev " STITCH_HARNESS_TAP "\n"
    "link set " STITCH_HARNESS_TAP " up\n";

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Read fd to its end into out (at most max bytes kept). */
static void read_all(int fd, struct stitch_buf *out, size_t max)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (out->len < max)
			stitch_buf_add(out, buf, (size_t)n);
	}
}

static int wait_status(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/*
 * Wait up to ms for pid to end; true with *status when it did.  Polls a
 * pidfd when the kernel has them, else checks every 5 ms.
 */
static bool wait_timeout(pid_t pid, int ms, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	long end = now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		long left = end - now_ms();
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (left <= 0) {
			if (pfd >= 0)
				close(pfd);
			return false;
		}
		if (pfd >= 0) {
			struct pollfd p = {pfd, POLLIN, 0};
			poll(&p, 1, (int)left);
		} else {
			poll(NULL, 0, left < 5 ? (int)left : 5);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return true;
}

/* In the child, after unshare(CLONE_NEWUSER): the user is root inside. */
static int map_root(uid_t uid, gid_t gid)
{
	char line[64];

	if (write_file("/proc/self/setgroups", "deny") != 0)
		return -1;
	snprintf(line, sizeof(line), "0 %lu 1", (unsigned long)uid);
	if (write_file("/proc/self/uid_map", line) != 0)
		return -1;
	snprintf(line, sizeof(line), "0 %lu 1", (unsigned long)gid);
	return write_file("/proc/self/gid_map", line);
}

/*
 * The child of stitch_harness_open: new namespaces, then `ip -batch -`
 * reading the set-up from cmds.  Reports unshare's errno (0: done) on sync.
 */
static void __attribute__((noreturn)) open_child(bool user, int sync_fd, int cmds_fd, int err_fd)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	int e = 0;

	if (unshare(CLONE_NEWNET | (user ? CLONE_NEWUSER : 0)) != 0 ||
	    (user && map_root(uid, gid) != 0))
		e = errno ? errno : EPERM;
	if (write(sync_fd, &e, sizeof(e)) != (ssize_t)sizeof(e) || e)
		_exit(1);
	/* The image speaks IPv4 only: no IPv6 chatter on the tap. */
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (dup2(cmds_fd, STDIN_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0 ||
	    dup2(err_fd, STDOUT_FILENO) < 0)
		_exit(126);
	execlp("ip", "ip", "-batch", "-", (char *)NULL);
	dprintf(err_fd, "cannot run 'ip' (iproute2): %s\n", strerror(errno));
	_exit(127);
}

static void set_path(struct stitch_harness *h)
{
	free(h->netns);
	h->netns = xasprintf("/proc/%ld/fd/%d", (long)getpid(), h->net_fd);
}

static int open_ns(struct stitch_harness *h, pid_t pid, bool user, struct stitch_err *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/ns/net", (long)pid);
	if ((h->net_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return stitch_error(err, STITCH_E_IO, "cannot open '%s': %s", path,
		                    strerror(errno));
	if (user) {
		snprintf(path, sizeof(path), "/proc/%ld/ns/user", (long)pid);
		if ((h->user_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return stitch_error(err, STITCH_E_IO, "cannot open '%s': %s", path,
			                    strerror(errno));
	}
	set_path(h);
	return 0;
}

static bool denied_text(const char *s)
{
	return strstr(s, "Permission denied") || strstr(s, "Operation not permitted");
}

int stitch_harness_open(struct stitch_harness *h, struct stitch_err *err)
{
	bool user = geteuid() != 0;
	int sync_fd[2], cmds[2], errp[2], e = -1, status, rc = 0;
	struct stitch_buf out = STITCH_BUF_INIT;
	pid_t pid;

	h->denied = false;
	if (pipe2(sync_fd, O_CLOEXEC) != 0)
		return stitch_error(err, STITCH_E_IO, "cannot make a pipe: %s", strerror(errno));
	if (pipe2(cmds, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
		abort();
	pid = fork();
	if (pid == 0)
		open_child(user, sync_fd[1], cmds[0], errp[1]);
	close(sync_fd[1]);
	close(cmds[0]);
	close(errp[1]);
	if (pid < 0 || read(sync_fd[0], &e, sizeof(e)) != (ssize_t)sizeof(e) || e != 0) {
		if (e > 0) {
			h->denied = e == EPERM || e == EACCES || e == ENOSPC || e == EUSERS;
			rc = stitch_error(err, STITCH_E_IO, "cannot make a %snetwork namespace: %s",
			                  user ? "user and " : "", strerror(e));
		} else {
			rc = stitch_error(err, STITCH_E_IO, "cannot make a network namespace");
		}
		close(cmds[1]);
	} else {
		rc = open_ns(h, pid, user, err);
		if (write(cmds[1], setup_cmds, sizeof(setup_cmds) - 1) < 0)
			rc = rc ? rc : stitch_error(err, STITCH_E_IO, "cannot talk to 'ip'");
		close(cmds[1]);
	}
	read_all(errp[0], &out, 4096);
	close(errp[0]);
	close(sync_fd[0]);
	status = pid > 0 ? wait_status(pid) : 0;
	if (!rc && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		while (out.len && out.buf[out.len - 1] == '\n')
			out.buf[--out.len] = '\0';
		for (char *nl = strchr(out.buf, '\n'); nl; nl = strchr(nl, '\n'))
			*nl = ';';
		h->denied = denied_text(out.buf);
		rc = stitch_error(err, STITCH_E_IO, "cannot set up %s in the network namespace",
		                  STITCH_HARNESS_TAP);
		stitch_error_cause(err, "ip: %s", out.len ? out.buf : "failed");
	}
	stitch_buf_release(&out);
	if (rc)
		stitch_harness_close(h);
	return rc;
}

int stitch_harness_join(struct stitch_harness *h, const char *path, struct stitch_err *err)
{
	struct stat mine, theirs;
	int user;

	if ((h->net_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return stitch_error(err, STITCH_E_IO, "cannot open the network namespace '%s': %s",
		                    path, strerror(errno));
	user = ioctl(h->net_fd, NS_GET_USERNS);
	if (user >= 0 && fstat(user, &theirs) == 0 && stat("/proc/self/ns/user", &mine) == 0 &&
	    theirs.st_ino != mine.st_ino) {
		fcntl(user, F_SETFD, FD_CLOEXEC);
		h->user_fd = user;
	} else if (user >= 0) {
		close(user);
	}
	free(h->netns);
	h->netns = xstrdup(path);
	return 0;
}

static void __attribute__((noreturn))
exec_inside(const struct stitch_harness *h, char *const *argv, const char *dir, char *const *env)
{
	/* Nothing outlives a stitch that is killed. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (h->user_fd >= 0 && setns(h->user_fd, CLONE_NEWUSER) != 0) {
		fprintf(stderr, "error: cannot enter the user namespace: %s\n", strerror(errno));
		_exit(126);
	}
	if (h->net_fd >= 0 && setns(h->net_fd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "error: cannot enter the network namespace: %s\n", strerror(errno));
		_exit(126);
	}
	if (dir && chdir(dir) != 0) {
		fprintf(stderr, "error: cannot enter '%s': %s\n", dir, strerror(errno));
		_exit(126);
	}
	for (; env && *env; env++)
		putenv(*env);
	execvp(argv[0], argv);
	fprintf(stderr, "error: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

pid_t stitch_harness_spawn(const struct stitch_harness *h, char *const *argv, const char *dir,
                           char *const *env, int stdout_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (stdout_fd >= 0 && dup2(stdout_fd, STDOUT_FILENO) < 0)
			_exit(126);
		exec_inside(h, argv, dir, env);
	}
	return pid;
}

int stitch_harness_capture_start(struct stitch_harness *h, const char *tap, const char *pcap,
                                 struct stitch_err *err)
{
	char *argv[] = {"tcpdump", "-i", (char *)tap, "--immediate-mode", "-U", "-w", "-", NULL};
	struct stitch_buf said = STITCH_BUF_INIT;
	int errp[2], out, status;
	long end = now_ms() + 5000;

	if ((out = open(pcap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", pcap,
		                    strerror(errno));
	if (pipe2(errp, O_CLOEXEC) != 0)
		abort();
	h->capture = fork();
	if (h->capture == 0) {
		if (dup2(out, STDOUT_FILENO) < 0 || dup2(errp[1], STDERR_FILENO) < 0)
			_exit(126);
		exec_inside(h, argv, NULL, NULL);
	}
	close(out);
	close(errp[1]);
	h->capture_err = errp[0];
	/* tcpdump says "listening on TAP" once frames reach it. */
	while (!strstr(said.buf, "listening on")) {
		struct pollfd p = {h->capture_err, POLLIN, 0};
		char buf[512];
		ssize_t n;
		long left = end - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0 ||
		    (n = read(h->capture_err, buf, sizeof(buf))) <= 0)
			break;
		stitch_buf_add(&said, buf, (size_t)n);
	}
	if (strstr(said.buf, "listening on")) {
		stitch_buf_release(&said);
		return 0;
	}
	kill(h->capture, SIGKILL);
	status = wait_status(h->capture);
	h->capture = 0;
	close(h->capture_err);
	h->capture_err = -1;
	while (said.len && said.buf[said.len - 1] == '\n')
		said.buf[--said.len] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && strstr(said.buf, "cannot run"))
		stitch_error(err, STITCH_E_NOTFOUND,
		             "cannot capture on %s: tcpdump is not installed", tap);
	else
		stitch_error(err, STITCH_E_IO, "cannot capture on %s with tcpdump", tap);
	stitch_error_cause(err, "%s", said.len ? said.buf : "it said nothing in 5 s");
	stitch_buf_release(&said);
	return err ? err->code : STITCH_E_IO;
}

void stitch_harness_capture_stop(struct stitch_harness *h)
{
	int status;

	if (h->capture <= 0)
		return;
	kill(h->capture, SIGTERM);
	if (!wait_timeout(h->capture, 5000, &status)) {
		kill(h->capture, SIGKILL);
		wait_status(h->capture);
	}
	h->capture = 0;
	close(h->capture_err);
	h->capture_err = -1;
}

/* Whether the file at fd holds a whole line. */
static bool has_line(int fd)
{
	char buf[4096];
	ssize_t n;
	off_t off = 0;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (memchr(buf, '\n', (size_t)n))
			return true;
		off += n;
	}
	return false;
}

int stitch_harness_image_start(struct stitch_harness *h, const char *image, char *const *argv,
                               const char *log, int timeout_ms, struct stitch_err *err)
{
	int fd = open(log, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), pfd, status, rc = 0;
	long end = now_ms() + timeout_ms;

	if (fd < 0 || in < 0) {
		if (fd >= 0)
			close(fd);
		return stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", log,
		                    strerror(errno));
	}
	inotify_add_watch(in, log, IN_MODIFY);
	h->image = fork();
	if (h->image == 0) {
		if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
		exec_inside(h, argv, NULL, NULL);
	}
	pfd = h->image > 0 ? (int)syscall(SYS_pidfd_open, h->image, 0) : -1;
	while (h->image > 0 && !has_line(fd)) {
		struct pollfd p[2] = {{in, POLLIN, 0}, {pfd, POLLIN, 0}};
		long left = end - now_ms();
		char drain[4096];
		if (waitpid(h->image, &status, WNOHANG) == h->image) {
			h->image = 0;
			rc = stitch_error(err, STITCH_E_BUILD,
			                  "the image '%s' exited before it was ready", image);
			stitch_error_cause(
			    err, "%s %d; its console is in '%s'",
			    WIFSIGNALED(status) ? "signal" : "exit status",
			    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), log);
			break;
		}
		if (left <= 0) {
			rc = stitch_error(err, STITCH_E_BUILD,
			                  "the image '%s' wrote no line on its console in %d ms",
			                  image, timeout_ms);
			break;
		}
		/* Without pidfds, an exit is noticed within 20 ms. */
		poll(p, pfd >= 0 ? 2 : 1, pfd >= 0 || left < 20 ? (int)left : 20);
		while (read(in, drain, sizeof(drain)) > 0)
			;
	}
	if (pfd >= 0)
		close(pfd);
	close(in);
	close(fd);
	if (h->image < 0 && !rc)
		rc =
		    stitch_error(err, STITCH_E_IO, "cannot start '%s': %s", image, strerror(errno));
	if (rc && h->image > 0) {
		kill(h->image, SIGKILL);
		wait_status(h->image);
	}
	if (rc)
		h->image = 0;
	return rc;
}

int stitch_harness_image_stop(struct stitch_harness *h, int timeout_ms, bool *killed)
{
	int status = 0;

	*killed = false;
	if (h->image <= 0)
		return 0;
	kill(h->image, SIGTERM);
	if (!wait_timeout(h->image, timeout_ms, &status)) {
		*killed = true;
		kill(h->image, SIGKILL);
		status = wait_status(h->image);
	}
	h->image = 0;
	return status;
}

void stitch_harness_close(struct stitch_harness *h)
{
	bool killed;

	stitch_harness_capture_stop(h);
	stitch_harness_image_stop(h, 1000, &killed);
	if (h->net_fd >= 0)
		close(h->net_fd);
	if (h->user_fd >= 0)
		close(h->user_fd);
	h->net_fd = h->user_fd = -1;
	free(h->netns);
	h->netns = NULL;
}
