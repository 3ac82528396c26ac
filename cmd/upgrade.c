/* stitch upgrade [--dry-run] [--json] [-j N] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "artifact.h"
#include "cmd.h"
#include "op.h"

struct upgrade_opts {
	bool dry_run, json;
	int jobs;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct upgrade_opts *o = data;
	char *end;

	if (val == 'n')
		o->dry_run = true;
	else if (val == 'J')
		o->json = true;
	else if (val == 'j') {
		o->jobs = (int)strtol(arg, &end, 10);
		if (*end || o->jobs < 1) {
			cmd_usage_error(NULL, "-j expects a positive number, got '%s'", arg);
			return EXIT_USAGE;
		}
	} else
		return EXIT_USAGE;
	return EXIT_OK;
}

int cmd_upgrade(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {"jobs", required_argument, NULL, 'j'},
	                                     {0}};
	struct upgrade_opts o = {false, false, 0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct cmd_op op;
	struct cmd_ask ask;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "upgrade takes no arguments");
	if ((rc = cmd_load_pin_overlays(ctx, NULL, NULL)) != EXIT_OK)
		return rc;
	cmd_op_init(ctx, &op, o.json, o.dry_run, o.jobs);
	op.oo.upgrade = true;
	cmd_ask_init(&ask, ctx, "upgrade", o.json, &op);
	rc = stitch_op_install(ctx->sw, ctx->index, NULL, 0, &op.oo, &why, &err);
	if (rc == STITCH_E_DECLINED)
		rc = EXIT_ERROR;
	else if (rc)
		rc = cmd_fail_solve_json(ctx, o.json, &err, &why);
	else if (!o.json && !o.dry_run && !op.ce.built && !op.ce.cached)
		printf("everything is up to date\n");
	cmd_op_release(&op);
	stitch_buf_release(&why);
	return rc;
}
