/* stitch remove PKG... [--recursive] [--dry-run] [--json] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "op.h"

struct remove_opts {
	bool recursive, dry_run, json;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct remove_opts *o = data;

	(void)arg;
	if (val == 'r')
		o->recursive = true;
	else if (val == 'n')
		o->dry_run = true;
	else if (val == 'J')
		o->json = true;
	else
		return EXIT_USAGE;
	return EXIT_OK;
}

int cmd_remove(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"recursive", no_argument, NULL, 'r'},
	                                     {"dry-run", no_argument, NULL, 'n'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {0}};
	struct remove_opts o = {false, false, false};
	struct stitch_err err = STITCH_ERR_INIT;
	struct cmd_op op;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops < 1) {
		free(ops);
		return cmd_usage_error(ctx, "remove needs at least one package name");
	}
	cmd_op_init(ctx, &op, o.json, o.dry_run, 0);
	rc = stitch_op_remove(ctx->sw, ctx->index, (const char *const *)ops, (size_t)n_ops,
	                      o.recursive, &op.oo, &err);
	cmd_op_release(&op);
	free(ops);
	return rc ? cmd_fail(&err) : EXIT_OK;
}
