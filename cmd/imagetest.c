/*
 * stitch test (the project's test): the image in the test harness, the
 * project's test command beside it in the same network namespace, and the
 * packets of a failed run kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "harness.h"
#include "imagetest.h"
#include "progress.h"
#include "target.h"
#include "util.h"

#define READY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The namespace: the one watch --test keeps up, else a fresh one. */
static int get_namespace(struct stitch_harness *h, int *status)
{
	struct stitch_err err = STITCH_ERR_INIT;
	const char *keep = getenv("STITCH_TEST_NETNS");

	if (keep && *keep) {
		if (stitch_harness_join(h, keep, &err) == 0)
			return EXIT_OK;
		return cmd_fail(&err);
	}
	if (stitch_harness_open(h, &err) == 0)
		return EXIT_OK;
	if (!h->denied)
		return cmd_fail(&err);
	fprintf(stderr, "test skipped: %s%s%s\n", err.msg, err.cause[0] ? ": " : "", err.cause);
	fprintf(stderr, "hint: run as root, or where the kernel lets users make user and "
	                "network namespaces with a tap\n");
	*status = W_EXITCODE(77, 0);
	return EXIT_OK;
}

/* Capture to want (--pcap) or to a scratch file; NULL when there is no trace. */
static char *start_capture(struct stitch_harness *h, const struct stitch_project *p,
                           const char *want, int *rc)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *path = want ? xstrdup(want) : xasprintf("%s/_build/test.pcap", p->dir);

	if (stitch_harness_capture_start(h, STITCH_HARNESS_TAP, path, &err) == 0)
		return path;
	if (want) {
		*rc = cmd_fail(&err);
	} else if (cmd_verbosity() != CMD_QUIET) {
		fprintf(stderr, "note: no packet trace of this run: %s%s%s\n", err.msg,
		        err.cause[0] ? ": " : "", err.cause);
	}
	unlink(path);
	free(path);
	return NULL;
}

/* The console's last lines (a VM that never got ready may have said a lot). */
static void print_log(const char *log)
{
	enum { KEEP = 20 };
	FILE *f = fopen(log, "r");
	char ring[KEEP][512];
	size_t n = 0;

	if (!f)
		return;
	while (fgets(ring[n % KEEP], sizeof(ring[0]), f))
		n++;
	fclose(f);
	for (size_t i = n > KEEP ? n - KEEP : 0; i < n; i++) {
		const char *l = ring[i % KEEP];
		fprintf(stderr, "  | %s%s", l, l[0] && l[strlen(l) - 1] == '\n' ? "" : "\n");
	}
}

/* Run the test command (beside the image when log is set); its wait status. */
static int run_command(const struct stitch_harness *h, const struct stitch_project *p,
                       const char *image, const char *log, bool json)
{
	char *env[7] = {NULL};
	size_t n = 0;
	int status = W_EXITCODE(127, 0);
	pid_t pid;

	env[n++] = xasprintf("STITCH_IMAGE=%s", image);
	if (log) {
		env[n++] = xstrdup("STITCH_TEST_ADDR=" STITCH_HARNESS_ADDR);
		env[n++] = xstrdup("STITCH_TEST_HOST=" STITCH_HARNESS_HOST);
		env[n++] = xstrdup("STITCH_TEST_TAP=" STITCH_HARNESS_TAP);
		env[n++] = xasprintf("STITCH_TEST_NETNS=%s", h->netns);
		env[n++] = xasprintf("STITCH_TEST_LOG=%s", log);
	}
	fflush(stdout);
	pid = stitch_harness_spawn(h, p->test.argv, p->dir, env, json ? STDERR_FILENO : -1);
	if (pid < 0)
		cmd_error("cannot start the test '%s': %s", p->test.argv[0], strerror(errno));
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* The child has its own copies: these are stitch's. */
	for (char **e = env; *e; e++)
		free(*e);
	return status;
}

