/* stitch repo add | list | remove | export */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "util.h"

struct add_opts {
	int priority;
	bool has_priority;
};

static int add_opt(int val, const char *arg, void *data)
{
	struct add_opts *o = data;
	char *end;
	long v;

	if (val != 'p')
		return EXIT_USAGE;
	v = strtol(arg, &end, 10);
	if (!*arg || *end || v < INT_MIN / 2 || v > INT_MAX / 2) {
		cmd_usage_error(NULL, "--priority expects an integer, got '%s'", arg);
		return EXIT_USAGE;
	}
	o->priority = (int)v;
	o->has_priority = true;
	return EXIT_OK;
}

static int no_opt(int val, const char *arg, void *data)
{
	(void)val, (void)arg, (void)data;
	return EXIT_USAGE;
}

static int repo_add(struct stitch_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "priority", required_argument, NULL, 'p' }, { 0 } };
	struct add_opts o = { 0, false };
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	struct stitch_repo_spec spec;
	struct stitch_repo *repo;
	char **ops, *cache, *loc, *mirror;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, add_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 2) {
		free(ops);
		return cmd_usage_error(ctx, "repo add takes NAME and PATH");
	}
	if (stitch_config_load(ctx->root, &cfg, &err) != 0) {
		free(ops);
		return cmd_fail(&err);
	}
	if (!o.has_priority) {
		/* A new repository goes on top, as an overlay does. */
		o.priority = cfg.n_repos ? cfg.repos[0].priority + 10 : 10;
	}
	/* Read it once: a repository that cannot be read is not added. */
	spec = (struct stitch_repo_spec){ ops[0], ops[1], o.priority, NULL };
	mirror = NULL;
	if (cmd_is_remote(ops[1])) {
		bool changed;
		rc = cmd_fetch_mirror(ctx, ops[1], &changed, &err);
		if (rc != 0) {
			stitch_config_release(&cfg);
			free(ops);
			return cmd_fail(&err);
		}
		mirror = cmd_mirror_path(ctx, ops[1]);
		spec.location = mirror;
	}
	cache = cmd_index_cache_dir(ctx);
	rc = stitch_repo_load(&repo, &spec, cache, &err);
	free(cache);
	if (rc != 0) {
		stitch_config_release(&cfg);
		free(ops);
		return cmd_fail(&err);
	}
	loc = mirror ? xstrdup(ops[1]) : xstrdup(repo->location);
	free(mirror);
	if (stitch_config_add_repo(&cfg, ops[0], loc, o.priority, &err) != 0 ||
	    stitch_config_save(ctx->root, &cfg, &err) != 0) {
		rc = cmd_fail(&err);
	} else {
		printf("added repository '%s' (%zu package%s, priority %d): %s\n", ops[0], repo->n_pkgs,
		       repo->n_pkgs == 1 ? "" : "s", o.priority, loc);
		rc = EXIT_OK;
	}
	free(loc);
	stitch_repo_free(repo);
	stitch_config_release(&cfg);
	free(ops);
	return rc;
}

static int repo_list(struct stitch_ctx *ctx, int argc, char **argv)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, NULL, no_opt, NULL, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "repo list takes no arguments");
	if (ctx->n_repo_args) {
		printf("%-16s %8s  %s\n", "NAME", "PRIORITY", "LOCATION");
		for (size_t i = 0; i < ctx->n_repo_args; i++)
			printf("%-16s %8zu  %s (--repo)\n", "-", ctx->n_repo_args - i, ctx->repo_args[i]);
		return EXIT_OK;
	}
	if (stitch_config_load(ctx->root, &cfg, &err) != 0)
		return cmd_fail(&err);
	printf("%-16s %8s  %s\n", "NAME", "PRIORITY", "LOCATION");
	for (size_t i = 0; i < cfg.n_repos; i++) {
		const struct stitch_repo_conf *r = &cfg.repos[i];
		char *loc = r->bundled ? cmd_bundled_index() : NULL;
		printf("%-16s %8d  %s%s\n", r->name, r->priority,
		       r->bundled ? (loc ? loc : "(not found)") : r->location,
		       r->bundled ? " (bundled)" : "");
		free(loc);
	}
	stitch_config_release(&cfg);
	return EXIT_OK;
}

static int repo_remove(struct stitch_ctx *ctx, int argc, char **argv)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, NULL, no_opt, NULL, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 1) {
		free(ops);
		return cmd_usage_error(ctx, "repo remove takes one NAME");
	}
	if (stitch_config_load(ctx->root, &cfg, &err) != 0 ||
	    stitch_config_remove_repo(&cfg, ops[0], &err) != 0 ||
	    stitch_config_save(ctx->root, &cfg, &err) != 0) {
		rc = cmd_fail(&err);
	} else {
		printf("removed repository '%s'\n", ops[0]);
	}
	stitch_config_release(&cfg);
	free(ops);
	return rc;
}

static int repo_export(struct stitch_ctx *ctx, int argc, char **argv)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, NULL, no_opt, NULL, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 2) {
		free(ops);
		return cmd_usage_error(ctx, "repo export takes DIR and OUT.json[.gz]");
	}
	if (stitch_repo_export(ops[0], ops[1], &err) != 0)
		rc = err.code == STITCH_E_USAGE ? (cmd_fail(&err), EXIT_USAGE) : cmd_fail(&err);
	free(ops);
	return rc;
}

int cmd_repo(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct {
		const char *name;
		int (*fn)(struct stitch_ctx *, int, char **);
	} subs[] = {
		{ "add", repo_add },
		{ "export", repo_export },
		{ "list", repo_list },
		{ "remove", repo_remove },
	};

	if (argc < 2)
		return cmd_usage_error(ctx, "repo needs a subcommand: add, list, remove or export");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(ctx, argc - 1, argv + 1);
	return cmd_usage_error(ctx, "unknown repo subcommand '%s'", argv[1]);
}
