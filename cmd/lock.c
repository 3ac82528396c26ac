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

/* First line of `tool --version`, or NULL. */
static char *tool_identity(const char *tool)
{
	char *argv[] = {(char *)tool, "--version", NULL};
	struct stitch_buf b = STITCH_BUF_INIT;
	char *s = NULL;

	if (stitch_run_capture(argv, &b, 4096) == 0 && b.len) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		s = xstrdup(b.buf);
	}
	stitch_buf_release(&b);
	return s;
}

char *cmd_lock_path(const struct stitch_project *p)
{
	return xasprintf("%s/stitch.lock", p->dir);
}

/* The project's requirements: its depends, then the target's platform. */
static const char **project_reqs(const struct stitch_project *p, const struct stitch_target *t,
                                 size_t *n)
{
	const char **reqs = xcalloc(p->n_depends + 2, sizeof(char *));

	bool have = false;

	for (size_t i = 0; i < p->n_depends; i++) {
		reqs[i] = p->depends[i];
		have |= strcmp(p->depends[i], t->platform_pkg) == 0;
	}
	*n = p->n_depends;
	if (!have)
		reqs[(*n)++] = t->platform_pkg;
	return reqs;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the chosen packages that v's depends are satisfied by, sorted. */
static char **depends_of(const struct stitch_version *v, const struct stitch_version *const *sol,
                         size_t n_sol, size_t *n_out)
{
	char **out = xcalloc(n_sol + 1, sizeof(char *));
	size_t n = 0;

	for (size_t k = 0; k < v->n_depends; k++) {
		struct stitch_req *r;
		if (stitch_req_parse(v->depends[k], &r, NULL) != 0)
			continue;
		for (size_t j = 0; j < n_sol; j++) {
			bool dup = false;
			if (sol[j] == v ||
			    !stitch_req_matches(r, sol[j]->pkg->name, sol[j]->version))
				continue;
			for (size_t d = 0; d < n; d++)
				dup |= strcmp(out[d], sol[j]->pkg->name) == 0;
			if (!dup)
				out[n++] = xstrdup(sol[j]->pkg->name);
		}
		stitch_req_free(r);
	}
	qsort(out, n, sizeof(char *), cmp_str);
	*n_out = n;
	return out;
}

/* A pin's path as the lock writes it: relative to the project when inside it. */
static char *pin_path_for_lock(const struct stitch_project *p, const char *path)
{
	size_t n = strlen(p->dir);

	if (strncmp(path, p->dir, n) == 0 && path[n] == '/')
		return xstrdup(path + n + 1);
	return xstrdup(path);
}

static int cmp_lock_pkg(const void *a, const void *b)
{
	return strcmp(((const struct stitch_lock_pkg *)a)->name,
	              ((const struct stitch_lock_pkg *)b)->name);
}

int cmd_lock_compute(struct stitch_ctx *ctx, const struct stitch_project *p,
                     const struct stitch_target *t, const struct stitch_lock *prefer, bool upgrade,
                     struct stitch_lock *out)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_pin *pins = NULL;
	struct stitch_installed *inst = NULL;
	size_t n_pins = 0, n_inst = 0, n_reqs, n_pref = 0;
	struct stitch_solve_pin *sp;
	struct stitch_solve_installed *pref;
	const char **reqs = project_reqs(p, t, &n_reqs);
	struct stitch_solve_request req;
	int rc = EXIT_OK;

	memset(out, 0, sizeof(*out));
	if (ctx->sw) {
		stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL);
		stitch_state_list_packages(ctx->sw->st, &inst, &n_inst, NULL);
	}
	sp = xcalloc(n_pins + 1, sizeof(*sp));
	for (size_t i = 0; i < n_pins; i++)
		sp[i] = (struct stitch_solve_pin){pins[i].name, pins[i].version, pins[i].path};
	/* Keep what the lock (else the switch) has, as cargo and opam do. */
	pref = xcalloc((prefer ? prefer->n_pkgs : 0) + n_inst + 1, sizeof(*pref));
	if (prefer)
		for (size_t i = 0; i < prefer->n_pkgs; i++)
			pref[n_pref++] = (struct stitch_solve_installed){prefer->pkgs[i].name,
			                                                 prefer->pkgs[i].version};
	else
		for (size_t i = 0; i < n_inst; i++)
			pref[n_pref++] =
			    (struct stitch_solve_installed){inst[i].name, inst[i].version};
	req = (struct stitch_solve_request){n_reqs, reqs, n_pins, sp, n_pref, pref, upgrade};
	rc = stitch_solve(ctx->index, &req, &sol, &why, &err);
	if (rc) {
		rc = cmd_fail_solve(&err, &why);
		goto out;
	}
	out->project = xstrdup(p->name);
	out->target = xstrdup(t->name);
	out->requires = xcalloc(n_reqs + 1, sizeof(char *));
	for (size_t i = 0; i < n_reqs; i++)
	out->requires[out->n_requires++] = xstrdup(reqs[i]);
	out->cc = tool_identity("cc");
	out->ld = tool_identity("ld");
	out->pkgs = xcalloc(sol.n + 1, sizeof(*out->pkgs));
	out->repos = xcalloc(sol.n + 1, sizeof(*out->repos));
	for (size_t i = 0; i < sol.n; i++) {
		const struct stitch_version *v = sol.chosen[i];
		struct stitch_lock_pkg *lp = &out->pkgs[out->n_pkgs++];
		const struct stitch_pin *pin = NULL;
		char recipe[65];
		for (size_t k = 0; k < n_pins; k++)
			if (strcmp(pins[k].name, v->pkg->name) == 0)
				pin = &pins[k];
		stitch_recipe_hash(v, recipe);
		lp->name = xstrdup(v->pkg->name);
		lp->version = xstrdup(v->version);
		lp->recipe = xstrdup(recipe);
		lp->depends = depends_of(v, sol.chosen, sol.n, &lp->n_depends);
		if (pin) {
			struct stitch_tree_scan scan = {0};
			bool txn = stitch_state_begin(ctx->sw->st, NULL) == 0;
			lp->pin_path = pin_path_for_lock(p, pin->path);
			if (stitch_tree_scan(ctx->sw->st, pin->name, pin->path, &scan, &err) != 0) {
				if (txn)
					stitch_state_rollback(ctx->sw->st, NULL);
				rc = cmd_fail(&err);
				goto out;
			}
			if (txn)
				stitch_state_commit(ctx->sw->st, NULL);
			lp->pin_tree = xstrdup(scan.tree_hash);
			stitch_tree_scan_release(&scan);
			continue;
		}
		lp->url = xstrdup(v->url);
		lp->sha256 = v->sha256 ? xstrdup(v->sha256) : NULL;
		lp->repository = xstrdup(v->pkg->repo->name);
		{
			bool seen = false;
			for (size_t k = 0; k < out->n_repos; k++)
				seen |= strcmp(out->repos[k].name, v->pkg->repo->name) == 0;
			if (!seen) {
				out->repos[out->n_repos].name = xstrdup(v->pkg->repo->name);
				out->repos[out->n_repos++].sha256 =
				    xstrdup(v->pkg->repo->content_sha256);
			}
		}
	}
	qsort(out->pkgs, out->n_pkgs, sizeof(*out->pkgs), cmp_lock_pkg);
	for (size_t i = 1; i < out->n_repos; i++)
		for (size_t k = i; k > 0 && strcmp(out->repos[k - 1].name, out->repos[k].name) > 0;
		     k--) {
			struct stitch_lock_repo tmp = out->repos[k];
			out->repos[k] = out->repos[k - 1];
			out->repos[k - 1] = tmp;
		}
