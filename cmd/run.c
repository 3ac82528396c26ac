/*
 * stitch run [--target T] [--net TAP] [--pcap FILE] [-- ARGS]: run the
 * project's image, started as its target says (a process, or under QEMU).
 * Without --net, in a throwaway network namespace with a tap device, so
 * nothing the image sends can leave the namespace.  With --pcap, every
 * frame on its tap is written to FILE by tcpdump.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "harness.h"
#include "link.h"
#include "project.h"
#include "target.h"
#include "util.h"

static pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

struct run_opts {
	const char *tap; /* --net */
	const char *pcap; /* --pcap */
	const char *target; /* --target, else the project's */
};

static int run_opt(int val, const char *arg, void *data)
{
	struct run_opts *o = data;

	if (val == 'n')
		o->tap = arg;
	else if (val == 'p')
		o->pcap = arg;
	else if (val == 't')
		o->target = arg;
	else
		return EXIT_USAGE;
	return EXIT_OK;
}

/* tcpdump on the image's tap (in ns, when there is one) before it starts. */
static int start_capture(struct stitch_harness *h, const char *ns, const char *tap,
                         const char *pcap)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *path = ns ? xasprintf("/run/netns/%s", ns) : NULL;
	int rc = 0;

	if (path)
		rc = stitch_harness_join(h, path, &err);
	if (!rc)
		rc = stitch_harness_capture_start(h, tap, pcap, &err);
	free(path);
	return rc ? cmd_fail(&err) : EXIT_OK;
}

static int ip_cmd(const char *const *args)
{
	char *argv[16];
	struct stitch_buf out = STITCH_BUF_INIT;
	size_t n = 0;
	int st;

	argv[n++] = "ip";
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	st = stitch_run_capture(argv, &out, 4096);
	stitch_buf_release(&out);
	return st;
}

static int wait_child(void)
{
	int status = 0;

	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	child = 0;
	if (WIFSIGNALED(status))
		return WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM
		           ? 0
		           : 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static bool has_ipv4_arg(char **args, int n)
{
	for (int i = 0; i < n; i++)
		if (strncmp(args[i], "--ipv4=", 7) == 0)
			return true;
	return false;
}

/*
 * A throwaway network namespace ns with tap0 (10.0.0.1/24) in it, so
 * nothing the image sends can leave it; removed again when a step fails.
 */
static int netns_create(const char *ns)
{
	const char *add[] = {"netns", "add", ns, NULL};
	const char *tuntap[] = {"-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap", NULL};
	const char *addr[] = {"-n", ns, "addr", "add", "10.0.0.1/24", "dev", "tap0", NULL};
	const char *up[] = {"-n", ns, "link", "set", "tap0", "up", NULL};
	const char *lo[] = {"-n", ns, "link", "set", "lo", "up", NULL};
	const char *del[] = {"netns", "del", ns, NULL};

	if (ip_cmd(add) || ip_cmd(tuntap) || ip_cmd(addr) || ip_cmd(up) || ip_cmd(lo)) {
		ip_cmd(del);
		return cmd_error("cannot set up the network namespace '%s' (ip "
		                 "netns, ip tuntap)",
		                 ns);
	}
	return EXIT_OK;
}

/*
 * The image's command line as its target starts it, inside ns when there
 * is one; the image's own address unless ARGS give one.  Freed with
 * stitch_target_argv_free.
 */
static char **image_command(const struct stitch_target *t, const char *image, const char *ns,
                            const char *tap, char **ops, int n_ops)
{
	char **args = xcalloc((size_t)n_ops + 3, sizeof(char *)), **run, **cmd;
	size_t k = 0, n = 0;

	if (!has_ipv4_arg(ops, n_ops)) {
		args[k++] = "--ipv4=10.0.0.2/24";
		args[k++] = "--ipv4-gateway=10.0.0.1";
	}
	for (int i = 0; i < n_ops; i++)
		args[k++] = ops[i];
	run = stitch_target_argv(t, image, tap, args);
	free(args);
	while (run[n])
		n++;
	cmd = xcalloc(n + 5, sizeof(char *));
	k = 0;
	if (ns) {
		cmd[k++] = xstrdup("ip");
		cmd[k++] = xstrdup("netns");
		cmd[k++] = xstrdup("exec");
		cmd[k++] = xstrdup(ns);
	}
	memcpy(cmd + k, run, n * sizeof(char *));
	free(run);
	return cmd;
}

/* Ctrl-C stops the image, not stitch: the namespace must still be removed. */
static int run_image(char **cmd, const char *image)
{
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	child = fork();
	if (child == 0) {
		execvp(cmd[0], cmd);
		fprintf(stderr, "error: cannot run '%s': %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	return child > 0 ? wait_child()
	                 : cmd_error("cannot start '%s': %s", image, strerror(errno));
}

int cmd_run(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"net", required_argument, NULL, 'n'},
	                                     {"pcap", required_argument, NULL, 'p'},
	                                     {"target", required_argument, NULL, 't'},
	                                     {0}};
	struct stitch_harness h = STITCH_HARNESS_INIT;
	struct run_opts o = {NULL, NULL, NULL};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_project p;
	const struct stitch_target *t;
	const char *tap = NULL;
	char **ops, *dir = NULL, *image, *ns = NULL, **cmd;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, run_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	tap = o.tap;
	if (stitch_project_find(".", &dir, &err) != 0 || stitch_project_load(dir, &p, &err) != 0) {
		free(dir);
		free(ops);
		return cmd_fail(&err);
	}
	free(dir);
	if (!(t = stitch_target_find(o.target ? o.target : p.target, &err))) {
		stitch_project_release(&p);
		free(ops);
		cmd_fail(&err);
		return o.target ? EXIT_USAGE : EXIT_ERROR; /* a bad --target is a usage error */
	}
	image = xasprintf("%s/_build/%s%s", p.dir, p.name, t->suffix);
	if (access(image, X_OK) != 0) {
		rc = cmd_error("no image at '%s'", image);
		fprintf(stderr, "hint: run 'stitch build' first\n");
		goto out;
	}
	if (!tap) {
		if (geteuid() != 0) {
			rc = cmd_error(
			    "running without --net makes a network namespace, which needs root");
			fprintf(stderr,
			        "hint: run as root, or make a tap device and pass --net TAP\n");
			goto out;
		}
		ns = xasprintf("stitch-%ld", (long)getpid());
		if ((rc = netns_create(ns)) != EXIT_OK)
			goto out;
		tap = "tap0";
		printf(
		    "running %s in network namespace %s (tap0 is 10.0.0.1, the image 10.0.0.2)\n",
		    p.name, ns);
		printf("reach it with: ip netns exec %s curl http://10.0.0.2/\n", ns);
		fflush(stdout);
	}
	if (o.pcap && (rc = start_capture(&h, ns, tap, o.pcap)) != EXIT_OK)
		goto del;
	cmd = image_command(t, image, ns, tap, ops, n_ops);
	rc = stitch_target_exit_status(t, run_image(cmd, image));
	stitch_target_argv_free(cmd);
	if (o.pcap) {
		stitch_harness_capture_stop(&h);
		printf("packet trace: %s\n", o.pcap);
	}
del:
	stitch_harness_close(&h);
	if (ns) {
		const char *del[] = {"netns", "del", ns, NULL};
		ip_cmd(del);
	}
out:
	free(ns);
	free(image);
	free(ops);
	stitch_project_release(&p);
	return rc;
}
