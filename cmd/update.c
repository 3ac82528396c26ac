/* stitch update [--json]: refresh the mirrors of remote repositories. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "config.h"

static int on_opt(int val, const char *arg, void *data)
{
	bool *json = data;

	(void)arg;
	if (val != 'J')
		return EXIT_USAGE;
	*json = true;
	return EXIT_OK;
}

/* {"event": "update", "name", "url", "changed"}, plus "error" when the fetch failed. */
static void print_update(const struct stitch_repo_conf *r, bool changed,
                         const struct stitch_err *err)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "event", "update", "name", r->name, "url",
	                      r->location, "changed", changed);

	if (err)
		json_object_set_new(
		    o, "error", json_string(err->msg[0] ? err->msg : stitch_strerror(err->code)));
	cmd_print_json(o);
}

int cmd_update(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	bool json = false;
	char **ops;
	int n_ops, rc, failed = 0, remote = 0;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &json, &ops, &n_ops)) != EXIT_OK)
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
			if (json)
				print_update(r, false, &err);
			cmd_fail(&err);
			failed++;
			continue;
		}
		if (json)
			print_update(r, changed, NULL);
		else
			printf("%s: %s\n", r->name, changed ? "updated" : "unchanged");
	}
	if (!remote && !json)
		printf("no remote repository to update\n");
	stitch_config_release(&cfg);
	return failed ? EXIT_ERROR : EXIT_OK;
}
