/* stitch list [--installed|--pinned] [--json] */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "state.h"

struct list_opts {
	bool pinned, json;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct list_opts *o = data;

	(void)arg;
	if (val == 'p')
		o->pinned = true;
	else if (val == 'J')
		o->json = true;
	else if (val != 'i')
		return EXIT_USAGE;
	return EXIT_OK;
}

static int list_pins(struct stitch_ctx *ctx, bool json)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_pin *pins = NULL;
	size_t n = 0;
	json_t *arr = json_array();

	if (stitch_state_pin_list(ctx->sw->st, &pins, &n, &err) != 0) {
		json_decref(arr);
		return cmd_fail(&err);
	}
	for (size_t i = 0; i < n; i++) {
		if (json)
			json_array_append_new(
			    arr, json_pack("{s:s, s:s?, s:s}", "name", pins[i].name, "version",
			                   pins[i].version, "path", pins[i].path));
		else
			printf("%-24s %-12s %s\n", pins[i].name,
			       pins[i].version ? pins[i].version : "-", pins[i].path);
	}
	if (json) {
		char *text = json_dumps(arr, JSON_INDENT(2));
		puts(text);
		free(text);
	}
	json_decref(arr);
	stitch_pins_free(pins, n);
	return EXIT_OK;
}

int cmd_list(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"installed", no_argument, NULL, 'i'},
	                                     {"pinned", no_argument, NULL, 'p'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {0}};
	struct list_opts o = {false, false};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_installed *pk = NULL;
	size_t n = 0;
	json_t *arr;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "list takes no arguments");
	if (o.pinned)
		return list_pins(ctx, o.json);
	if (stitch_state_list_packages(ctx->sw->st, &pk, &n, &err) != 0)
		return cmd_fail(&err);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (o.json) {
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:s?, s:b, s:b}", "name", pk[i].name,
			                   "version", pk[i].version, "repository", pk[i].repo,
			                   "pinned", pk[i].pinned, "requested", pk[i].requested));
		} else {
			printf("%-24s %-12s %s%s\n", pk[i].name, pk[i].version,
			       pk[i].requested ? "" : "(dependency)",
			       pk[i].pinned ? " (pinned)" : "");
		}
	}
	if (o.json) {
		char *text = json_dumps(arr, JSON_INDENT(2));
		puts(text);
		free(text);
	} else if (!n) {
		fprintf(stderr, "no package installed in '%s'\n", ctx->sw->dir);
	}
	json_decref(arr);
	stitch_installed_free(pk, n);
	return EXIT_OK;
}
