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
#include "link.h"
#include "lock.h"
#include "op.h"
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

/* Installed packages in dependency order (ties by name): a topological sort. */
static void visit_inst(struct stitch_installed *inst, size_t n, size_t i, char *mark, size_t *order,
                       size_t *n_order)
{
	if (mark[i])
		return;
	mark[i] = 1;
	for (size_t d = 0; d < inst[i].n_depends; d++)
		for (size_t k = 0; k < n; k++)
			if (strcmp(inst[k].name, inst[i].depends[d]) == 0)
				visit_inst(inst, n, k, mark, order, n_order);
	order[(*n_order)++] = i;
}

/*
 * NAME.TARGET.manifest.json next to the image: what went into it.  Each
 * package's archives_sha256 covers its static archives and objects; with
 * the interface hash that is everything it installed, independent of
 * where the switch is.  Rewritten only when it changes.
 */
static void write_manifest(struct stitch_ctx *ctx, const struct stitch_project *p,
                           const struct stitch_target *t, const struct stitch_link_result *res)
{
	struct stitch_installed *inst = NULL;
	size_t n_inst = 0, n_order = 0;
	json_t *o, *pkgs = json_array();
	char *path = xasprintf("%s.manifest.json", res->image), *text, *name;
	size_t *order;
	char *mark;

	/* Nothing relinked: no package changed since the manifest was written. */
	if (!res->relinked && access(path, F_OK) == 0) {
		free(path);
		json_decref(pkgs);
		return;
	}
	if (stitch_state_list_packages(ctx->sw->st, &inst, &n_inst, NULL) != 0) {
		free(path);
		json_decref(pkgs);
		return;
	}
	order = xcalloc(n_inst + 1, sizeof(size_t));
	mark = xcalloc(n_inst + 1, 1);
	for (size_t i = 0; i < n_inst; i++)
		visit_inst(inst, n_inst, i, mark, order, &n_order);
	for (size_t k = 0; k < n_order; k++) {
		const struct stitch_installed *in = &inst[order[k]];
		struct stitch_file *files = NULL;
		struct stitch_buf b = STITCH_BUF_INIT;
		size_t n_files = 0;
		char arch[65];
		json_t *po, *deps = json_array();
		stitch_state_files_of(ctx->sw->st, in->name, &files, &n_files, NULL);
		for (size_t i = 0; i < n_files; i++) {
			size_t len = strlen(files[i].path);
			if (len > 2 && files[i].path[len - 2] == '.' &&
			    (files[i].path[len - 1] == 'a' || files[i].path[len - 1] == 'o'))
				stitch_buf_addf(&b, "%s %s\n", files[i].path, files[i].sha256);
		}
		stitch_sha256_hex(b.buf, b.len, arch);
		stitch_buf_release(&b);
		stitch_files_free(files, n_files);
		for (size_t d = 0; d < in->n_depends; d++)
			json_array_append_new(deps, json_string(in->depends[d]));
		po = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "name", in->name,
		               "version", in->version, "source_sha256",
		               in->source_sha256 ? in->source_sha256 : "", "build_hash",
		               in->build_hash ? in->build_hash : "", "interface_hash",
		               in->interface_hash ? in->interface_hash : "", "archives_sha256",
		               arch, "pinned", in->pinned, "depends", deps);
		json_array_append_new(pkgs, po);
	}
	name = strrchr(res->image, '/');
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:o}", "manifest_version", 1, "project", p->name,
	              "target", t->name, "image", name ? name + 1 : res->image, "sha256",
	              res->sha256, "packages", pkgs);
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	{
		struct stitch_buf cur = STITCH_BUF_INIT;
		char *want = xasprintf("%s\n", text);
		/* Rewritten only when it changes; a manifest that cannot be written is not fatal. */
		if (stitch_read_file(path, &cur, 0) != 0 || strcmp(cur.buf, want) != 0)
			stitch_write_file(path, want, strlen(want), false);
		stitch_buf_release(&cur);
		free(want);
	}
	free(text);
	json_decref(o);
	free(order);
	free(mark);
	stitch_installed_free(inst, n_inst);
	free(path);
}

