/* Set-up shared by commands: which repositories are in use, and where. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact.h"
#include "cmd.h"
#include "config.h"
#include "fetch.h"
#include "state.h"
#include <jansson.h>
#include "progress.h"
#include "project.h"
#include "registry.h"
#include "util.h"

#ifndef STITCH_DATADIR
#define STITCH_DATADIR "/usr/local/share/stitch"
#endif

/* If dir holds a repository, its canonical path (and dir is freed). */
static char *repo_at(char *dir)
{
	char *p = xasprintf("%s/repo.json", dir);
	char *real = access(p, R_OK) == 0 ? realpath(dir, NULL) : NULL;

	free(p);
	free(dir);
	return real;
}

char *cmd_bundled_index(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *cand;

	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		/* Running from the source tree, then from an installed prefix. */
		if ((cand = repo_at(xasprintf("%s/repo-index", exe))) != NULL)
			return cand;
		if ((cand = repo_at(xasprintf("%s/../share/stitch/repo-index", exe))) != NULL)
			return cand;
	}
	return repo_at(xasprintf("%s/repo-index", STITCH_DATADIR));
}

char *cmd_index_cache_dir(const struct stitch_ctx *ctx)
{
	return xasprintf("%s/cache/index", ctx->root);
}

bool cmd_is_remote(const char *location)
{
	return strncmp(location, "http://", 7) == 0 || strncmp(location, "https://", 8) == 0;
}

char *cmd_mirror_path(const struct stitch_ctx *ctx, const char *url)
{
	char hex[65];

	stitch_sha256_hex(url, strlen(url), hex);
	hex[32] = '\0';
	return xasprintf("%s/cache/repos/%s.doc", ctx->root, hex);
}

int cmd_fetch_mirror(const struct stitch_ctx *ctx, const char *url, bool *changed,
                     struct stitch_err *err)
{
	char *mirror = cmd_mirror_path(ctx, url);
	char *dir = xasprintf("%s/cache/repos", ctx->root);
	int rc;

	stitch_mkdir_p(dir, 0755);
	rc = stitch_fetch_document(url, mirror, NULL, changed, err);
	free(dir);
	free(mirror);
	return rc;
}

/*
 * A remote repository is read from its local mirror, fetched when missing
 * (or, with refresh, asked for again: one conditional request when it did
 * not change).  Relative source URLs resolve against the URL's directory.
 */
static int remote_spec(const struct stitch_ctx *ctx, struct stitch_repo_spec *sp, bool refresh,
                       struct stitch_err *err)
{
	char *url = (char *)sp->location, *mirror = cmd_mirror_path(ctx, url);
	const char *slash = strrchr(url, '/');
	bool changed;
	int rc = 0;

	if (refresh || access(mirror, R_OK) != 0)
		rc = cmd_fetch_mirror(ctx, url, &changed, err);
	if (rc) {
		stitch_error_wrap(err, "cannot read repository '%s'", sp->name ? sp->name : url);
		free(mirror);
		return rc;
	}
	sp->origin = xstrndup(url, (size_t)(slash - url));
	sp->location = mirror;
	free(url);
	return 0;
}

int cmd_repo_specs(struct stitch_ctx *ctx, struct stitch_repo_spec **specs, size_t *n,
                   struct stitch_err *err)
{
	struct stitch_config cfg;
	int rc;

