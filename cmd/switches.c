/*
 * stitch switch list [--json], stitch switch remove DIR [--json]: the
 * switches this root knows (src/registry.h).
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "registry.h"
#include "state.h"
#include "util.h"

static int json_opt(int val, const char *arg, void *data)
{
	(void)arg;
	if (val != 'J')
		return EXIT_USAGE;
	*(bool *)data = true;
	return EXIT_OK;
}

/* How many packages the switch at dir holds, or -1 when it cannot be read now. */
static long count_packages(const char *dir)
{
	struct stitch_state *st;
	struct stitch_installed *pk = NULL;
	size_t n = 0;
	long count = -1;

	if (stitch_state_open(&st, dir, STITCH_STATE_READONLY | STITCH_STATE_NOWAIT, NULL) != 0)
		return -1;
	if (stitch_state_list_packages(st, &pk, &n, NULL) == 0)
		count = (long)n;
	stitch_installed_free(pk, n);
	stitch_state_close(st);
	return count;
}

static int switch_list(struct stitch_ctx *ctx, bool json)
{
	struct stitch_err err = STITCH_ERR_INIT;
	json_t *arr = json_array();
	char **dirs = NULL;
	size_t n = 0;

	if (stitch_registry_list(ctx->root, &dirs, &n, &err) != 0) {
		json_decref(arr);
		return cmd_fail(&err);
	}
	for (size_t i = 0; i < n; i++) {
		bool exists = stitch_registry_is_switch(dirs[i]);
		long count = exists ? count_packages(dirs[i]) : -1;
		if (json)
			json_array_append_new(
			    arr,
			    json_pack("{s:s, s:b, s:o}", "switch", dirs[i], "exists", exists,
			              "packages", count >= 0 ? json_integer(count) : json_null()));
		else if (!exists)
			printf("%-48s (gone)\n", dirs[i]);
		else if (count < 0)
			printf("%-48s (in use)\n", dirs[i]);
		else
			printf("%-48s %ld package%s\n", dirs[i], count, count == 1 ? "" : "s");
	}
	if (json) {
		char *text = json_dumps(arr, JSON_INDENT(2));
		puts(text);
		free(text);
	} else if (!n) {
		fprintf(stderr, "no switch known to the root '%s'\n", ctx->root);
	}
	json_decref(arr);
	stitch_strings_free(dirs, n);
	return EXIT_OK;
}

/* dir as the record holds it: canonical, or its parent's canonical form and its name. */
static char *canonical(const char *dir)
{
	char *real = realpath(dir, NULL), *copy, *slash, *parent;
	char cwd[PATH_MAX];

	if (real)
		return real;
	copy = xstrdup(dir);
	while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
		copy[strlen(copy) - 1] = '\0';
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		parent = realpath(*copy ? copy : "/", NULL);
		real = parent ? xasprintf("%s/%s", parent, slash + 1) : NULL;
		free(parent);
	} else if (getcwd(cwd, sizeof(cwd))) {
		real = xasprintf("%s/%s", cwd, copy);
	}
	free(copy);
	return real ? real : xstrdup(dir);
}

static int switch_remove(struct stitch_ctx *ctx, const char *arg, bool json)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *dir = canonical(arg);
	bool was_gone;
	int rc = stitch_registry_remove_switch(ctx->root, dir, &was_gone, &err);

	if (rc != 0) {
		rc = cmd_fail(&err);
		if (err.code == STITCH_E_NOTFOUND && strstr(err.msg, "not one this root knows"))
			fprintf(stderr, "hint: 'stitch switch list' shows the switches of '%s'\n",
			        ctx->root);
		free(dir);
		return rc;
	}
	if (json)
		cmd_print_json(json_pack("{s:s, s:s, s:s}", "event", "switch", "switch", dir,
		                         "action", was_gone ? "forgotten" : "removed"));
	else if (was_gone)
		printf("forgot the switch %s (it was already gone)\n", dir);
	else
		printf("removed the switch %s\n", dir);
	free(dir);
	return EXIT_OK;
}

int cmd_switch(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	bool json = false;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, json_opt, &json, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops == 1 && strcmp(ops[0], "list") == 0)
		rc = switch_list(ctx, json);
	else if (n_ops == 2 && strcmp(ops[0], "remove") == 0)
		rc = switch_remove(ctx, ops[1], json);
	else
		rc = cmd_usage_error(ctx, "usage: stitch switch list | stitch switch remove DIR");
	free(ops);
	return rc;
}
