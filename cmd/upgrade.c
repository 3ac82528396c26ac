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
	struct cmd_events ce = {0};
	struct stitch_op_opts oo = {0};
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "upgrade takes no arguments");
	if ((rc = cmd_load_pin_overlays(ctx, NULL, NULL)) != EXIT_OK)
		return rc;
	ce.json = o.json;
	ce.dry_run = o.dry_run;
	oo.source_cache = cmd_source_cache_dir(ctx);
	oo.jobs = o.jobs;
	oo.upgrade = true;
	oo.dry_run = o.dry_run;
	oo.command_line = ctx->command_line;
	oo.on_event = cmd_print_event;
	oo.data = &ce;
	oo.artifacts = o.dry_run ? NULL : cmd_artifacts(ctx);
	rc = stitch_op_install(ctx->sw, ctx->index, NULL, 0, &oo, &why, &err);
	stitch_artifacts_free(oo.artifacts);
	free((char *)oo.source_cache);
	if (rc == STITCH_E_UNSAT) {
		fprintf(stderr, "error: %s\n%s", err.msg, why.buf);
		stitch_buf_release(&why);
		return EXIT_UNSAT;
	}
	stitch_buf_release(&why);
	if (rc)
		return cmd_fail(&err);
	if (!o.json && !o.dry_run && !ce.built)
		printf("everything is up to date\n");
	return EXIT_OK;
}
