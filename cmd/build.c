/*
 * stitch build [--target T] [--json] [-j N]: in a unikernel project, bring
 * its switch up to date and link the image; stitch test [--json] runs its
 * test.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "artifact.h"
#include "build.h"
#include "cmd.h"
#include "image.h"
#include "imagetest.h"
#include "libtest.h"
#include "link.h"
#include "lock.h"
#include "op.h"
#include "progress.h"
#include "project.h"
#include "req.h"
#include "state.h"
#include "util.h"

struct build_opts {
	const char *target;
	bool json;
	int jobs;
	bool explain;
	bool locked, allow_pins;
	enum cmd_with_test with_test; /* --with-test: test what the build rebuilt */
	const char *pcap; /* stitch test --pcap FILE */
};

static int on_opt(int val, const char *arg, void *data)
{
	struct build_opts *o = data;
	char *end;

	if (val == 't')
		o->target = arg;
	else if (val == 'J')
		o->json = true;
	else if (val == 'E')
		o->explain = true;
	else if (val == 'L')
		o->locked = true;
	else if (val == 'P')
		o->allow_pins = true;
	else if (val == 'p')
		o->pcap = arg;
	else if (val == 'W')
		return cmd_with_test_parse(arg, &o->with_test);
	else if (val == 'j') {
		long v = strtol(arg, &end, 10);
		if (*end || v < 1 || v > 1024) {
			cmd_usage_error(NULL, "-j expects a number from 1 to 1024, got '%s'", arg);
			return EXIT_USAGE;
		}
		o->jobs = (int)v;
	} else
		return EXIT_USAGE;
	return EXIT_OK;
}

/* The project's own switch, made on first use, opened into ctx->sw with its pins. */
static int open_own_switch(struct stitch_ctx *ctx, const struct stitch_project *p)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw_dir = cmd_project_switch(ctx, p->dir);
	int rc;

	if (access(sw_dir, F_OK) != 0 && stitch_switch_init(sw_dir, &err) != 0) {
		free(sw_dir);
		return cmd_fail(&err);
	}
	ctx->switch_arg = sw_dir; /* lives until exit */
	if ((rc = cmd_open_switch(ctx, false)) != EXIT_OK ||
	    (rc = cmd_load_pin_overlays(ctx, NULL, NULL)) != EXIT_OK)
		return rc;
	return EXIT_OK;
}

/* --locked: the versions stitch.lock names, checked against the index. */
static int locked_versions(struct stitch_ctx *ctx, const struct build_opts *o,
                           const struct stitch_project *p, const struct stitch_target *t,
                           const struct stitch_version ***fixed, size_t *n_fixed,
                           struct stitch_err *err)
{
	char *path = stitch_lock_path(p);
	struct stitch_lock lock;
	int rc = stitch_lock_load(path, &lock, err);

	free(path);
	if (rc) {
		if (rc == STITCH_E_NOTFOUND)
			stitch_error_cause(err, "hint: run 'stitch lock' and commit stitch.lock");
		return rc;
	}
	rc = stitch_lock_versions(ctx->index, ctx->sw->st, p, t, &lock, o->allow_pins, fixed,
	                          n_fixed, err);
	stitch_lock_release(&lock);
	return rc;
}

/* Install the project's depends and the target's platform package. */
static int install_depends(struct stitch_ctx *ctx, const struct stitch_project *p,
                           const struct stitch_target *t, struct cmd_op *op, struct stitch_buf *why,
                           struct stitch_err *err)
{
	const char **reqs = xcalloc(p->n_depends + 2, sizeof(char *));
	int rc;

	for (size_t i = 0; i < p->n_depends; i++)
		reqs[i] = p->depends[i];
	reqs[p->n_depends] = t->platform_pkg;
	rc = stitch_target_check_depends(t, ctx->index, reqs, p->n_depends, err);
	if (rc == 0)
		rc = stitch_op_install(ctx->sw, ctx->index, reqs, p->n_depends + 1, &op->oo, why,
		                       err);
	free(reqs);
	return rc;
}

