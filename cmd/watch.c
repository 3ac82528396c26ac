/*
 * stitch watch [--test]: rebuild (and test) on every change to the project
 * or a pinned tree; with --test, the tests of each pinned package rebuilt
 * run before the image's.  inotify on every directory of those trees, debounced;
 * each cycle runs `stitch build` (or `stitch test`) as a child, so one
 * failure never stops the loop; Ctrl-C stops it cleanly.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "harness.h"
#include "project.h"
#include "state.h"
#include "tree.h"
#include "util.h"

#define DEBOUNCE_MS 40

static volatile sig_atomic_t stop;
static pid_t child;

static void on_signal(int sig)
{
	stop = 1;
	if (child > 0)
		kill(child, sig);
}

struct watches {
	int fd;
	char **dirs; /* by watch descriptor */
	size_t cap;
};

static void add_tree(struct watches *w, const char *dir)
{
	DIR *d;
	struct dirent *de;
	int wd = inotify_add_watch(w->fd, dir,
	                           IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
	                               IN_DELETE | IN_ATTRIB | IN_ONLYDIR);

	if (wd < 0)
		return;
	if ((size_t)wd >= w->cap) {
		size_t old = w->cap;
		XGROW(w->dirs, w->cap, (size_t)wd + 1);
		memset(w->dirs + old, 0, (w->cap - old) * sizeof(*w->dirs));
	}
	free(w->dirs[wd]);
	w->dirs[wd] = xstrdup(dir);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d)) != NULL) {
		char *sub;
		struct stat st;
		if (stitch_tree_ignored(de->d_name, true))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			add_tree(w, sub);
		free(sub);
	}
	closedir(d);
}

/* Read pending events; returns a changed path (malloc'd) or NULL when they were all noise. */
static char *drain(struct watches *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	char *what = NULL;
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->len == 0 ||
			    stitch_tree_ignored(ev->name, (ev->mask & IN_ISDIR) != 0))
				continue;
			if (ev->name[0] == '.' || ev->name[strlen(ev->name) - 1] == '~')
				continue; /* editors' swap and backup files */
			if (ev->wd >= 0 && (size_t)ev->wd < w->cap && w->dirs[ev->wd]) {
				char *path = xasprintf("%s/%s", w->dirs[ev->wd], ev->name);
				if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
					add_tree(w, path);
				free(what);
				what = path;
			}
		}
	}
	return what;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One cycle: `stitch [global options] build|test` as a child. */
static int cycle(struct stitch_ctx *ctx, bool test, const char *why)
{
	char **argv = xcalloc(ctx->n_repo_args * 2 + 8, sizeof(char *));
	char stamp[16];
	time_t t = time(NULL);
	double t0 = now_s();
	int n = 0, status = 0;

	argv[n++] = "stitch";
	argv[n++] = "--root";
	argv[n++] = (char *)ctx->root;
	for (size_t i = 0; i < ctx->n_repo_args; i++) {
		argv[n++] = "--repo";
		argv[n++] = (char *)ctx->repo_args[i];
	}
	argv[n++] = test ? "test" : "build";
	if (test)
		argv[n++] =
		    "--with-test=pinned"; /* a changed pin's own tests, before the image's */
	strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime(&t));
	printf("[%s] %s: %s\n", stamp, why, test ? "building and testing" : "building");
	fflush(stdout);
	child = fork();
	if (child == 0) {
		signal(SIGINT, SIG_DFL);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	child = 0;
	free(argv);
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 77))
		printf("[%s] ok in %.2f s; watching\n", stamp, now_s() - t0);
	else
		printf("[%s] FAILED in %.2f s (see above); watching\n", stamp, now_s() - t0);
	fflush(stdout);
	return status;
}

static int test_opt(int val, const char *arg, void *data)
{
	(void)arg;
	if (val != 't')
		return EXIT_USAGE;
	*(bool *)data = true;
	return EXIT_OK;
}

int cmd_watch(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"test", no_argument, NULL, 't'}, {0}};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_project p;
	struct watches w = {-1, NULL, 0};
	struct stitch_pin *pins = NULL;
	struct stitch_harness h = STITCH_HARNESS_INIT;
	struct sigaction sa;
	size_t n_pins = 0, n_trees = 1;
	bool test = false;
	char **ops, *dir = NULL, *what;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, test_opt, &test, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx,
		                       "watch takes no arguments; run it in a project directory");
	if (stitch_project_find(".", &dir, &err) != 0 || stitch_project_load(dir, &p, &err) != 0) {
		free(dir);
		return cmd_fail(&err);
	}
	free(dir);
	w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w.fd < 0) {
		stitch_project_release(&p);
		return cmd_error("cannot watch files: inotify: %s", strerror(errno));
	}
	add_tree(&w, p.dir);
	/* The pins of the project's switch, read without keeping its lock. */
	{
		char *sw = xasprintf("%s/_stitch", p.dir);
		struct stitch_state *st;
		if (stitch_state_open(&st, sw, STITCH_STATE_READONLY, NULL) == 0) {
			stitch_state_pin_list(st, &pins, &n_pins, NULL);
			stitch_state_close(st);
		}
		free(sw);
	}
	for (size_t i = 0; i < n_pins; i++, n_trees++)
		add_tree(&w, pins[i].path);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("watching %s and %zu pinned tree%s; Ctrl-C stops\n", p.dir, n_pins,
	       n_pins == 1 ? "" : "s");
	/*
	 * One namespace and tap for every cycle: each `stitch test` joins it
	 * and restarts only the image.  When it cannot be made, each test
	 * says why itself.
	 */
	if (test && p.test_network && !getenv("STITCH_TEST_NETNS") &&
	    stitch_harness_open(&h, NULL) == 0)
		setenv("STITCH_TEST_NETNS", h.netns, 1);
	cycle(ctx, test, "start");
	while (!stop) {
		struct pollfd pfd = {w.fd, POLLIN, 0};
		if (poll(&pfd, 1, -1) <= 0)
			continue;
		what = drain(&w);
		/* Debounce: an editor's save is often several events. */
		while (!stop && poll(&pfd, 1, DEBOUNCE_MS) > 0) {
			char *more = drain(&w);
			if (more) {
				free(what);
				what = more;
			}
		}
		if (what && !stop) {
			char *rel = what;
			if (strncmp(what, p.dir, strlen(p.dir)) == 0 && what[strlen(p.dir)] == '/')
				rel = what + strlen(p.dir) + 1;
			cycle(ctx, test, rel);
		}
		free(what);
	}
	printf("stopped watching\n");
	stitch_harness_close(&h);
	for (size_t i = 0; i < w.cap; i++)
		free(w.dirs[i]);
	free(w.dirs);
	close(w.fd);
	stitch_pins_free(pins, n_pins);
	stitch_project_release(&p);
	return EXIT_OK;
}
