/*
 * stitch install REQ... [--dry-run] [--json] [-j N] [--upgrade] [--pin NAME=VERSION]...
 * and, to try the resolver against a made-up switch, --dry-run --installed NAME=VERSION...
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifact.h"
#include "cmd.h"
#include "op.h"
#include "solve_args.h"
#include "util.h"
#include "version.h"

static int cmp_installed(const void *a, const void *b)
{
	return strcmp(((const struct stitch_solve_installed *)a)->name,
	              ((const struct stitch_solve_installed *)b)->name);
}

/* One line per package of the solution or of the switch, by name. */
static void print_actions(const struct stitch_solution *sol, struct stitch_solve_installed *inst,
                          size_t n_inst)
{
	size_t i = 0, j = 0;

	qsort(inst, n_inst, sizeof(*inst), cmp_installed);
	while (i < sol->n || j < n_inst) {
		const struct stitch_version *v = i < sol->n ? sol->chosen[i] : NULL;
		const struct stitch_solve_installed *in = j < n_inst ? &inst[j] : NULL;
		int c = !v ? 1 : !in ? -1 : strcmp(v->pkg->name, in->name);
		if (c < 0) {
			printf("install   %s %s\n", v->pkg->name, v->version);
			i++;
		} else if (c > 0) {
			printf("remove    %s %s\n", in->name, in->version);
			j++;
		} else {
			int d = stitch_version_cmp(v->version, in->version);
			if (d == 0)
				printf("keep      %s %s\n", v->pkg->name, v->version);
			else
				printf("%s %s %s -> %s\n", d > 0 ? "upgrade  " : "downgrade",
				       v->pkg->name, in->version, v->version);
			i++;
			j++;
		}
	}
}

/* The switch's own installed set: resolve, fetch, build and install. */
static int install_into_switch(struct stitch_ctx *ctx, struct solve_args *a, int jobs)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct cmd_op op;
	struct cmd_ask ask;
	int rc;

	if ((rc = cmd_open_switch(ctx, a->dry_run)) != EXIT_OK ||
	    (rc = cmd_load_pin_overlays(ctx, NULL, NULL)) != EXIT_OK)
		return rc;
	cmd_op_init(ctx, &op, a->json, a->dry_run, jobs);
	cmd_ask_init(&ask, ctx, "install", a->json, &op);
	op.oo.upgrade = a->upgrade;
	op.oo.pins = a->pins;
	op.oo.n_pins = a->n_pins;
	op.oo.explain = a->explain;
	rc = stitch_op_install(ctx->sw, ctx->index, (const char *const *)a->roots,
	                       (size_t)a->n_roots, &op.oo, &why, &err);
	if (rc == STITCH_E_PARSE) {
		cmd_fail(&err);
		rc = EXIT_USAGE;
	} else if (rc == STITCH_E_DECLINED) {
		rc = EXIT_ERROR;
	} else if (rc != 0) {
		if ((op.ce.built || op.ce.cached) && !a->json)
			fprintf(stderr,
			        "note: the packages reported as installed above are in place\n");
		rc = cmd_fail_solve_json(ctx, a->json, &err, &why);
	} else if (!a->json && !a->dry_run && !op.ce.built && !op.ce.cached) {
		printf("nothing to do: everything requested is installed\n");
	}
	cmd_op_release(&op);
	stitch_buf_release(&why);
	return rc;
}

int cmd_install(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"explain", no_argument, NULL, OPT_EXPLAIN},
	    {"upgrade", no_argument, NULL, OPT_UPGRADE},
	    {"pin", required_argument, NULL, OPT_PIN},
	    {"installed", required_argument, NULL, OPT_INSTALLED},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"jobs", required_argument, NULL, 'j'},
	    {0},
	};
	struct solve_args a = {0};
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	const char **roots;
	size_t n_roots;
	int rc;

	rc = cmd_parse_opts(ctx, argc, argv, opts, solve_args_opt, &a, &a.roots, &a.n_roots);
	if (rc != EXIT_OK) {
		solve_args_release(&a);
		return rc;
	}
	if (a.n_roots < 1) {
		solve_args_release(&a);
		return cmd_usage_error(ctx, "install needs at least one requirement");
	}
	if (!a.n_installed) {
		rc = install_into_switch(ctx, &a, a.jobs);
		solve_args_release(&a);
		return rc;
	}
	if (!a.dry_run) {
		solve_args_release(&a);
		return cmd_usage_error(
		    ctx, "--installed describes a made-up switch: use it with --dry-run");
	}
	/*
	 * What is installed stays installed: each installed package the index
	 * still has is an extra root after the requested ones (keeping its
	 * version is a preference of the resolver, not a requirement).
	 */
	roots = xcalloc((size_t)a.n_roots + a.n_installed + 1, sizeof(*roots));
	n_roots = 0;
	for (int i = 0; i < a.n_roots; i++)
		roots[n_roots++] = a.roots[i];
	for (size_t i = 0; i < a.n_installed; i++)
		if (stitch_index_find(ctx->index, a.installed[i].name))
			roots[n_roots++] = a.installed[i].name;
	struct stitch_solve_request req = {
	    .n_roots = n_roots,
	    .roots = roots,
	    .n_pins = a.n_pins,
	    .pins = a.pins,
	    .n_installed = a.n_installed,
	    .installed = a.installed,
	    .upgrade = a.upgrade,
	};
	rc = solve_run(ctx, &req, &sol, a.json);
	if (rc == EXIT_OK)
		print_actions(&sol, a.installed, a.n_installed);
	free(roots);
	stitch_solution_release(&sol);
	solve_args_release(&a);
	return rc;
}