/* The link starts: an event like the packages' (the status line, --json). */
static void announce_link(struct cmd_op *op, const struct stitch_project *p,
                          const struct stitch_target *t)
{
	struct stitch_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = STITCH_EV_LINK;
	ev.name = p->name;
	ev.change = STITCH_PLAN_KEEP;
	ev.link.target = t->name;
	cmd_print_event(&op->ce, &ev);
}

/* Link the image against the installed libraries; pinned trees are not the project's. */
static int link_project(struct stitch_ctx *ctx, const struct stitch_project *p,
                        const struct stitch_target *t, struct cmd_op *op,
                        struct stitch_link_result *res, struct stitch_err *err)
{
	struct stitch_pin *pins = NULL;
	size_t n_pins = 0, n_pkgs = 0;
	const char **excl;
	char **pkgs, *key = NULL, cc_id[320];
	struct stitch_link_opts lo;
	int rc;

	pkgs = stitch_image_libraries(ctx->sw->st, p, t, &n_pkgs, &key);
	stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL);
	excl = xcalloc(n_pins + 1, sizeof(char *));
	for (size_t i = 0; i < n_pins; i++)
		excl[i] = pins[i].path;
	stitch_cc_identity(stitch_state_dir(ctx->sw->st), cc_id, sizeof(cc_id));
	announce_link(op, p, t);
	lo = (struct stitch_link_opts){p,   t,    ctx->sw->dir, (const char *const *)pkgs, n_pkgs,
	                               key, excl, n_pins,       op->oo.artifacts,          cc_id};
	rc = stitch_link(&lo, res, err);
	free(excl);
	stitch_pins_free(pins, n_pins);
	for (size_t i = 0; i < n_pkgs; i++)
		free(pkgs[i]);
	free(pkgs);
	free(key);
	return rc;
}

static void report_link(const struct build_opts *o, const struct stitch_link_result *res)
{
	if (o->json) {
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:f}", "event", "link",
		                         "action", res->relinked ? "linked" : "kept", "image",
		                         res->image, "sha256", res->sha256, "compiled",
		                         (int)res->compiled, "cached", (int)res->from_cache,
		                         "seconds", cmd_json_seconds(res->link_seconds)));
	} else {
		if (res->relinked && cmd_verbosity() != CMD_QUIET)
			printf("image relinked in %.2f s (%zu source%s compiled%s)\n",
			       res->link_seconds, res->compiled, res->compiled == 1 ? "" : "s",
			       res->from_cache ? ", the others from the artifact cache" : "");
		else if (cmd_verbosity() != CMD_QUIET)
			printf("image up to date\n");
		cmd_paint(stdout, CMD_STYLE_GOOD, "image:");
		printf(" %s\nsha256: %s\n", res->image, res->sha256);
	}
	fflush(stdout);
}

/* Shared by build and test: resolve, install, link. Fills image (malloc'd). */
/*
 * The packages' own tests (--with-test) run before the link, so that a
 * failure leaves the previous image, unless tests_later: then they are
 * left in *rebuilt for the caller to run beside the image's test.
 */
