/* stitch solve REQ... [--json] [--upgrade] [--pin NAME=VERSION]... [--installed NAME=VERSION]... */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "req.h"
#include "solve_args.h"
#include "util.h"

/*
 * A chosen set can hold a dependency cycle (the index allows it); nothing
 * in one can be built first, so `stitch install` refuses it.  solve still
 * prints its choice, and names the cycle as install would.
 */
struct cyc {
	const struct stitch_solution *sol;
	char *mark; /* 0 new, 1 on the path, 2 done */
	size_t *path, n_path;
	struct stitch_buf *out;
	size_t *by_name; /* indices into chosen, sorted by package name */
};

static const struct stitch_solution *sort_sol;

static int cmp_by_name(const void *a, const void *b)
{
	return strcmp(sort_sol->chosen[*(const size_t *)a]->pkg->name,
	              sort_sol->chosen[*(const size_t *)b]->pkg->name);
}

static const char *name_at(const void *items, size_t i)
{
	const struct cyc *c = items;
	return c->sol->chosen[c->by_name[i]]->pkg->name;
}

static long chosen_at(const struct cyc *c, const char *name)
{
	long k = stitch_index_bsearch(c, c->sol->n, name_at, name);
	return k < 0 ? -1 : (long)c->by_name[k];
}

static bool cyc_visit(struct cyc *c, size_t i);

/*
 * Visit what requirement k of chosen version i accepts among the chosen,
 * from the requirement compiled with the repository; -1 when that cannot
 * tell (not compiled, or the chosen package is another repository's).
 */
static int cyc_compiled(struct cyc *c, size_t i, size_t k)
{
	const struct stitch_version *v = c->sol->chosen[i];
	const struct stitch_repo *repo = v->pkg->repo;

	if (!v->reqs || !repo || !repo->req_alts || v->reqs[k] == STITCH_REQ_NONE)
		return -1;
	for (const struct stitch_req_alt *a = repo->req_alts + v->reqs[k];; a++) {
		const struct stitch_pkg *p = &repo->pkgs[a->pkg];
		long j = chosen_at(c, p->name);
		if (j >= 0 && c->sol->chosen[j]->pkg != p)
			return -1;
		if (j >= 0 && (size_t)j != i &&
		    (a->mask >> (c->sol->chosen[j] - p->versions) & 1) && cyc_visit(c, (size_t)j))
			return 1;
		if (a->last)
			return 0;
	}
}

/* The same from the requirement string. */
static bool cyc_parsed(struct cyc *c, size_t i, size_t k)
{
	const struct stitch_version *v = c->sol->chosen[i];
	struct stitch_req *r;
	bool found = false;

	if (stitch_req_parse(v->depends[k], &r, NULL) != 0)
		return false;
	for (size_t a = 0; !found && a < r->n_alts; a++) {
		long j = chosen_at(c, r->alts[a].name);
		if (j >= 0 && (size_t)j != i &&
		    stitch_vformula_eval(r->alts[a].formula, c->sol->chosen[j]->version))
			found = cyc_visit(c, (size_t)j);
	}
	stitch_req_free(r);
	return found;
}

/* Visit the chosen packages that chosen version i depends on. */
static bool cyc_edges(struct cyc *c, size_t i)
{
	for (size_t k = 0; k < c->sol->chosen[i]->n_depends; k++) {
		int rc = cyc_compiled(c, i, k);
		if (rc == 1 || (rc == -1 && cyc_parsed(c, i, k)))
			return true;
	}
	return false;
}

static bool cyc_visit(struct cyc *c, size_t i)
{
	if (c->mark[i] == 2)
		return false;
	if (c->mark[i] == 1) {
		size_t k = c->n_path;
		while (k > 0 && c->path[k - 1] != i)
			k--;
		for (k = k ? k - 1 : 0; k < c->n_path; k++)
			stitch_buf_addf(c->out, "%s -> ", c->sol->chosen[c->path[k]]->pkg->name);
		stitch_buf_adds(c->out, c->sol->chosen[i]->pkg->name);
		return true;
	}
	c->mark[i] = 1;
	c->path[c->n_path++] = i;
	if (cyc_edges(c, i))
		return true;
	c->n_path--;
	c->mark[i] = 2;
	return false;
}

static void warn_cycle(const struct stitch_solution *sol)
{
	struct stitch_buf out = STITCH_BUF_INIT;
	struct cyc c = {sol,
	                xcalloc(sol->n + 1, 1),
	                xcalloc(sol->n + 1, sizeof(size_t)),
	                0,
	                &out,
	                xcalloc(sol->n + 1, sizeof(size_t))};

	for (size_t i = 0; i < sol->n; i++)
		c.by_name[i] = i;
	sort_sol = sol;
	if (sol->n > 1)
		qsort(c.by_name, sol->n, sizeof(size_t), cmp_by_name);

	for (size_t i = 0; i < sol->n; i++)
		if (cyc_visit(&c, i)) {
			fprintf(stderr,
			        "warning: dependency cycle: %s\n"
			        "hint: nothing in a cycle can be built first; 'stitch install' "
			        "refuses this choice\n",
			        out.buf);
			break;
		}
	stitch_buf_release(&out);
	free(c.mark);
	free(c.path);
	free(c.by_name);
}

static void print_json(const struct stitch_solution *sol)
{
	json_t *arr = json_array(), *doc;
	char *text;

	for (size_t i = 0; i < sol->n; i++)
		json_array_append_new(arr,
		                      json_pack("{s:s, s:s}", "name", sol->chosen[i]->pkg->name,
		                                "version", sol->chosen[i]->version));
	doc = json_pack("{s:o}", "packages", arr);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(text);
	free(text);
	json_decref(doc);
}

int cmd_solve(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"upgrade", no_argument, NULL, OPT_UPGRADE},
	    {"pin", required_argument, NULL, OPT_PIN},
	    {"installed", required_argument, NULL, OPT_INSTALLED},
	    {0},
	};
	struct solve_args a = {0};
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	int rc;

	rc = cmd_parse_opts(ctx, argc, argv, opts, solve_args_opt, &a, &a.roots, &a.n_roots);
	if (rc != EXIT_OK) {
		solve_args_release(&a);
		return rc;
	}
	if (a.n_roots < 1) {
		solve_args_release(&a);
		return cmd_usage_error(ctx, "solve needs at least one requirement");
	}
	struct stitch_solve_request req = {
	    .n_roots = (size_t)a.n_roots,
	    .roots = (const char *const *)a.roots,
	    .n_pins = a.n_pins,
	    .pins = a.pins,
	    .n_installed = a.n_installed,
	    .installed = a.installed,
	    .upgrade = a.upgrade,
	};
	rc = solve_run(ctx, &req, &sol, a.json);
	if (rc == EXIT_OK)
		warn_cycle(&sol);
	if (rc == EXIT_OK) {
		if (a.json)
			print_json(&sol);
		else
			for (size_t i = 0; i < sol.n; i++) {
				/* Thousands of lines: no format to parse for each. */
				fputs_unlocked(sol.chosen[i]->pkg->name, stdout);
				putc_unlocked(' ', stdout);
				fputs_unlocked(sol.chosen[i]->version, stdout);
				putc_unlocked('\n', stdout);
			}
	}
	stitch_solution_release(&sol);
	solve_args_release(&a);
	return rc;
}
