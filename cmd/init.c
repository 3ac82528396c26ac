/* stitch init [--switch DIR] */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "switch.h"
#include "util.h"

static int no_opt(int val, const char *arg, void *data)
{
	(void)val, (void)arg, (void)data;
	return EXIT_USAGE;
}

int cmd_init(int argc, char **argv, struct stitch_ctx *ctx)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char **ops, *dir;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, NULL, no_opt, NULL, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(
		    ctx, "init takes no arguments (use --switch DIR for a local switch)");
	/* Not the discovered switch: init makes the named or the default one. */
	dir = ctx->switch_arg ? xstrdup(ctx->switch_arg)
	                      : xasprintf("%s/switches/default", ctx->root);
	rc = stitch_switch_init(dir, &err);
	if (rc == STITCH_E_EXISTS) {
		printf("switch already initialized: %s\n", dir);
		rc = EXIT_OK;
	} else if (rc != 0) {
		rc = cmd_fail(&err);
	} else {
		printf("initialized switch: %s\n", dir);
	}
	free(dir);
	return rc;
}