static int build_project(struct stitch_ctx *ctx, const struct build_opts *o,
                         struct stitch_project *p, struct cmd_rebuilt *rebuilt, bool tests_later,
                         const struct stitch_target **target, char **image)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct cmd_op op;
	struct stitch_link_result res;
	const struct stitch_target *t;
	const struct stitch_version **fixed = NULL;
	size_t n_fixed = 0;
	int rc;

	t = stitch_target_find(o->target ? o->target : p->target, &err);
	if (!t && o->target) {
		cmd_fail(&err);
		return EXIT_USAGE; /* a bad --target is a usage error */
	}
	if (!t)
		return cmd_fail(&err);
	*target = t;
	if ((rc = open_own_switch(ctx, p)) != EXIT_OK)
		return rc;
	cmd_op_init(ctx, &op, o->json, false, o->jobs);
	if (o->locked) {
		if (locked_versions(ctx, o, p, t, &fixed, &n_fixed, &err) != 0) {
			cmd_op_release(&op);
			return cmd_fail(&err);
		}
		op.oo.fixed = fixed;
		op.oo.n_fixed = n_fixed;
	}
	op.oo.explain = o->explain;
	cmd_rebuilt_init(rebuilt, &op, o->with_test);
	rc = install_depends(ctx, p, t, &op, &why, &err);
	free(fixed);
	if (rc)
		rc = cmd_fail_solve_json(ctx, o->json, &err, &why);
	else if (!tests_later)
		rc = cmd_rebuilt_test(ctx, rebuilt, o->jobs); /* before the image: it needs them */
	rebuilt->ce_own = op.ce; /* op's events end here; the tests may come later */
	rebuilt->ce = &rebuilt->ce_own;
	stitch_buf_release(&why);
	if (rc) {
		cmd_op_release(&op);
		if (rc != EXIT_UNSAT && !o->json)
			fprintf(stderr, "note: the previous image, if any, is unchanged\n");
		return rc;
	}
	rc = link_project(ctx, p, t, &op, &res, &err);
	cmd_op_release(&op);
	if (rc) {
		if (o->json)
			cmd_print_json(json_pack("{s:s, s:s, s:s}", "event", "link", "action",
			                         "failed", "error", err.msg));
		cmd_fail(&err);
		if (!o->json)
			fprintf(stderr, "note: the previous image, if any, is unchanged\n");
		return EXIT_ERROR;
	}
	stitch_image_manifest(ctx->sw->st, p, t, &res);
	report_link(o, &res);
	*image = res.image;
	res.image = NULL;
	stitch_link_result_release(&res);
	return EXIT_OK;
}

static int load_project(struct stitch_project *p)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *dir = NULL;

	if (stitch_project_find(".", &dir, &err) != 0 || stitch_project_load(dir, p, &err) != 0) {
		free(dir);
		return cmd_fail(&err);
	}
	free(dir);
	return EXIT_OK;
}

int cmd_build(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'},    {"json", no_argument, NULL, 'J'},
	    {"explain", no_argument, NULL, 'E'},         {"locked", no_argument, NULL, 'L'},
	    {"allow-pins", no_argument, NULL, 'P'},      {"jobs", required_argument, NULL, 'j'},
	    {"with-test", optional_argument, NULL, 'W'}, {0}};
	struct build_opts o = {0};
	const struct stitch_target *t;
	struct cmd_rebuilt rebuilt = {0};
	struct cmd_noop *noop = NULL;
	struct stitch_project p;
	char **ops, *image = NULL;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx,
		                       "build takes no arguments; run it in a project directory");
	if ((rc = load_project(&p)) != EXIT_OK)
		return rc;
	if (!o.json && !o.with_test && !o.explain)
		noop = cmd_noop_begin(ctx, ctx->argc, ctx->argv, p.dir);
	rc = build_project(ctx, &o, &p, &rebuilt, false, &t, &image);
	cmd_noop_end(noop, ctx, rc);
	cmd_rebuilt_release(ctx, &rebuilt);
	free(image);
	stitch_project_release(&p);
	return rc;
}

/*
 * {"event": "test", "result": passed | failed | skipped, "command", "status"
 * (the exit status, null when killed), "signal" (when killed)}.
 */