out:
	if (rc)
		stitch_lock_release(out);
	stitch_solution_release(&sol);
	stitch_buf_release(&why);
	stitch_pins_free(pins, n_pins);
	stitch_installed_free(inst, n_inst);
	free(sp);
	free(pref);
	free(reqs);
	return rc;
}

int cmd_lock_versions(struct stitch_ctx *ctx, const struct stitch_project *p,
                      const struct stitch_target *t, const struct stitch_lock *l, bool allow_pins,
                      const struct stitch_version ***out, size_t *n_out)
{
	const struct stitch_version **v = xcalloc(l->n_pkgs + 1, sizeof(*v));
	const char *path = "stitch.lock";
	struct stitch_pin *pins = NULL;
	size_t n_pins = 0, n_reqs;
	const char **reqs = project_reqs(p, t, &n_reqs);
	int rc = EXIT_OK;

	*out = NULL;
	*n_out = 0;
	/* The lock must be for this project as it is now. */
	if (strcmp(l->target, t->name) != 0) {
		rc = cmd_error("%s is for target '%s', not '%s'; run 'stitch lock'", path,
		               l->target, t->name);
		goto out;
	}
	if (l->n_requires != n_reqs)
		rc = EXIT_ERROR;
	for (size_t i = 0; rc == EXIT_OK && i < n_reqs; i++)
		if (strcmp(l->requires[i], reqs[i]) != 0)
			rc = EXIT_ERROR;
	if (rc) {
		rc =
		    cmd_error("%s is stale: unikernel.json's depends changed since it was written; "
		              "run 'stitch lock'",
		              path);
		goto out;
	}
	if (ctx->sw)
		stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL);
	for (size_t i = 0; i < n_pins && !allow_pins; i++) {
		rc = cmd_error("%s is pinned to %s; a locked build uses the locked releases "
		               "(run 'stitch pin remove %s', or pass --allow-pins)",
		               pins[i].name, pins[i].path, pins[i].name);
		goto out;
	}
	for (size_t i = 0; i < l->n_pkgs; i++) {
		const struct stitch_lock_pkg *lp = &l->pkgs[i];
		const struct stitch_pkg *pkg = stitch_index_find(ctx->index, lp->name);
		const struct stitch_version *ver =
		    pkg ? stitch_pkg_find_version(pkg, lp->version) : NULL;
		char recipe[65];
		bool pinned = false;
		for (size_t k = 0; k < n_pins; k++)
			pinned |= strcmp(pins[k].name, lp->name) == 0;
		if (lp->pin_path && !allow_pins) {
			rc = cmd_error("%s: %s %s is locked as a path pin (%s); a locked build "
			               "uses releases only (re-lock without the pin, or pass "
			               "--allow-pins)",
			               path, lp->name, lp->version, lp->pin_path);
			goto out;
		}
		if (lp->pin_path && !pinned) {
			rc = cmd_error("%s: %s %s is locked as a pin of %s, but this switch has "
			               "no such pin; run 'stitch pin add %s %s'",
			               path, lp->name, lp->version, lp->pin_path, lp->name,
			               lp->pin_path);
			goto out;
		}
		if (!ver) {
			struct stitch_buf have = STITCH_BUF_INIT;
			for (size_t k = 0; pkg && k < pkg->n_versions && k < 8; k++)
				stitch_buf_addf(&have, "%s%s", k ? ", " : "",
				                pkg->versions[k].version);
			rc = cmd_error("%s: %s %s is not in any repository (%s%s)", path, lp->name,
			               lp->version, pkg ? "they have " : "no package of that name",
			               have.buf);
			stitch_buf_release(&have);
			goto out;
		}
		if (!lp->pin_path && !pinned) {
			if (!ver->sha256 || !lp->sha256 || strcmp(ver->sha256, lp->sha256) != 0) {
				rc = cmd_error(
				    "%s: %s %s: checksum differs: the lock has %s, "
				    "repository '%s' has %s",
				    path, lp->name, lp->version, lp->sha256 ? lp->sha256 : "none",
				    ver->pkg->repo->name, ver->sha256 ? ver->sha256 : "none");
				goto out;
			}
			stitch_recipe_hash(ver, recipe);
			if (strcmp(recipe, lp->recipe) != 0) {
				rc = cmd_error(
				    "%s: %s %s: its recipe (build or install commands) in "
				    "repository '%s' differs from the locked one",
				    path, lp->name, lp->version, ver->pkg->repo->name);
				goto out;
			}
		}
		v[i] = ver;
	}
	/* Whole: every requirement of the project and of each package is locked. */
	for (size_t i = 0; i <= l->n_pkgs; i++) {
		size_t nd = i < l->n_pkgs ? v[i]->n_depends : n_reqs;
		for (size_t k = 0; k < nd; k++) {
			const char *rs = i < l->n_pkgs ? v[i]->depends[k] : reqs[k];
			struct stitch_req *r;
			bool ok = false;
			if (stitch_req_parse(rs, &r, NULL) != 0)
				continue;
			for (size_t j = 0; j < l->n_pkgs && !ok; j++)
				ok = stitch_req_matches(r, v[j]->pkg->name, v[j]->version);
			stitch_req_free(r);
			if (!ok) {
				rc = cmd_error(
				    "%s: %s needs '%s', which no locked package satisfies; "
				    "run 'stitch lock'",
				    path, i < l->n_pkgs ? v[i]->pkg->name : "the project", rs);
				goto out;
			}
		}
	}
	*out = v;
	*n_out = l->n_pkgs;
	v = NULL;
