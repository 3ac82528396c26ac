/*
 * stitch build [--target T] [--json] [-j N]: in a unikernel project, bring
 * its switch up to date and link the image; stitch test runs its test.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "link.h"
#include "op.h"
#include "project.h"
#include "req.h"
#include "state.h"
#include "util.h"

struct build_opts {
	const char *target;
	bool json;
	int jobs;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct build_opts *o = data;
	char *end;

	if (val == 't')
		o->target = arg;
	else if (val == 'J')
		o->json = true;
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

/* pkg-config names to link: per requirement, the alternative that is installed. */
static char **link_packages(struct stitch_ctx *ctx, const struct stitch_project *p,
                            const struct stitch_target *t, size_t *n, char **inputs_key)
{
	char **v = xcalloc(p->n_depends + 2, sizeof(char *));
	struct stitch_installed *inst = NULL;
	struct stitch_buf key = STITCH_BUF_INIT;
	size_t n_inst = 0;
	bool have_platform = false;

	*n = 0;
	stitch_state_list_packages(ctx->sw->st, &inst, &n_inst, NULL);
	for (size_t i = 0; i < p->n_depends; i++) {
		struct stitch_req *r;
		if (stitch_req_parse(p->depends[i], &r, NULL) != 0)
			continue;
		for (size_t a = 0; a < r->n_alts; a++) {
			bool found = false;
			for (size_t k = 0; k < n_inst && !found; k++)
				found = strcmp(inst[k].name, r->alts[a].name) == 0;
			if (found) {
				v[(*n)++] = xstrdup(r->alts[a].name);
				have_platform |= strcmp(r->alts[a].name, t->platform_pkg) == 0;
				break;
			}
		}
		stitch_req_free(r);
	}
	if (!have_platform)
		v[(*n)++] = xstrdup(t->platform_pkg);
	/* What the app compiles against: every installed interface. */
	for (size_t k = 0; k < n_inst; k++)
		stitch_buf_addf(&key, "%s %s %s\n", inst[k].name, inst[k].version,
		                inst[k].interface_hash ? inst[k].interface_hash : "");
	*inputs_key = xmalloc(65);
	stitch_sha256_hex(key.buf, key.len, *inputs_key);
	stitch_buf_release(&key);
	stitch_installed_free(inst, n_inst);
	return v;
}

