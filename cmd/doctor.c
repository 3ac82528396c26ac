/*
 * stitch doctor [--json]: check every installed file against its recorded
 * hash, and that the switch is where it was made.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "switch.h"

static int json_opt(int val, const char *arg, void *data)
{
	(void)arg;
	if (val != 'J')
		return EXIT_USAGE;
	*(bool *)data = true;
	return EXIT_OK;
}

int cmd_doctor(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_doctor_issue *issues = NULL;
	size_t n = 0, checked = 0;
	bool json = false, moved;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, json_opt, &json, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "doctor takes no arguments");
	if (stitch_switch_doctor(ctx->sw, &issues, &n, &checked, &err) != 0)
		return cmd_fail(&err);
	moved = ctx->sw->moved_from != NULL;
	if (json) {
		json_t *arr = json_array(), *o;
		char *text;
		if (moved)
			json_array_append_new(arr,
			                      json_pack("{s:s, s:s, s:s, s:s}", "package", "",
			                                "path", ctx->sw->dir, "problem", "moved",
			                                "recorded_path", ctx->sw->moved_from));
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:s}", "package", issues[i].package, "path",
			                   issues[i].path, "problem", issues[i].what));
		o = json_pack("{s:s, s:I, s:o}", "switch", ctx->sw->dir, "checked",
		              (json_int_t)checked, "problems", arr);
		text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(text);
		free(text);
		json_decref(o);
	} else {
		if (moved) {
			printf("%s: switch moved or copied from '%s'; its files still name that "
			       "path\n",
			       ctx->sw->dir, ctx->sw->moved_from);
			printf("hint: run 'stitch build' (or any command that changes the switch) "
			       "to relocate it\n");
		}
		for (size_t i = 0; i < n; i++)
			printf("%s: %s (%s)\n", issues[i].path, issues[i].what, issues[i].package);
		printf("%zu file%s checked, %zu problem%s\n", checked, checked == 1 ? "" : "s",
		       n + moved, n + moved == 1 ? "" : "s");
	}
	stitch_doctor_issues_free(issues, n);
	return n || moved ? EXIT_ERROR : EXIT_OK;
}