	*specs = NULL;
	*n = 0;
	if (ctx->n_repo_args) {
		*specs = xcalloc(ctx->n_repo_args, sizeof(**specs));
		for (size_t i = 0; i < ctx->n_repo_args; i++) {
			(*specs)[i].name = NULL;
			(*specs)[i].location = xstrdup(ctx->repo_args[i]);
			(*specs)[i].priority = (int)(ctx->n_repo_args - i);
			*n = i + 1;
			if (cmd_is_remote((*specs)[i].location) &&
			    remote_spec(ctx, &(*specs)[i], true, err)) {
				cmd_repo_specs_free(*specs, *n);
				*specs = NULL;
				*n = 0;
				return err->code;
			}
		}
		return 0;
	}
	if ((rc = stitch_config_load(ctx->root, &cfg, err)) != 0)
		return rc;
	*specs = xcalloc(cfg.n_repos + 1, sizeof(**specs));
	for (size_t i = 0; i < cfg.n_repos; i++) {
		const struct stitch_repo_conf *r = &cfg.repos[i];
		char *loc = r->bundled ? cmd_bundled_index() : xstrdup(r->location);
		if (!loc) {
			cmd_repo_specs_free(*specs, *n);
			*specs = NULL;
			*n = 0;
			stitch_config_release(&cfg);
			return stitch_error(err, STITCH_E_NOTFOUND,
			                    "cannot find the bundled repository (looked beside the "
			                    "stitch binary and in %s/repo-index)",
			                    STITCH_DATADIR);
		}
		(*specs)[*n].name = xstrdup(r->name);
		(*specs)[*n].location = loc;
		(*specs)[*n].priority = r->priority;
		(*n)++;
		if (cmd_is_remote(loc) &&
		    (rc = remote_spec(ctx, &(*specs)[*n - 1], false, err)) != 0) {
			cmd_repo_specs_free(*specs, *n);
			*specs = NULL;
			*n = 0;
			stitch_config_release(&cfg);
			return rc;
		}
	}
	stitch_config_release(&cfg);
	return 0;
}

void cmd_repo_specs_free(struct stitch_repo_spec *specs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)specs[i].name);
		free((char *)specs[i].location);
		free((char *)specs[i].origin);
	}
	free(specs);
}

char *cmd_project_switch(const struct stitch_ctx *ctx, const char *project_dir)
{
	return ctx->switch_arg ? xstrdup(ctx->switch_arg) : xasprintf("%s/_stitch", project_dir);
}

char *cmd_source_cache_dir(const struct stitch_ctx *ctx)
{
	return xasprintf("%s/cache/sources", ctx->root);
}

bool cmd_sandbox_configured(const struct stitch_ctx *ctx)
{
	struct stitch_config cfg;
	bool on = true;

	if (stitch_config_load(ctx->root, &cfg, NULL) == 0) {
		on = !cfg.no_sandbox;
		stitch_config_release(&cfg);
	}
	return on;
}

struct stitch_artifacts *cmd_artifacts(const struct stitch_ctx *ctx)
{
	struct stitch_config cfg;
	struct stitch_artifacts_opts o = {0};
	struct stitch_artifacts *a;
	const char *off = getenv("STITCH_NO_CACHE");
	char *dir;

	if (off && *off && strcmp(off, "0") != 0)
		return NULL;
	dir = xasprintf("%s/cache/artifacts", ctx->root);
	o.dir = dir;
	o.push = true;
	if (stitch_config_load(ctx->root, &cfg, NULL) == 0) {
		o.remote = cfg.cache_remote;
		o.push = cfg.cache_push;
	} else {
		memset(&cfg, 0, sizeof(cfg));
	}
	a = stitch_artifacts_new(&o);
	stitch_config_release(&cfg);
	free(dir);
	return a;
}

char *cmd_switch_dir(const struct stitch_ctx *ctx)
{
	char cwd[PATH_MAX];

	if (ctx->switch_arg)
		return xstrdup(ctx->switch_arg);
	/* A project's own switch, as opam's _opam: nearest from here up. */
	if (getcwd(cwd, sizeof(cwd))) {
		for (;;) {
			char *cand = xasprintf("%s/_stitch/.stitch/state.db", cwd[1] ? cwd : "");
			char *slash;
			if (access(cand, F_OK) == 0) {
				free(cand);
				return xasprintf("%s/_stitch", cwd[1] ? cwd : "");
			}
			free(cand);
			slash = strrchr(cwd, '/');
			if (!slash || slash == cwd)
				break;
			*slash = '\0';
		}
	}
	/* In a project that has no switch yet: the one it will have. */
	{
		char *proj = NULL;
		if (stitch_project_find(".", &proj, NULL) == 0) {
			char *sw = xasprintf("%s/_stitch", proj);
			free(proj);
			return sw;
		}
	}
	return xasprintf("%s/switches/default", ctx->root);
}

