/* stitch update: refresh the mirrors of remote repositories. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "config.h"

static int no_opt(int val, const char *arg, void *data)
{
	(void)val, (void)arg, (void)data;
	return EXIT_USAGE;
}

int cmd_update(int argc, char **argv, struct stitch_ctx *ctx)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	char **ops;
	int n_ops, rc, failed = 0, remote = 0;

	if ((rc = cmd_parse_opts(ctx, argc, argv, NULL, no_opt, NULL, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "update takes no arguments");
	if (stitch_config_load(ctx->root, &cfg, &err) != 0)
		return cmd_fail(&err);
	for (size_t i = 0; i < cfg.n_repos; i++) {
		const struct stitch_repo_conf *r = &cfg.repos[i];
		bool changed = false;
		if (r->bundled || !cmd_is_remote(r->location))
			continue;
		remote++;
		if (cmd_fetch_mirror(ctx, r->location, &changed, &err) != 0) {
			cmd_fail(&err);
			failed++;
			continue;
		}
		printf("%s: %s\n", r->name, changed ? "updated" : "unchanged");
	}
	if (!remote)
		printf("no remote repository to update\n");
	stitch_config_release(&cfg);
	return failed ? EXIT_ERROR : EXIT_OK;
}
