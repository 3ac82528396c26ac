/* stitch init [--switch DIR] [--json] */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>

#include "cmd.h"
#include "registry.h"
#include "switch.h"
#include "util.h"

static int on_opt(int val, const char *arg, void *data)
{
	bool *json = data;

	(void)arg;
	if (val != 'J')
		return EXIT_USAGE;
	*json = true;
	return EXIT_OK;
}

int cmd_init(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	struct stitch_err err = STITCH_ERR_INIT;
	bool json = false;
	char **ops, *dir;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &json, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(
		    ctx, "init takes no arguments (use --switch DIR for a local switch)");
	/* Not the discovered switch: init makes the named or the default one. */
	dir = ctx->switch_arg ? xstrdup(ctx->switch_arg)
	                      : xasprintf("%s/switches/default", ctx->root);
	rc = stitch_switch_init(dir, &err);
	if (rc != 0 && rc != STITCH_E_EXISTS) {
		free(dir);
		return cmd_fail(&err);
	}
	{
		char *real = realpath(dir, NULL);
		if (real)
			stitch_registry_add(ctx->root, real, NULL);
		free(real);
	}
	if (json)
		cmd_print_json(json_pack("{s:s, s:s, s:s}", "event", "init", "switch", dir,
		                         "action", rc == STITCH_E_EXISTS ? "exists" : "created"));
	else if (rc == STITCH_E_EXISTS)
		printf("switch already initialized: %s\n", dir);
	else
		printf("initialized switch: %s\n", dir);
	free(dir);
	return EXIT_OK;
}
