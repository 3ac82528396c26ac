/* stitch solve REQ... [--json] [--upgrade] [--pin NAME=VERSION]... [--installed NAME=VERSION]... */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "solve_args.h"
#include "util.h"

/* "NAME=VERSION", or for pins "NAME=VERSION@ORIGIN" (where the pin comes from). */
static int split_pair(const char *arg, const char *opt, bool origin, char **name, char **version,
                      char **from)
{
	const char *eq = strchr(arg, '=');
	const char *at = origin && eq ? strchr(eq, '@') : NULL;

	if (!eq || eq == arg || eq[1] == '\0' || at == eq + 1) {
		fprintf(stderr, "error: %s takes NAME=VERSION, not '%s'\n", opt, arg);
		return EXIT_USAGE;
	}
	*name = xstrndup(arg, (size_t)(eq - arg));
	*version = at ? xstrndup(eq + 1, (size_t)(at - eq - 1)) : xstrdup(eq + 1);
	if (from)
		*from = at && at[1] ? xstrdup(at + 1) : xstrdup("from --pin");
	return EXIT_OK;
}

int solve_args_opt(int val, const char *arg, void *data)
{
	struct solve_args *a = data;
	size_t cap;

	switch (val) {
	case OPT_PIN:
		cap = a->n_pins;
		XGROW(a->pins, cap, a->n_pins + 1);
		{
			struct stitch_solve_pin *p = &a->pins[a->n_pins];
			char *n, *v, *o;
			if (split_pair(arg, "--pin", true, &n, &v, &o) != EXIT_OK)
				return EXIT_USAGE;
			p->name = n;
			p->version = v;
			p->origin = o;
			a->n_pins++;
		}
		return EXIT_OK;
	case OPT_INSTALLED:
		cap = a->n_installed;
		XGROW(a->installed, cap, a->n_installed + 1);
		{
			struct stitch_solve_installed *p = &a->installed[a->n_installed];
			char *n, *v;
			if (split_pair(arg, "--installed", false, &n, &v, NULL) != EXIT_OK)
				return EXIT_USAGE;
			p->name = n;
			p->version = v;
			a->n_installed++;
		}
		return EXIT_OK;
	case OPT_UPGRADE:
		a->upgrade = true;
		return EXIT_OK;
	case OPT_JSON:
		a->json = true;
		return EXIT_OK;
	case OPT_EXPLAIN:
		a->explain = true;
		return EXIT_OK;
	case OPT_DRY_RUN:
		a->dry_run = true;
		return EXIT_OK;
	case 'j': {
		char *end;
		long v = strtol(arg, &end, 10);
		if (!*arg || *end || v < 1 || v > 1024) {
			cmd_usage_error(NULL, "-j expects a number from 1 to 1024, got '%s'", arg);
			return EXIT_USAGE;
		}
		a->jobs = (int)v;
		return EXIT_OK;
	}
	default:
		return EXIT_USAGE;
	}
}

void solve_args_release(struct solve_args *a)
{
	for (size_t i = 0; i < a->n_pins; i++) {
		free((char *)a->pins[i].name);
		free((char *)a->pins[i].version);
		free((char *)a->pins[i].origin);
	}
	for (size_t i = 0; i < a->n_installed; i++) {
		free((char *)a->installed[i].name);
		free((char *)a->installed[i].version);
	}
	free(a->pins);
	free(a->installed);
	free(a->roots);
	memset(a, 0, sizeof(*a));
}

int solve_run(struct stitch_ctx *ctx, const struct stitch_solve_request *req,
              struct stitch_solution *sol)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	int rc = stitch_solve(ctx->index, req, sol, &why, &err);

	if (getenv("STITCH_SOLVE_STATS"))
		fprintf(stderr,
		        "solve: %lu decisions, %lu conflicts, %lu propagations, %zu packages, "
		        "%zu variables, %zu clauses\n",
		        sol->stats.decisions, sol->stats.conflicts, sol->stats.propagations,
		        sol->stats.packages, sol->stats.variables, sol->stats.clauses);
	if (rc == 0)
		return EXIT_OK;
	if (rc == STITCH_E_PARSE || rc == STITCH_E_USAGE) {
		cmd_fail(&err);
		rc = EXIT_USAGE;
	} else {
		rc = cmd_fail_solve(&err, &why);
	}
	stitch_buf_release(&why);
	return rc;
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
	rc = solve_run(ctx, &req, &sol);
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
