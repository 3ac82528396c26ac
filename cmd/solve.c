/* stitch solve REQ... [--json] [--upgrade] [--pin NAME=VERSION]... [--installed NAME=VERSION]... */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "solve_args.h"
#include "util.h"

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
