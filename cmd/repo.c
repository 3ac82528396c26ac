/* stitch repo add | list | remove | export | pack | check, each with --json */
#include <getopt.h>
#include <jansson.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "archive.h"
#include "config.h"
#include "util.h"

/* The options of every repo subcommand; each accepts the ones in its table. */
struct repo_opts {
	int priority;
	bool has_priority;
	const char *out;
	bool update, json;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct repo_opts *o = data;
	char *end;
	long v;

	if (val == 'J') {
		o->json = true;
	} else if (val == 'o') {
		o->out = arg;
	} else if (val == 'u') {
		o->update = true;
	} else if (val == 'p') {
		v = strtol(arg, &end, 10);
		if (!*arg || *end || v < INT_MIN / 2 || v > INT_MAX / 2) {
			cmd_usage_error(NULL, "--priority expects an integer, got '%s'", arg);
			return EXIT_USAGE;
		}
		o->priority = (int)v;
		o->has_priority = true;
	} else {
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * A fetched document that is no repository: drop it (and its validators)
 * from the cache, and name it by its URL, not by the mirror's path.
 */
static void forget_mirror(const char *mirror, const char *url, struct stitch_err *err)
{
	char *validators = xasprintf("%s.validators", mirror);
	size_t n = strlen(mirror);

	unlink(mirror);
	unlink(validators);
	free(validators);
	if (!strncmp(err->msg, mirror, n)) {
		char *msg = xasprintf("%s%s", url, err->msg + n);
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
		free(msg);
	}
}

static int repo_add(struct stitch_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"priority", required_argument, NULL, 'p'}, {"json", no_argument, NULL, 'J'}, {0}};
	struct repo_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	struct stitch_repo_spec spec;
	struct stitch_repo *repo;
	char **ops, *cache, *loc, *mirror;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
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
	spec = (struct stitch_repo_spec){ops[0], ops[1], o.priority, NULL};
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
	if (rc != 0 && mirror)
		forget_mirror(mirror, ops[1], &err);
	if (rc != 0) {
		free(mirror);
		stitch_config_release(&cfg);
		free(ops);
		return cmd_fail(&err);
	}
	for (const char *w = stitch_repo_next_warning(repo, NULL); w;
	     w = stitch_repo_next_warning(repo, w))
		fprintf(stderr, "warning: %s\n", w);
	loc = mirror ? xstrdup(ops[1]) : xstrdup(repo->location);
	free(mirror);
	if (stitch_config_add_repo(&cfg, ops[0], loc, o.priority, &err) != 0 ||
	    stitch_config_save(ctx->root, &cfg, &err) != 0) {
		rc = cmd_fail(&err);
	} else if (o.json) {
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "event", "repo",
		                         "action", "added", "name", ops[0], "location", loc,
		                         "priority", o.priority, "packages", (int)repo->n_pkgs));
		rc = EXIT_OK;
	} else {
		printf("added repository '%s' (%zu package%s, priority %d): %s\n", ops[0],
		       repo->n_pkgs, repo->n_pkgs == 1 ? "" : "s", o.priority, loc);
		rc = EXIT_OK;
	}
	free(loc);
	stitch_repo_free(repo);
	stitch_config_release(&cfg);
	free(ops);
	return rc;
}

/*
 * One line of repo list: {"event": "repo", "name" (null for --repo),
 * "priority", "location" (null for a bundled index not found), "from":
 * config | bundled | --repo}.
 */
static void list_line(bool json, const char *name, int priority, const char *location,
                      const char *from)
{
	if (json)
		cmd_print_json(json_pack("{s:s, s:s?, s:i, s:s?, s:s}", "event", "repo", "name",
		                         name, "priority", priority, "location", location, "from",
		                         from));
	else if (!strcmp(from, "config"))
		printf("%-16s %8d  %s\n", name, priority, location);
	else
		printf("%-16s %8d  %s (%s)\n", name ? name : "-", priority,
		       location ? location : "(not found)", from);
}

