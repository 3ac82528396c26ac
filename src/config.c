#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "version.h"

static void sort_repos(struct stitch_config *cfg)
{
	/* Insertion sort: stable, and the list is short. */
	for (size_t i = 1; i < cfg->n_repos; i++) {
		struct stitch_repo_conf r = cfg->repos[i];
		size_t j = i;
		while (j > 0 && cfg->repos[j - 1].priority < r.priority) {
			cfg->repos[j] = cfg->repos[j - 1];
			j--;
		}
		cfg->repos[j] = r;
	}
}

static void push(struct stitch_config *cfg, const char *name, const char *loc, bool bundled,
                 int priority)
{
	cfg->repos = xrealloc(cfg->repos, (cfg->n_repos + 1) * sizeof(*cfg->repos));
	cfg->repos[cfg->n_repos].name = xstrdup(name);
	cfg->repos[cfg->n_repos].location = loc ? xstrdup(loc) : NULL;
	cfg->repos[cfg->n_repos].bundled = bundled;
	cfg->repos[cfg->n_repos].priority = priority;
	cfg->n_repos++;
}

static int load_limits(const char *path, json_t *o, struct stitch_limits *l, struct stitch_err *err)
{
	static const char *const keys[] = {"download_bytes", "unpack_bytes", "fetch_seconds"};
	long long *vals[] = {&l->download_bytes, &l->unpack_bytes, &l->fetch_seconds};
	const char *key;
	json_t *v;

	if (!o)
		return 0;
	if (!json_is_object(o))
		return stitch_error(err, STITCH_E_CONFIG, "%s: field 'limits': expected an object",
		                    path);
	json_object_foreach(o, key, v)
	{
		size_t i = 0;
		while (i < 3 && strcmp(key, keys[i]))
			i++;
		if (i == 3)
			return stitch_error(err, STITCH_E_CONFIG,
			                    "%s: field 'limits': unknown key '%s' (expected "
			                    "download_bytes, unpack_bytes or fetch_seconds)",
			                    path, key);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return stitch_error(
			    err, STITCH_E_CONFIG,
			    "%s: field 'limits.%s': expected a non-negative integer", path, key);
		*vals[i] = (long long)json_integer_value(v);
	}
	return 0;
}

static void save_limits(json_t *j, const struct stitch_limits *l)
{
	json_t *o = json_object();

	if (l->download_bytes)
		json_object_set_new(o, "download_bytes", json_integer(l->download_bytes));
	if (l->unpack_bytes)
		json_object_set_new(o, "unpack_bytes", json_integer(l->unpack_bytes));
	if (l->fetch_seconds)
		json_object_set_new(o, "fetch_seconds", json_integer(l->fetch_seconds));
	if (json_object_size(o))
		json_object_set_new(j, "limits", o);
	else
		json_decref(o);
}

int stitch_config_load(const char *root, struct stitch_config *cfg, struct stitch_err *err)
{
	char *path = xasprintf("%s/config.json", root);
	json_error_t jerr;
	json_t *j, *repos, *r;
	size_t i;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		push(cfg, "default", NULL, true, 0);
		cfg->cache_push = true;
		free(path);
		return 0;
	}
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		rc = stitch_error(err, STITCH_E_CONFIG, "%s:%d:%d: %s", path, jerr.line,
		                  jerr.column, jerr.text);
		goto out;
	}
	repos = json_object_get(j, "repos");
	if (!json_is_array(repos)) {
		rc = stitch_error(err, STITCH_E_CONFIG, "%s: field 'repos': expected an array",
		                  path);
		goto out;
	}
	json_array_foreach(repos, i, r)
	{
		json_t *name = json_object_get(r, "name"), *loc = json_object_get(r, "location");
		json_t *prio = json_object_get(r, "priority");
		bool bundled = json_is_true(json_object_get(r, "bundled"));
		if (!json_is_string(name) || (!bundled && !json_is_string(loc)) ||
		    (prio && !json_is_integer(prio))) {
			rc = stitch_error(err, STITCH_E_CONFIG,
			                  "%s: repos item %zu: expected {\"name\": string, "
			                  "\"location\": string, \"priority\": integer}",
			                  path, i);
			goto out;
		}
		push(cfg, json_string_value(name), bundled ? NULL : json_string_value(loc), bundled,
		     prio ? (int)json_integer_value(prio) : 0);
	}
	sort_repos(cfg);
	if ((rc = load_limits(path, json_object_get(j, "limits"), &cfg->limits, err)) != 0)
		goto out;
	{
		json_t *c = json_object_get(j, "cache"), *url = json_object_get(c, "remote");
		json_t *push_ = json_object_get(c, "push");
		if (c && (!json_is_object(c) || (url && !json_is_string(url)) ||
		          (push_ && !json_is_boolean(push_)))) {
			rc = stitch_error(err, STITCH_E_CONFIG,
			                  "%s: field 'cache': expected {\"remote\": string, "
			                  "\"push\": boolean}",
			                  path);
			goto out;
		}
		if (url)
			cfg->cache_remote = xstrdup(json_string_value(url));
		cfg->cache_push = !push_ || json_is_true(push_);
	}
	{
		json_t *sb = json_object_get(j, "sandbox");
		if (sb && !json_is_boolean(sb)) {
			rc = stitch_error(err, STITCH_E_CONFIG,
			                  "%s: field 'sandbox': expected true or false", path);
			goto out;
		}
		cfg->no_sandbox = sb && json_is_false(sb);
	}
