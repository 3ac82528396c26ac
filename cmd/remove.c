/* stitch remove PKG... [--recursive] [--dry-run] [--json] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Whether the switch's history says `name` was removed; *by gets the command that did. */
static bool was_removed(struct stitch_ctx *ctx, const char *name, char **by)
{
	struct stitch_installed in;
	struct stitch_history h;
	bool removed;

	*by = NULL;
	if (stitch_state_get_package(ctx->sw->st, name, &in, NULL) == 0) {
		stitch_installed_release(&in);
		return false;
	}
	if (stitch_state_history_last(ctx->sw->st, name, &h, NULL) != 0)
		return false;
	removed = h.n_changes == 1 && h.changes[0].action == STITCH_CHANGE_REMOVE;
	if (removed)
		*by = h.command ? strdup(h.command) : NULL;
	stitch_history_release(&h);
	return removed;
}

/*
 * Drop, with a note, the names that are no longer installed because a remove
 * took them out: the same remove run again, after it was interrupted and
 * finished by the next command, removes what is left and succeeds.  A name
 * that was never installed stays, for stitch_op_remove to refuse (a typo is
 * an error, and nothing is removed).  Returns how many names are left.
 */
static int drop_removed(struct stitch_ctx *ctx, char **names, int n)
{
	int kept = 0;

	for (int i = 0; i < n; i++) {
		char *by;
		if (!was_removed(ctx, names[i], &by)) {
			names[kept++] = names[i];
			continue;
		}
		fprintf(stderr, "note: '%s' is not installed: '%s' removed it\n", names[i],
		        by ? by : "stitch remove");
		free(by);
	}
	return kept;
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
	struct cmd_ask ask;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops < 1) {
		free(ops);
		return cmd_usage_error(ctx, "remove needs at least one package name");
	}
	if ((n_ops = drop_removed(ctx, ops, n_ops)) == 0) {
		free(ops);
		if (!o.json)
			printf("nothing to do: nothing named is installed\n");
		return EXIT_OK;
	}
	cmd_op_init(ctx, &op, o.json, o.dry_run, 0);
	cmd_ask_init(&ask, ctx, "remove", o.json, &op);
	rc = stitch_op_remove(ctx->sw, ctx->index, (const char *const *)ops, (size_t)n_ops,
	                      o.recursive, &op.oo, &err);
	cmd_op_release(&op);
	free(ops);
	if (rc == STITCH_E_DECLINED)
		return EXIT_ERROR;
	return rc ? cmd_fail(&err) : EXIT_OK;
}