static int repo_list(struct stitch_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	struct repo_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "repo list takes no arguments");
	if (!ctx->n_repo_args && stitch_config_load(ctx->root, &cfg, &err) != 0)
		return cmd_fail(&err);
	if (!o.json)
		printf("%-16s %8s  %s\n", "NAME", "PRIORITY", "LOCATION");
	if (ctx->n_repo_args) {
		for (size_t i = 0; i < ctx->n_repo_args; i++)
			list_line(o.json, NULL, (int)(ctx->n_repo_args - i), ctx->repo_args[i],
			          "--repo");
		return EXIT_OK;
	}
	for (size_t i = 0; i < cfg.n_repos; i++) {
		const struct stitch_repo_conf *r = &cfg.repos[i];
		char *loc = r->bundled ? cmd_bundled_index() : NULL;
		list_line(o.json, r->name, r->priority, r->bundled ? loc : r->location,
		          r->bundled ? "bundled" : "config");
		free(loc);
	}
	stitch_config_release(&cfg);
	return EXIT_OK;
}

static int repo_remove(struct stitch_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	struct repo_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 1) {
		free(ops);
		return cmd_usage_error(ctx, "repo remove takes one NAME");
	}
	if (stitch_config_load(ctx->root, &cfg, &err) != 0 ||
	    stitch_config_remove_repo(&cfg, ops[0], &err) != 0 ||
	    stitch_config_save(ctx->root, &cfg, &err) != 0) {
		rc = cmd_fail(&err);
	} else if (o.json) {
		cmd_print_json(json_pack("{s:s, s:s, s:s}", "event", "repo", "action", "removed",
		                         "name", ops[0]));
	} else {
		printf("removed repository '%s'\n", ops[0]);
	}
	stitch_config_release(&cfg);
	free(ops);
	return rc;
}

static int repo_export(struct stitch_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	struct repo_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 2) {
		free(ops);
		return cmd_usage_error(ctx, "repo export takes DIR and OUT.json[.gz]");
	}
	if (stitch_repo_export(ops[0], ops[1], &err) != 0)
		rc = err.code == STITCH_E_USAGE ? (cmd_fail(&err), EXIT_USAGE) : cmd_fail(&err);
	else if (o.json)
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:s}", "event", "repo", "action",
		                         "exported", "dir", ops[0], "path", ops[1]));
	free(ops);
	return rc;
}

/*
 * stitch repo check PATH: every problem of one repository, for its
 * maintainer.  A problem that makes the whole repository unreadable (not
 * JSON, a wrong format) is the only one; otherwise each left-out package
 * or version is one.  {"event": "problem", "message"} per problem with
 * --json, then {"event": "repo", "action": "checked", "problems": N}.
 */
static int repo_check(struct stitch_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	struct repo_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_repo_spec spec = {NULL, NULL, 0, NULL};
	struct stitch_repo *repo;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 1) {
		free(ops);
		return cmd_usage_error(ctx, "repo check takes one repository PATH");
	}
	spec.location = ops[0];
	/* No compiled cache: the check reads the sources as they are now. */
	rc = stitch_repo_load(&repo, &spec, NULL, &err);
	free(ops);
	if (rc != 0)
		return cmd_fail(&err);
	for (const char *w = stitch_repo_next_warning(repo, NULL); w;
	     w = stitch_repo_next_warning(repo, w)) {
		if (o.json)
			cmd_print_json(json_pack("{s:s, s:s}", "event", "problem", "message", w));
		else
			printf("%s\n", w);
	}
	if (o.json)
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:i, s:i}", "event", "repo", "action",
		                         "checked", "location", repo->location, "packages",
		                         (int)repo->n_pkgs, "problems", (int)repo->n_warnings));
	else if (repo->n_warnings)
		fprintf(stderr, "%zu problem%s in '%s'\n", repo->n_warnings,
		        repo->n_warnings == 1 ? "" : "s", repo->location);
	else
		printf("no problems in '%s' (%zu package%s)\n", repo->location, repo->n_pkgs,
		       repo->n_pkgs == 1 ? "" : "s");
	rc = repo->n_warnings ? EXIT_ERROR : EXIT_OK;
	stitch_repo_free(repo);
	return rc;
}