out:
	if (rc) {
		stitch_config_release(cfg); /* the repositories read before the error */
		stitch_error_cause(
		    err, "hint: fix or remove the file to return to the default repositories");
	}
	json_decref(j);
	free(path);
	return rc;
}

int stitch_config_save(const char *root, const struct stitch_config *cfg, struct stitch_err *err)
{
	char *path = xasprintf("%s/config.json", root);
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	json_t *j = json_pack("{s:i, s:[]}", "format", 1, "repos");
	json_t *repos = json_object_get(j, "repos");
	int rc = 0;

	for (size_t i = 0; i < cfg->n_repos; i++) {
		const struct stitch_repo_conf *r = &cfg->repos[i];
		json_t *o = json_pack("{s:s, s:i}", "name", r->name, "priority", r->priority);
		if (r->bundled)
			json_object_set_new(o, "bundled", json_true());
		else
			json_object_set_new(o, "location", json_string(r->location));
		json_array_append_new(repos, o);
	}
	if (cfg->cache_remote)
		json_object_set_new(
		    j, "cache",
		    json_pack("{s:s, s:b}", "remote", cfg->cache_remote, "push", cfg->cache_push));
	if (cfg->no_sandbox)
		json_object_set_new(j, "sandbox", json_false());
	save_limits(j, &cfg->limits);
	if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
	    rename(tmp, path) != 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
	}
	json_decref(j);
	free(tmp);
	free(path);
	return rc;
}

void stitch_config_release(struct stitch_config *cfg)
{
	for (size_t i = 0; i < cfg->n_repos; i++) {
		free(cfg->repos[i].name);
		free(cfg->repos[i].location);
	}
	free(cfg->repos);
	free(cfg->cache_remote);
	memset(cfg, 0, sizeof(*cfg));
}

int stitch_config_add_repo(struct stitch_config *cfg, const char *name, const char *location,
                           int priority, struct stitch_err *err)
{
	if (!stitch_name_valid(name, strlen(name)))
		return stitch_error(
		    err, STITCH_E_USAGE,
		    "invalid repository name '%s' (expected [A-Za-z0-9][A-Za-z0-9_+.-]*)", name);
	for (size_t i = 0; i < cfg->n_repos; i++)
		if (strcmp(cfg->repos[i].name, name) == 0)
			return stitch_error(err, STITCH_E_EXISTS,
			                    "a repository named '%s' already exists", name);
	push(cfg, name, location, false, priority);
	sort_repos(cfg);
	return 0;
}

int stitch_config_remove_repo(struct stitch_config *cfg, const char *name, struct stitch_err *err)
{
	for (size_t i = 0; i < cfg->n_repos; i++) {
		if (strcmp(cfg->repos[i].name, name) != 0)
			continue;
		free(cfg->repos[i].name);
		free(cfg->repos[i].location);
		memmove(&cfg->repos[i], &cfg->repos[i + 1],
		        (cfg->n_repos - i - 1) * sizeof(*cfg->repos));
		cfg->n_repos--;
		return 0;
	}
	return stitch_error(err, STITCH_E_NOTFOUND, "no repository named '%s'", name);
}