/* Shared by build and test: resolve, install, link. Fills image (malloc'd). */
static int build_project(struct stitch_ctx *ctx, const struct build_opts *o,
                         struct stitch_project *p, char **image)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct cmd_events ce = {0};
	struct stitch_op_opts oo = {0};
	struct stitch_link_result res;
	struct stitch_link_opts lo;
	const struct stitch_target *t;
	const char **reqs;
	char **pkgs, *key = NULL, *sw_dir;
	size_t n_pkgs = 0;
	int rc;

	t = stitch_target_find(o->target ? o->target : p->target, &err);
	if (!t)
		return cmd_fail(&err);
	/* The project's own switch, made on first use. */
	sw_dir = ctx->switch_arg ? xstrdup(ctx->switch_arg) : xasprintf("%s/_stitch", p->dir);
	if (access(sw_dir, F_OK) != 0 && stitch_switch_init(sw_dir, &err) != 0) {
		free(sw_dir);
		return cmd_fail(&err);
	}
	ctx->switch_arg = sw_dir; /* lives until exit */
	if ((rc = cmd_open_switch(ctx, false)) != EXIT_OK ||
	    (rc = cmd_load_pin_overlays(ctx, NULL, NULL)) != EXIT_OK)
		return rc;
	reqs = xcalloc(p->n_depends + 2, sizeof(char *));
	for (size_t i = 0; i < p->n_depends; i++)
		reqs[i] = p->depends[i];
	reqs[p->n_depends] = t->platform_pkg;
	ce.json = o->json;
	oo.source_cache = cmd_source_cache_dir(ctx);
	oo.jobs = o->jobs;
	oo.command_line = ctx->command_line;
	oo.on_event = cmd_print_event;
	oo.data = &ce;
	rc = stitch_op_install(ctx->sw, ctx->index, reqs, p->n_depends + 1, &oo, &why, &err);
	free((char *)oo.source_cache);
	free(reqs);
	if (rc == STITCH_E_UNSAT) {
		fprintf(stderr, "error: %s\n%s", err.msg, why.buf);
		stitch_buf_release(&why);
		return EXIT_UNSAT;
	}
	stitch_buf_release(&why);
	if (rc) {
		cmd_fail(&err);
		if (!o->json)
			fprintf(stderr, "note: the previous image, if any, is unchanged\n");
		return EXIT_ERROR;
	}
	pkgs = link_packages(ctx, p, t, &n_pkgs, &key);
	{
		struct stitch_pin *pins = NULL;
		size_t n_pins = 0;
		const char **excl;
		stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL);
		excl = xcalloc(n_pins + 1, sizeof(char *));
		for (size_t i = 0; i < n_pins; i++)
			excl[i] = pins[i].path;
		lo = (struct stitch_link_opts){p,      t,   ctx->sw->dir, (const char *const *)pkgs,
		                               n_pkgs, key, excl,         n_pins};
		rc = stitch_link(&lo, &res, &err);
		free(excl);
		stitch_pins_free(pins, n_pins);
	}
	for (size_t i = 0; i < n_pkgs; i++)
		free(pkgs[i]);
	free(pkgs);
	free(key);
	if (rc) {
		if (o->json) {
			json_t *ev = json_pack("{s:s, s:s, s:s}", "event", "link", "action",
			                       "failed", "error", err.msg);
			char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
			puts(text);
			free(text);
			json_decref(ev);
		}
		cmd_fail(&err);
		if (!o->json)
			fprintf(stderr, "note: the previous image, if any, is unchanged\n");
		return EXIT_ERROR;
	}
	if (o->json) {
		json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:i, s:f}", "event", "link", "action",
		                       res.relinked ? "linked" : "kept", "image", res.image,
		                       "sha256", res.sha256, "compiled", (int)res.compiled,
		                       "seconds", (double)(long)(res.link_seconds * 1000) / 1000);
		char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(text);
		free(text);
		json_decref(ev);
	} else {
		if (res.relinked)
			printf("image relinked in %.2f s (%zu source%s compiled)\n",
			       res.link_seconds, res.compiled, res.compiled == 1 ? "" : "s");
		else
			printf("image up to date\n");
		printf("image: %s\nsha256: %s\n", res.image, res.sha256);
	}
	fflush(stdout);
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
	static const struct option opts[] = {{"target", required_argument, NULL, 't'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {"jobs", required_argument, NULL, 'j'},
	                                     {0}};
	struct build_opts o = {NULL, false, 0};
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
	rc = build_project(ctx, &o, &p, &image);
	free(image);
	stitch_project_release(&p);
	return rc;
}

int cmd_test(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'}, {"jobs", required_argument, NULL, 'j'}, {0}};
	struct build_opts o = {NULL, false, 0};
	struct stitch_project p;
	char **ops, *image = NULL;
	int n_ops, rc, status;
	pid_t pid;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx,
		                       "test takes no arguments; run it in a project directory");
	if ((rc = load_project(&p)) != EXIT_OK)
		return rc;
	if (!p.test.argc) {
		stitch_project_release(&p);
		return cmd_error("the project has no \"test\" command in unikernel.json");
	}
	if ((rc = build_project(ctx, &o, &p, &image)) != EXIT_OK)
		goto out;
	printf("testing: %s\n", p.test.argv[0]);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (chdir(p.dir) != 0)
			_exit(126);
		setenv("STITCH_IMAGE", image, 1);
		execvp(p.test.argv[0], p.test.argv);
		fprintf(stderr, "error: cannot run test command '%s'\n", p.test.argv[0]);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("test skipped (the test said why above)\n");
		rc = 77;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("test passed\n");
		rc = EXIT_OK;
	} else {
		rc = cmd_error("test '%s' failed (%s %d)", p.test.argv[0],
		               WIFSIGNALED(status) ? "signal" : "status",
		               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
out:
	free(image);
	stitch_project_release(&p);
	return rc;
}