static void print_test(const char *command, int status, const char *trace)
{
	bool skipped = WIFEXITED(status) && WEXITSTATUS(status) == 77;
	bool passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "event", "test", "result",
	                      passed    ? "passed"
	                      : skipped ? "skipped"
	                                : "failed",
	                      "command", command, "status",
	                      WIFEXITED(status) ? json_integer(WEXITSTATUS(status)) : json_null());

	if (WIFSIGNALED(status))
		json_object_set_new(o, "signal", json_integer(WTERMSIG(status)));
	if (trace)
		json_object_set_new(o, "pcap", json_string(trace));
	cmd_print_json(o);
}

/*
 * The image's test, and the packages' own tests of --with-test: side by
 * side when there are some (the image is linked already), the packages'
 * lines and verdict first.  A package's failure is the command's; the
 * image's test is then stopped and its output dropped.
 */
static int test_image(struct stitch_ctx *ctx, const struct build_opts *o,
                      const struct stitch_project *p, const char *image,
                      struct cmd_rebuilt *rebuilt, const struct cmd_image_test *it, int *status,
                      char **trace)
{
	struct cmd_image_test_bg bg;
	int rc;

	if (!cmd_rebuilt_pending(ctx, rebuilt))
		return cmd_image_test(p, image, it, status, trace);
	if ((rc = cmd_image_test_spawn(p, image, it, &bg)) != EXIT_OK)
		return rc;
	rc = cmd_rebuilt_test(ctx, rebuilt, o->jobs);
	if (rc != EXIT_OK) {
		cmd_image_test_wait(&bg, false, status, trace);
		return rc;
	}
	return cmd_image_test_wait(&bg, true, status, trace);
}

int cmd_test(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'}, {"jobs", required_argument, NULL, 'j'},
	    {"json", no_argument, NULL, 'J'},         {"with-test", optional_argument, NULL, 'W'},
	    {"pcap", required_argument, NULL, 'p'},   {0}};
	struct build_opts o = {0};
	struct cmd_rebuilt rebuilt = {0};
	struct cmd_image_test it;
	struct stitch_project p;
	char **ops, *image = NULL, *trace = NULL;
	int n_ops, rc, status;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops) {
		if (o.target || o.with_test || o.pcap) {
			free(ops);
			return cmd_usage_error(ctx,
			                       "%s is for the project's test, not with packages",
			                       o.target      ? "--target"
			                       : o.with_test ? "--with-test"
			                                     : "--pcap");
		}
		rc = cmd_test_packages(ctx, ops, n_ops, o.json, o.jobs);
		free(ops);
		return rc;
	}
	free(ops);
	if ((rc = load_project(&p)) != EXIT_OK)
		return rc;
	if (!p.test.argc) {
		stitch_project_release(&p);
		return cmd_error("the project has no \"test\" command in unikernel.json");
	}
	if (o.pcap && !p.test_network) {
		rc = cmd_usage_error(ctx, "--pcap needs the image on a tap: set \"test_network\": "
		                          "true in unikernel.json");
		goto out;
	}
	if ((rc = build_project(ctx, &o, &p, &rebuilt, true, &it.target, &image)) != EXIT_OK)
		goto out;
	it.pcap = o.pcap;
	it.json = o.json;
	if ((rc = test_image(ctx, &o, &p, image, &rebuilt, &it, &status, &trace)) != EXIT_OK)
		goto out;
	if (o.json)
		print_test(p.test.argv[0], status, trace);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		if (!o.json)
			printf("test skipped (the test said why above)\n");
		rc = 77;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (!o.json) {
			cmd_paint(stdout, CMD_STYLE_GOOD, "test passed");
			putchar('\n');
		}
		rc = EXIT_OK;
	} else {
		rc = cmd_error("test '%s' failed (%s %d)", p.test.argv[0],
		               WIFSIGNALED(status) ? "signal" : "status",
		               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		if (trace && !o.json)
			fprintf(stderr, "packet trace of the failed run: %s\n", trace);
	}
out:
	cmd_rebuilt_release(ctx, &rebuilt);
	free(trace);
	free(image);
	stitch_project_release(&p);
	return rc;
}