out:
	free(v);
	free(reqs);
	stitch_pins_free(pins, n_pins);
	return rc;
}

/* The project's switch when it exists (for its pins), opened into ctx->sw. */
static int open_project_switch(struct stitch_ctx *ctx, const struct stitch_project *p)
{
	char *dir = ctx->switch_arg ? xstrdup(ctx->switch_arg) : xasprintf("%s/_stitch", p->dir);
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

int cmd_lock(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"check", no_argument, NULL, 'c'},
	                                     {"upgrade", no_argument, NULL, 'u'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {0}};
	struct lock_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_project p;
	struct stitch_lock old, now;
	const struct stitch_target *t;
	char **ops, *dir = NULL, *path, **diffs = NULL, **notes = NULL;
	size_t n_diffs = 0, n_notes = 0;
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
	path = cmd_lock_path(&p);
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
	if ((rc = cmd_lock_compute(ctx, &p, t, have_old && !o.upgrade ? &old : NULL, o.upgrade,
	                           &now)) != EXIT_OK)
		goto out1;
	if (have_old)
		n_diffs = stitch_lock_diff(&old, &now, &diffs, &notes, &n_notes);
	if (o.check) {
		if (o.json) {
			json_t *d = json_array(), *nt = json_array(), *ev;
			char *text;
			for (size_t i = 0; i < n_diffs; i++)
				json_array_append_new(d, json_string(diffs[i]));
			for (size_t i = 0; i < n_notes; i++)
				json_array_append_new(nt, json_string(notes[i]));
			ev = json_pack("{s:s, s:s, s:b, s:o, s:o}", "event", "lock-check", "lock",
			               path, "stale", n_diffs > 0, "differences", d, "notes", nt);
			text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
			puts(text);
			free(text);
			json_decref(ev);
		} else {
			print_lines(stderr, "note: ", notes, n_notes);
			if (n_diffs) {
				fprintf(stderr, "error: %s is stale:\n", path);
				print_lines(stderr, "  ", diffs, n_diffs);
				fprintf(stderr, "hint: run 'stitch lock' and commit the result\n");
			} else {
				printf("%s is up to date (%zu packages)\n", path, now.n_pkgs);
			}
		}
		rc = n_diffs ? EXIT_ERROR : EXIT_OK;
		goto out2;
	}
	{
		/* Rewritten only when its bytes change. */
		char *text = stitch_lock_dump(&now);
		struct stitch_buf cur = STITCH_BUF_INIT;
		bool same = stitch_read_file(path, &cur, 0) == 0 && cur.len == strlen(text) &&
		            memcmp(cur.buf, text, cur.len) == 0;
		stitch_buf_release(&cur);
		free(text);
		if (!same && stitch_lock_save(path, &now, &err) != 0) {
			rc = cmd_fail(&err);
			goto out2;
		}
		if (o.json) {
			json_t *d = json_array(), *ev;
			char *s;
			for (size_t i = 0; i < n_diffs; i++)
				json_array_append_new(d, json_string(diffs[i]));
			ev = json_pack("{s:s, s:s, s:s, s:i, s:o}", "event", "lock", "lock", path,
			               "action",
			               same       ? "unchanged"
			               : have_old ? "updated"
			                          : "written",
			               "packages", (int)now.n_pkgs, "changes", d);
			s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
			puts(s);
			free(s);
			json_decref(ev);
		} else {
			print_lines(stdout, "  ", diffs, n_diffs);
			printf("%s: %zu packages, %s\n", path, now.n_pkgs,
			       same       ? "unchanged"
			       : have_old ? "updated"
			                  : "written");
		}
	}
out2:
	stitch_strings_free(diffs, n_diffs);
	stitch_strings_free(notes, n_notes);
	stitch_lock_release(&now);
out1:
	if (have_old)
		stitch_lock_release(&old);
out0:
	free(path);
	stitch_project_release(&p);
	return rc;
}
