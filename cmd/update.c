/*
 * stitch update [--json]: refresh the mirrors of remote repositories, one
 * line (or one "update" event) for each: updated, unchanged or failed, and
 * how many packages the copy now in use lists.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* What became of one repository. */
enum update_result { UPDATE_UPDATED, UPDATE_UNCHANGED, UPDATE_FAILED };

static const char *const result_word[] = {
    [UPDATE_UPDATED] = "updated",
    [UPDATE_UNCHANGED] = "unchanged",
    [UPDATE_FAILED] = "failed",
};

/*
 * Load the mirror of r as every other command will read it, into *n_pkgs.
 * A fetched document that breaks the index format fails here, naming
 * where, rather than in the next command.
 */
static int count_packages(const struct stitch_ctx *ctx, const struct stitch_repo_conf *r,
                          size_t *n_pkgs, struct stitch_err *err)
{
	char *mirror = cmd_mirror_path(ctx, r->location), *cache = cmd_index_cache_dir(ctx);
	const char *slash = strrchr(r->location, '/');
	char *origin = xstrndup(r->location, (size_t)(slash - r->location));
	struct stitch_repo_spec spec = {r->name, mirror, r->priority, origin};
	struct stitch_repo *repo = NULL;
	int rc = stitch_repo_load(&repo, &spec, cache, err);

	if (rc == 0)
		*n_pkgs = repo->n_pkgs;
	else
		stitch_error_wrap(err, "cannot read repository '%s'", r->name);
	stitch_repo_free(repo);
	free(origin);
	free(cache);
	free(mirror);
	return rc;
}

/*
 * {"event": "update", "name", "url", "result", "changed", "packages"}, plus
 * "error" when it failed; packages is null when no copy is usable.
 */
static void print_json(const struct stitch_repo_conf *r, enum update_result res, bool have_count,
                       size_t n_pkgs, const struct stitch_err *err)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "event", "update", "name", r->name, "url",
	              r->location, "result", result_word[res], "changed", res == UPDATE_UPDATED,
	              "packages", have_count ? json_integer((json_int_t)n_pkgs) : json_null());

	if (res == UPDATE_FAILED)
		json_object_set_new(
		    o, "error", json_string(err->msg[0] ? err->msg : stitch_strerror(err->code)));
	cmd_print_json(o);
}

static void print_text(const struct stitch_repo_conf *r, enum update_result res, bool have_count,
                       size_t n_pkgs)
{
	printf("%s: %s", r->name, result_word[res]);
	if (have_count)
		printf(res == UPDATE_FAILED ? " (the copy in use lists %zu package%s)"
		                            : " (%zu package%s)",
		       n_pkgs, n_pkgs == 1 ? "" : "s");
	putchar('\n');
}

/* Fetch one remote repository and report it; returns 1 when it failed, else 0. */
static int update_one(const struct stitch_ctx *ctx, const struct stitch_repo_conf *r, bool json)
{
	struct stitch_err err = STITCH_ERR_INIT, count_err = STITCH_ERR_INIT;
	enum update_result res = UPDATE_UNCHANGED;
	bool changed = false, have_count = false;
	size_t n_pkgs = 0;
	char *mirror;

	if (cmd_fetch_mirror(ctx, r->location, &changed, &err) != 0) {
		res = UPDATE_FAILED;
		/* The previous copy, if any, stays in use: say what it holds. */
		mirror = cmd_mirror_path(ctx, r->location);
		have_count =
		    access(mirror, R_OK) == 0 && count_packages(ctx, r, &n_pkgs, &count_err) == 0;
		free(mirror);
	} else if (count_packages(ctx, r, &n_pkgs, &err) != 0) {
		res = UPDATE_FAILED;
	} else {
		res = changed ? UPDATE_UPDATED : UPDATE_UNCHANGED;
		have_count = true;
	}
	if (res == UPDATE_FAILED)
		cmd_fail(&err);
	if (json)
		print_json(r, res, have_count, n_pkgs, &err);
	else
		print_text(r, res, have_count, n_pkgs);
	return res == UPDATE_FAILED;
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
		if (r->bundled || !cmd_is_remote(r->location))
			continue;
		remote++;
		failed += update_one(ctx, r, json);
	}
	if (!remote && !json)
		printf("no remote repository to update\n");
	stitch_config_release(&cfg);
	return failed ? EXIT_ERROR : EXIT_OK;
}