/* A pinned checkout with its own stitch.json joins the index, in memory. */
static int overlay_pin(struct stitch_ctx *ctx, const char *name, const char *path)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *manifest = xasprintf("%s/stitch.json", path);
	int rc = EXIT_OK;

	if (access(manifest, R_OK) == 0 &&
	    stitch_index_overlay(ctx->index, name, manifest, path, &err) != 0)
		rc = cmd_fail(&err);
	free(manifest);
	return rc;
}

int cmd_load_pin_overlays(struct stitch_ctx *ctx, const char *extra_name, const char *extra_path)
{
	struct stitch_pin *pins = NULL;
	size_t n_pins = 0;
	int rc = EXIT_OK;

	stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL);
	for (size_t i = 0; i < n_pins && rc == EXIT_OK; i++)
		if (!extra_name || strcmp(pins[i].name, extra_name) != 0)
			rc = overlay_pin(ctx, pins[i].name, pins[i].path);
	if (rc == EXIT_OK && extra_name)
		rc = overlay_pin(ctx, extra_name, extra_path);
	stitch_pins_free(pins, n_pins);
	return rc;
}

static int env_number(const char *name)
{
	const char *j = getenv(name);
	long v = j ? strtol(j, NULL, 10) : 0;
	return v > 0 && v < 1024 ? (int)v : 0;
}

void cmd_op_init(struct stitch_ctx *ctx, struct cmd_op *op, bool json, bool dry_run, int jobs)
{
	memset(op, 0, sizeof(*op));
	op->ce.json = json;
	op->ce.dry_run = dry_run;
	op->oo.source_cache = cmd_source_cache_dir(ctx);
	op->oo.jobs = jobs;
	op->oo.fetch_parallel = env_number("STITCH_FETCH_JOBS");
	op->oo.dry_run = dry_run;
	op->oo.command_line = ctx->command_line;
	op->oo.on_event = cmd_print_event;
	op->oo.data = &op->ce;
	/* A plan says what the cache would serve, so a dry run asks it too. */
	op->oo.artifacts = cmd_artifacts(ctx);
	op->oo.no_sandbox = ctx->no_sandbox || !cmd_sandbox_configured(ctx);
	op->oo.command_fd = cmd_verbosity() == CMD_VERBOSE ? STDERR_FILENO : 0;
}

/* The operation is over: what follows is its result, without the status line. */
void cmd_op_release(struct cmd_op *op)
{
	cmd_status_stop();
	stitch_artifacts_free(op->oo.artifacts);
	free((char *)op->oo.source_cache);
	memset(op, 0, sizeof(*op));
}

static void on_wait(void *data, const char *dir)
{
	(void)data;
	fprintf(stderr, "waiting for another stitch process on the switch '%s'...\n", dir);
}

int cmd_open_switch(struct stitch_ctx *ctx, bool readonly)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *dir = cmd_switch_dir(ctx);
	int rc = stitch_switch_open(&ctx->sw, dir, readonly, on_wait, NULL, &err);

	if (rc == STITCH_E_NOTFOUND) {
		fprintf(stderr, "error: no switch at '%s'\n", dir);
		fprintf(stderr, "hint: run 'stitch init'%s to create it\n",
		        ctx->switch_arg ? " with the same --switch" : "");
		free(dir);
		return EXIT_ERROR;
	}
	free(dir);
	if (rc != 0)
		return cmd_fail(&err);
	/* The root keeps a record of its switches (stitch switch list). */
	stitch_registry_add(ctx->root, ctx->sw->dir, NULL);
	if (ctx->sw->recovered)
		fprintf(stderr, "note: finished the interrupted %s\n", ctx->sw->recovered_what);
	if (ctx->sw->relocated)
		fprintf(stderr,
		        "note: the switch was moved or copied from '%s': %zu file%s naming that "
		        "path now name '%s'\n",
		        ctx->sw->moved_from, ctx->sw->n_relocated,
		        ctx->sw->n_relocated == 1 ? "" : "s", ctx->sw->dir);
	return EXIT_OK;
}
