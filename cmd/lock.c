/*
 * stitch lock [--check] [--upgrade] [--json]: write or check stitch.lock
 * next to unikernel.json; and what `stitch build --locked` needs from it.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "link.h"
#include "lock.h"
#include "op.h"
#include "project.h"
#include "req.h"
#include "solve.h"
#include "state.h"
#include "tree.h"
#include "util.h"

/* The project's switch when it exists (for its pins), opened into ctx->sw. */
static int open_project_switch(struct stitch_ctx *ctx, const struct stitch_project *p)
{
	char *dir = cmd_project_switch(ctx, p->dir);
	int rc;

	if (access(dir, F_OK) != 0) {
		free(dir);
		return EXIT_OK;
	}
	ctx->switch_arg = dir; /* lives until exit */
	if ((rc = cmd_open_switch(ctx, false)) != EXIT_OK)
		return rc;
	return cmd_load_pin_overlays(ctx, NULL, NULL);
}

static void print_lines(FILE *f, const char *head, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s\n", head, v[i]);
}

struct lock_opts {
	bool check, upgrade, json;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct lock_opts *o = data;

	(void)arg;
	if (val == 'c')
		o->check = true;
	else if (val == 'u')
		o->upgrade = true;
	else if (val == 'J')
		o->json = true;
	else
		return EXIT_USAGE;
	return EXIT_OK;
}

/* How the new lock differs from the one on disk (stitch_lock_diff). */
struct lock_changes {
	char **diffs, **notes;
	size_t n_diffs, n_notes;
};

static json_t *json_strings(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* --check: report whether stitch.lock is stale; stale is an error. */
static int report_check(const struct lock_opts *o, const char *path, const struct stitch_lock *now,
                        const struct lock_changes *c)
{
	if (o->json) {
		cmd_print_json(json_pack("{s:s, s:s, s:b, s:o, s:o}", "event", "lock-check", "lock",
		                         path, "stale", c->n_diffs > 0, "differences",
		                         json_strings(c->diffs, c->n_diffs), "notes",
		                         json_strings(c->notes, c->n_notes)));
	} else {
		print_lines(stderr, "note: ", c->notes, c->n_notes);
		if (c->n_diffs) {
			fprintf(stderr, "error: %s is stale:\n", path);
			print_lines(stderr, "  ", c->diffs, c->n_diffs);
			fprintf(stderr, "hint: run 'stitch lock' and commit the result\n");
		} else {
			printf("%s is up to date (%zu packages)\n", path, now->n_pkgs);
		}
	}
	return c->n_diffs ? EXIT_ERROR : EXIT_OK;
}

/* Write stitch.lock (rewritten only when its bytes change) and say what changed. */
static int write_lock(const struct lock_opts *o, const char *path, const struct stitch_lock *now,
                      bool have_old, const struct lock_changes *c, struct stitch_err *err)
{
	char *text = stitch_lock_dump(now);
	struct stitch_buf cur = STITCH_BUF_INIT;
	bool same = stitch_read_file(path, &cur, 0) == 0 && cur.len == strlen(text) &&
	            memcmp(cur.buf, text, cur.len) == 0;
	const char *action = same ? "unchanged" : have_old ? "updated" : "written";

	stitch_buf_release(&cur);
	free(text);
	if (!same && stitch_lock_save(path, now, err) != 0)
		return cmd_fail(err);
	if (o->json) {
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:i, s:o}", "event", "lock", "lock", path,
		                         "action", action, "packages", (int)now->n_pkgs,
		                         "differences", json_strings(c->diffs, c->n_diffs)));
	} else {
		print_lines(stdout, "  ", c->diffs, c->n_diffs);
		printf("%s: %zu packages, %s\n", path, now->n_pkgs, action);
	}
	return EXIT_OK;
}

int cmd_lock(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"check", no_argument, NULL, 'c'},
	                                     {"upgrade", no_argument, NULL, 'u'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {0}};
	struct lock_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct stitch_project p;
	struct stitch_lock old, now;
	struct lock_changes c = {0};
	const struct stitch_target *t;
	char **ops, *dir = NULL, *path;
	bool have_old;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx,
		                       "lock takes no arguments; run it in a project directory");
	if (stitch_project_find(".", &dir, &err) != 0 || stitch_project_load(dir, &p, &err) != 0) {
		free(dir);
		return cmd_fail(&err);
	}
	free(dir);
	path = stitch_lock_path(&p);
	t = stitch_target_find(p.target, &err);
	if (!t) {
		rc = cmd_fail(&err);
		goto out0;
	}
	if ((rc = open_project_switch(ctx, &p)) != EXIT_OK)
		goto out0;
	have_old = stitch_lock_load(path, &old, &err) == 0;
	if (!have_old && err.code != STITCH_E_NOTFOUND) {
		rc = cmd_fail(&err);
		goto out0;
	}
	if (!have_old && o.check) {
		rc = cmd_error("no stitch.lock in %s; run 'stitch lock' and commit it", p.dir);
		goto out0;
	}
	if (stitch_target_check_depends(t, ctx->index, (const char *const *)p.depends, p.n_depends,
	                                &err) != 0) {
		rc = cmd_fail(&err);
		goto out1;
	}
	if ((rc = stitch_lock_compute(ctx->index, ctx->sw ? ctx->sw->st : NULL, &p, t,
	                              have_old && !o.upgrade ? &old : NULL, o.upgrade, &now, &why,
	                              &err)) != 0) {
		rc = cmd_fail_solve_json(ctx, o.json, &err, &why);
		goto out1;
	}
	if (have_old)
		c.n_diffs = stitch_lock_diff(&old, &now, &c.diffs, &c.notes, &c.n_notes);
	if (o.check)
		rc = report_check(&o, path, &now, &c);
	else
		rc = write_lock(&o, path, &now, have_old, &c, &err);
	stitch_strings_free(c.diffs, c.n_diffs);
	stitch_strings_free(c.notes, c.n_notes);
	stitch_lock_release(&now);
out1:
	if (have_old)
		stitch_lock_release(&old);
out0:
	stitch_buf_release(&why);
	free(path);
	stitch_project_release(&p);
	return rc;
}