/* A passed test still fails when the image does not stop cleanly. */
static void stop_image(struct stitch_harness *h, int *status)
{
	bool killed;
	int st = stitch_harness_image_stop(h, STOP_TIMEOUT_MS, &killed);

	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	if (killed)
		cmd_error("the image did not stop within %d ms of SIGTERM", STOP_TIMEOUT_MS);
	else
		cmd_error("the image ended with %s %d on SIGTERM, not exit status 0",
		          WIFSIGNALED(st) ? "signal" : "status",
		          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
		*status = W_EXITCODE(1, 0);
}

/* Keep the trace of a failed run; drop the scratch one of a passed run. */
static char *keep_trace(const struct stitch_project *p, char *pcap, bool wanted, bool passed)
{
	char *kept;

	if (!pcap)
		return NULL;
	if (wanted && !passed)
		return pcap;
	if (wanted) {
		free(pcap);
		return NULL;
	}
	if (passed) {
		unlink(pcap);
		free(pcap);
		return NULL;
	}
	kept = xasprintf("%s/_build/last-failure.pcap", p->dir);
	if (rename(pcap, kept) != 0) {
		free(kept);
		return pcap;
	}
	free(pcap);
	return kept;
}

int cmd_image_test(const struct stitch_project *p, const char *image,
                   const struct cmd_image_test *o, int *status, char **trace)
{
	struct stitch_harness h = STITCH_HARNESS_INIT;
	struct stitch_err err = STITCH_ERR_INIT;
	char *args[] = {"--ipv4=" STITCH_HARNESS_ADDR "/" STITCH_HARNESS_PREFIX,
	                "--ipv4-gateway=" STITCH_HARNESS_HOST, NULL};
	char *log = xasprintf("%s/_build/test-console.log", p->dir), *pcap;
	char **argv = NULL;
	int rc = EXIT_OK;
	long t0;

	*status = W_EXITCODE(1, 0);
	*trace = NULL;
	if (!p->test_network) {
		if (!o->json && cmd_verbosity() != CMD_QUIET)
			printf("testing: %s\n", p->test.argv[0]);
		*status = run_command(&h, p, image, NULL, o->json);
		free(log);
		return EXIT_OK;
	}
	if ((rc = get_namespace(&h, status)) != EXIT_OK || WEXITSTATUS(*status) == 77) {
		free(log);
		stitch_harness_close(&h);
		return rc;
	}
	pcap = start_capture(&h, p, o->pcap, &rc);
	if (rc != EXIT_OK) {
		free(log);
		stitch_harness_close(&h);
		return rc;
	}
	t0 = now_ms();
	argv = stitch_target_argv(o->target, image, STITCH_HARNESS_TAP, args);
	if (stitch_harness_image_start(&h, image, argv, log, READY_TIMEOUT_MS, &err) != 0) {
		cmd_fail(&err);
		print_log(log);
	} else {
		if (!o->json && cmd_verbosity() != CMD_QUIET)
			printf("image ready in %ld ms at %s; testing: %s\n", now_ms() - t0,
			       STITCH_HARNESS_ADDR, p->test.argv[0]);
		*status = run_command(&h, p, image, log, o->json);
		stop_image(&h, status);
	}
	stitch_harness_capture_stop(&h);
	stitch_harness_close(&h);
	*trace =
	    keep_trace(p, pcap, o->pcap != NULL, WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
	stitch_target_argv_free(argv);
	free(log);
	return EXIT_OK;
}

/* ---- beside the packages' tests ---- */

/* Stitch is gone: so is the group, down to what the test command started. */
static void bg_die(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
}

/* In the child: the test, then rc, the wait status and the trace on fd. */
static void __attribute__((noreturn))
bg_child(const struct stitch_project *p, const char *image, const struct cmd_image_test *o,
         struct cmd_image_test_bg *bg, int fd, pid_t parent)
{
	char *trace = NULL;
	int head[3] = {EXIT_ERROR, W_EXITCODE(1, 0), 0};

	setpgid(0, 0);
	/*
	 * Its own group is out of reach of the terminal's Ctrl-C: it ends with
	 * stitch instead, taking the whole group with it.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, bg_die);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	if (dup2(fileno(bg->out), STDOUT_FILENO) < 0 || dup2(fileno(bg->err), STDERR_FILENO) < 0)
		_exit(126);
	head[0] = cmd_image_test(p, image, o, &head[1], &trace);
	head[2] = trace ? (int)strlen(trace) : 0;
	fflush(stdout);
	fflush(stderr);
	if (write(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    (head[2] && write(fd, trace, (size_t)head[2]) != head[2]))
		_exit(126);
	_exit(0);
}

int cmd_image_test_spawn(const struct stitch_project *p, const char *image,
                         const struct cmd_image_test *o, struct cmd_image_test_bg *bg)
{
	pid_t parent;
	int fds[2];

	memset(bg, 0, sizeof(*bg));
	bg->result = -1;
	bg->out = tmpfile();
	bg->err = tmpfile();
	if (!bg->out || !bg->err || pipe2(fds, O_CLOEXEC) != 0) {
		cmd_error("cannot start the project's test: %s", strerror(errno));
		goto fail;
	}
	fflush(stdout);
	fflush(stderr);
	parent = getpid();
	bg->pid = fork();
	if (bg->pid == 0) {
		close(fds[0]);
		bg_child(p, image, o, bg, fds[1], parent);
	}
	close(fds[1]);
	if (bg->pid < 0) {
		close(fds[0]);
		cmd_error("cannot start the project's test: %s", strerror(errno));
		goto fail;
	}
	setpgid(bg->pid, bg->pid); /* both sides: no window where a kill misses */
	bg->result = fds[0];
	return EXIT_OK;
fail:
	if (bg->out)
		fclose(bg->out);
	if (bg->err)
		fclose(bg->err);
	memset(bg, 0, sizeof(*bg));
	return EXIT_ERROR;
}

static void copy_out(FILE *from, FILE *to)
{
	char buf[8192];
	size_t n;

	rewind(from);
	while ((n = fread(buf, 1, sizeof(buf), from)) > 0)
		fwrite(buf, 1, n, to);
	fflush(to);
}

int cmd_image_test_wait(struct cmd_image_test_bg *bg, bool keep, int *status, char **trace)
{
	int head[3] = {EXIT_ERROR, W_EXITCODE(1, 0), 0}, st = 0;
	ssize_t got = 0;

	*status = W_EXITCODE(1, 0);
	*trace = NULL;
	if (!keep)
		kill(-bg->pid, SIGKILL);
	if (keep)
		got = read(bg->result, head, sizeof(head));
	while (waitpid(bg->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (keep && got == (ssize_t)sizeof(head)) {
		*status = head[1];
		if (head[2] > 0 && head[2] < 65536) {
			*trace = xcalloc(1, (size_t)head[2] + 1);
			if (read(bg->result, *trace, (size_t)head[2]) != head[2]) {
				free(*trace);
				*trace = NULL;
			}
		}
	}
	if (keep) {
		copy_out(bg->out, stdout);
		copy_out(bg->err, stderr);
		if (got != (ssize_t)sizeof(head))
			head[0] = cmd_error("the project's test ended without a verdict (%s %d)",
			                    WIFSIGNALED(st) ? "signal" : "status",
			                    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	close(bg->result);
	fclose(bg->out);
	fclose(bg->err);
	memset(bg, 0, sizeof(*bg));
	return keep ? head[0] : EXIT_OK;
}