/* Shared by build and test: resolve, install, link. Fills image (malloc'd). */
static int build_project(struct stitch_ctx *ctx, const struct build_opts *o,
                         struct stitch_project *p, char **image)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct cmd_op op;
	struct stitch_link_result res;
	struct stitch_link_opts lo;
	const struct stitch_target *t;
	const char **reqs;
	char **pkgs, *key = NULL, *sw_dir;
	const struct stitch_version **fixed = NULL;
	size_t n_pkgs = 0, n_fixed = 0;
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
	cmd_op_init(ctx, &op, o->json, false, o->jobs);
	if (o->locked) {
		char *path = cmd_lock_path(p);
		struct stitch_lock lock;
		int lrc = stitch_lock_load(path, &lock, &err);
		free(path);
		if (lrc) {
			if (lrc == STITCH_E_NOTFOUND)
				stitch_error_cause(
				    &err, "hint: run 'stitch lock' and commit stitch.lock");
			cmd_op_release(&op);
			return cmd_fail(&err);
		}
		rc = cmd_lock_versions(ctx, p, t, &lock, o->allow_pins, &fixed, &n_fixed);
		stitch_lock_release(&lock);
		if (rc != EXIT_OK) {
			cmd_op_release(&op);
			return rc;
		}
		op.oo.fixed = fixed;
		op.oo.n_fixed = n_fixed;
	}
	reqs = xcalloc(p->n_depends + 2, sizeof(char *));
	for (size_t i = 0; i < p->n_depends; i++)
		reqs[i] = p->depends[i];
	reqs[p->n_depends] = t->platform_pkg;
	op.oo.explain = o->explain;
	rc = stitch_op_install(ctx->sw, ctx->index, reqs, p->n_depends + 1, &op.oo, &why, &err);
	free(reqs);
	free(fixed);
	if (rc) {
		cmd_op_release(&op);
		rc = cmd_fail_solve(&err, &why);
		stitch_buf_release(&why);
		if (rc != EXIT_UNSAT && !o->json)
			fprintf(stderr, "note: the previous image, if any, is unchanged\n");
		return rc;
	}
	stitch_buf_release(&why);
	pkgs = link_packages(ctx, p, t, &n_pkgs, &key);
	{
		struct stitch_pin *pins = NULL;
		size_t n_pins = 0;
		const char **excl;
		stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL);
		excl = xcalloc(n_pins + 1, sizeof(char *));
		for (size_t i = 0; i < n_pins; i++)
			excl[i] = pins[i].path;
		char cc_id[320];
		stitch_cc_identity(stitch_state_dir(ctx->sw->st), cc_id, sizeof(cc_id));
		lo = (struct stitch_link_opts){
		    p,   t,    ctx->sw->dir, (const char *const *)pkgs, n_pkgs,
		    key, excl, n_pins,       op.oo.artifacts,           cc_id};
		rc = stitch_link(&lo, &res, &err);
		free(excl);
		stitch_pins_free(pins, n_pins);
	}
	cmd_op_release(&op);
	for (size_t i = 0; i < n_pkgs; i++)
		free(pkgs[i]);
	free(pkgs);
	free(key);
	if (rc) {
		if (o->json)
			cmd_print_json(json_pack("{s:s, s:s, s:s}", "event", "link", "action",
			                         "failed", "error", err.msg));
		cmd_fail(&err);
		if (!o->json)
			fprintf(stderr, "note: the previous image, if any, is unchanged\n");
		return EXIT_ERROR;
	}
	write_manifest(ctx, p, t, &res);
	if (o->json) {
		cmd_print_json(json_pack(
		    "{s:s, s:s, s:s, s:s, s:i, s:i, s:f}", "event", "link", "action",
		    res.relinked ? "linked" : "kept", "image", res.image, "sha256", res.sha256,
		    "compiled", (int)res.compiled, "cached", (int)res.from_cache, "seconds",
		    (double)(long)(res.link_seconds * 1000) / 1000));
	} else {
		if (res.relinked)
			printf("image relinked in %.2f s (%zu source%s compiled%s)\n",
			       res.link_seconds, res.compiled, res.compiled == 1 ? "" : "s",
			       res.from_cache ? ", the others from the artifact cache" : "");
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
	                                     {"explain", no_argument, NULL, 'E'},
	                                     {"locked", no_argument, NULL, 'L'},
	                                     {"allow-pins", no_argument, NULL, 'P'},
	                                     {"jobs", required_argument, NULL, 'j'},
	                                     {0}};
	struct build_opts o = {0};
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

/*
 * {"event": "test", "result": passed | failed | skipped, "command", "status"
 * (the exit status, null when killed), "signal" (when killed)}.
 */
static void print_test(const char *command, int status)
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
	cmd_print_json(o);
}

int cmd_test(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"target", required_argument, NULL, 't'},
	                                     {"jobs", required_argument, NULL, 'j'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {0}};
	struct build_opts o = {0};
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
	if (!o.json)
		printf("testing: %s\n", p.test.argv[0]);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* With --json, stdout carries only events: the test's output goes to stderr. */
		if (o.json && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(126);
		if (chdir(p.dir) != 0)
			_exit(126);
		setenv("STITCH_IMAGE", image, 1);
		execvp(p.test.argv[0], p.test.argv);
		fprintf(stderr, "error: cannot run test command '%s'\n", p.test.argv[0]);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	if (o.json)
		print_test(p.test.argv[0], status);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		if (!o.json)
			printf("test skipped (the test said why above)\n");
		rc = 77;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (!o.json)
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