/* Set packages/NAME.json's source.sha256 of VERSION, keeping the rest. */
static int update_index(const char *repo, const char *name, const char *version, const char *sha,
                        const char *archive_rel, bool json)
{
	char *path = xasprintf("%s/packages/%s.json", repo, name);
	json_error_t jerr;
	json_t *d = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *v, *src;
	int rc = EXIT_OK;

	if (!d) {
		rc = cmd_error("%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	v = json_object_get(json_object_get(d, "versions"), version);
	if (!v) {
		rc = cmd_error("%s: no version '%s' of '%s' to update", path, version, name);
		goto out;
	}
	src = json_object_get(v, "source");
	if (!json_is_object(src)) {
		src = json_object();
		json_object_set_new(v, "source", src);
	}
	json_object_set_new(src, "url", json_string(archive_rel));
	json_object_set_new(src, "sha256", json_string(sha));
	if (json_dump_file(d, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
		rc = cmd_error("cannot write '%s'", path);
		goto out;
	}
	{
		FILE *f = fopen(path, "a");
		if (f) {
			fputc('\n', f);
			fclose(f);
		}
	}
	if (json)
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "event", "index",
		                         "action", "updated", "path", path, "name", name, "version",
		                         version, "sha256", sha));
	else
		printf("updated %s\n", path);
out:
	json_decref(d);
	free(path);
	return rc;
}

/* NAME-VERSION: the version starts after the last '-' that precedes a digit. */
static bool split_top(const char *top, char **name, char **version)
{
	const char *dash = NULL;

	for (const char *p = top; *p; p++)
		if (*p == '-' && p[1] >= '0' && p[1] <= '9')
			dash = p;
	if (!dash || dash == top)
		return false;
	*name = xstrndup(top, (size_t)(dash - top));
	*version = xstrdup(dash + 1);
	return true;
}

static int repo_pack(struct stitch_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"update-index", no_argument, NULL, 'u'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {0}};
	struct repo_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	char **ops, *dir, *top, *out, *repo = NULL, *name = NULL, *version = NULL, sha[65];
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 1) {
		free(ops);
		return cmd_usage_error(ctx,
		                       "repo pack takes one source directory, named NAME-VERSION");
	}
	dir = realpath(ops[0], NULL);
	if (!dir) {
		rc = cmd_error("cannot find '%s'", ops[0]);
		free(ops);
		return rc;
	}
	free(ops);
	top = strrchr(dir, '/') + 1;
	/* A source kept in a repository: <repo>/src/NAME-VERSION -> <repo>/archives/. */
	{
		char *parent = xstrndup(dir, (size_t)(top - 1 - dir));
		char *meta;
		const char *pb = strrchr(parent, '/');
		if (pb && strcmp(pb + 1, "src") == 0) {
			repo = xstrndup(parent, (size_t)(pb - parent));
			meta = xasprintf("%s/repo.json", repo);
			if (access(meta, R_OK) != 0) {
				free(repo);
				repo = NULL;
			}
			free(meta);
		}
		free(parent);
	}
	if (o.out)
		out = xstrdup(o.out);
	else if (repo)
		out = xasprintf("%s/archives/%s.tar.gz", repo, top);
	else
		out = xasprintf("%s.tar.gz", top);
	if (repo) {
		char *archives = xasprintf("%s/archives", repo);
		stitch_mkdir_p(archives, 0755);
		free(archives);
	}
	if (stitch_archive_pack(dir, top, epoch ? strtoll(epoch, NULL, 10) : 0, out, sha, &err) !=
	    0) {
		rc = cmd_fail(&err);
		goto done;
	}
	if (o.json)
		cmd_print_json(
		    json_pack("{s:s, s:s, s:s}", "event", "pack", "path", out, "sha256", sha));
	else
		printf("%s  %s\n", sha, out);
	if (o.update) {
		char *rel;
		if (!repo || !split_top(top, &name, &version)) {
			rc = cmd_error("--update-index needs a source at <repo>/src/NAME-VERSION");
			goto done;
		}
		rel = xasprintf("archives/%s.tar.gz", top);
		rc = update_index(repo, name, version, sha, rel, o.json);
		free(rel);
	}
done:
	free(name);
	free(version);
	free(repo);
	free(out);
	free(dir);
	return rc;
}

int cmd_repo(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct {
		const char *name;
		int (*fn)(struct stitch_ctx *, int, char **);
	} subs[] = {
	    {"add", repo_add},   {"check", repo_check}, {"export", repo_export},
	    {"list", repo_list}, {"pack", repo_pack},   {"remove", repo_remove},
	};

	if (argc < 2)
		return cmd_usage_error(
		    ctx, "repo needs a subcommand: add, list, remove, export, pack or check");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(ctx, argc - 1, argv + 1);
	return cmd_usage_error(ctx, "unknown repo subcommand '%s'", argv[1]);
}
