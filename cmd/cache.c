/*
 * stitch cache status | remote [URL | --off] [--read-only] |
 * clean [--unused-days N], each
 * with --json: the artifact cache of the root and the shared remote one.
 */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "artifact.h"
#include "cmd.h"
#include "config.h"
#include "util.h"

struct cache_opts {
	bool off, read_only, json;
	long unused_days; /* clean --unused-days N; -1: everything */
};

static int on_opt(int val, const char *arg, void *data)
{
	struct cache_opts *o = data;

	if (val == 'u') {
		char *end;
		long v = strtol(arg, &end, 10);
		if (*end || v < 0 || v > 100000) {
			cmd_usage_error(NULL, "--unused-days expects a number of days, got '%s'",
			                arg);
			return EXIT_USAGE;
		}
		o->unused_days = v;
		return EXIT_OK;
	}
	if (val == 'o')
		o->off = true;
	else if (val == 'r')
		o->read_only = true;
	else if (val == 'J')
		o->json = true;
	else
		return EXIT_USAGE;
	return EXIT_OK;
}

static void count_dir(const char *dir, size_t *n_art, long long *bytes)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*n_art = 0;
	*bytes = 0;
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		size_t len = strlen(de->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			*bytes += st.st_size;
			*n_art += len > 5 && strcmp(de->d_name + len - 5, ".json") == 0;
		}
		free(p);
	}
	closedir(d);
}

static void cache_status(const struct cache_opts *o, const struct stitch_config *cfg,
                         const char *dir)
{
	size_t n_art;
	long long bytes;

	count_dir(dir, &n_art, &bytes);
	if (o->json) {
		cmd_print_json(
		    json_pack("{s:s, s:s, s:i, s:I, s:o, s:b}", "event", "cache", "dir", dir,
		              "artifacts", (int)n_art, "bytes", (json_int_t)bytes, "remote",
		              cfg->cache_remote ? json_string(cfg->cache_remote) : json_null(),
		              "push", cfg->cache_push));
		return;
	}
	printf("local:  %s (%zu artifact%s, %.1f MB)\n", dir, n_art, n_art == 1 ? "" : "s",
	       (double)bytes / 1e6);
	if (cfg->cache_remote)
		printf("remote: %s (%s)\n", cfg->cache_remote,
		       cfg->cache_push ? "read and write" : "read only");
	else
		printf("remote: none (stitch cache remote URL adds one)\n");
}

/* Set the remote cache to url (unused with --off) in the root's config. */
static int cache_remote(struct stitch_ctx *ctx, const struct cache_opts *o,
                        struct stitch_config *cfg, const char *url, struct stitch_err *err)
{
	free(cfg->cache_remote);
	cfg->cache_remote = NULL;
	if (!o->off) {
		if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
			return cmd_usage_error(ctx,
			                       "the remote cache is an http:// or https:// URL, "
			                       "not '%s'",
			                       url);
		cfg->cache_remote = xstrdup(url);
		cfg->cache_push = !o->read_only;
	}
	if (stitch_config_save(ctx->root, cfg, err) != 0)
		return cmd_fail(err);
	if (o->json)
		cmd_print_json(json_pack("{s:s, s:s, s:o, s:b}", "event", "cache", "action",
		                         o->off ? "remote-off" : "remote-set", "remote",
		                         o->off ? json_null() : json_string(cfg->cache_remote),
		                         "push", !o->off && cfg->cache_push));
	else if (o->off)
		printf("remote artifact cache: off\n");
	else
		printf("remote artifact cache: %s (%s)\n", cfg->cache_remote,
		       cfg->cache_push ? "read and write" : "read only");
	return EXIT_OK;
}

/* clean --unused-days N: remove only the artifacts unused for N days. */
static int cache_prune(const struct cache_opts *o, const char *dir, struct stitch_err *err)
{
	struct stitch_artifacts_opts ao = {dir, NULL, false};
	struct stitch_artifacts *a = stitch_artifacts_new(&ao);
	size_t n_art;
	long long bytes;
	int rc = stitch_artifacts_prune(a, o->unused_days * 86400LL, &n_art, &bytes, err);

	stitch_artifacts_free(a);
	if (rc)
		return cmd_fail(err);
	if (o->json)
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:i, s:I, s:i}", "event", "cache",
		                         "action", "pruned", "dir", dir, "artifacts", (int)n_art,
		                         "bytes", (json_int_t)bytes, "unused_days",
		                         (int)o->unused_days));
	else
		printf("removed %zu artifact%s unused for %ld day%s (%.1f MB) from %s\n", n_art,
		       n_art == 1 ? "" : "s", o->unused_days, o->unused_days == 1 ? "" : "s",
		       (double)bytes / 1e6, dir);
	return EXIT_OK;
}

static int cache_clean(const struct cache_opts *o, const char *dir)
{
	size_t n_art;
	long long bytes;

	count_dir(dir, &n_art, &bytes);
	if (stitch_rm_rf(dir) != 0)
		return cmd_error("cannot remove '%s'", dir);
	if (o->json)
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:i, s:I}", "event", "cache", "action",
		                         "cleaned", "dir", dir, "artifacts", (int)n_art, "bytes",
		                         (json_int_t)bytes));
	else
		printf("removed %zu artifact%s (%.1f MB) from %s\n", n_art, n_art == 1 ? "" : "s",
		       (double)bytes / 1e6, dir);
	return EXIT_OK;
}

int cmd_cache(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"off", no_argument, NULL, 'o'},
	                                     {"read-only", no_argument, NULL, 'r'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {"unused-days", required_argument, NULL, 'u'},
	                                     {0}};
	struct cache_opts o = {false, false, false, -1};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_config cfg;
	char **ops, *dir = xasprintf("%s/cache/artifacts", ctx->root);
	const char *sub;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK) {
		free(dir);
		return rc;
	}
	sub = n_ops ? ops[0] : "status";
	if (stitch_config_load(ctx->root, &cfg, &err) != 0) {
		free(ops);
		free(dir);
		return cmd_fail(&err);
	}
	if (!strcmp(sub, "status") && n_ops <= 1)
		cache_status(&o, &cfg, dir);
	else if (!strcmp(sub, "remote") && (n_ops == 2 || (n_ops == 1 && o.off)))
		rc = cache_remote(ctx, &o, &cfg, n_ops == 2 ? ops[1] : NULL, &err);
	else if (!strcmp(sub, "clean") && n_ops == 1 && o.unused_days >= 0)
		rc = cache_prune(&o, dir, &err);
	else if (!strcmp(sub, "clean") && n_ops == 1)
		rc = cache_clean(&o, dir);
	else
		rc =
		    cmd_usage_error(ctx, "expected: cache status | cache remote URL | cache remote "
		                         "--off | cache clean");
	stitch_config_release(&cfg);
	free(ops);
	free(dir);
	return rc;
}
