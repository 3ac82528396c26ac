/*
 * The root's configuration: <root>/config.json.
 *
 *   {"format": 1,
 *    "repos": [{"name": "default", "bundled": true, "priority": 0},
 *              {"name": "mine", "location": "/abs/path", "priority": 10}],
 *    "cache": {"remote": "http://cache.example/stitch", "push": true},
 *    "sandbox": true,
 *    "limits": {"download_bytes": 1073741824, "unpack_bytes": 8589934592,
 *               "fetch_seconds": 3600}}
 *
 * limits bound what a server or an archive can make stitch do: the size of
 * one download, the bytes one archive may unpack to, the time one download
 * may take (all its retries together).  Each is optional; absent or 0 is
 * the built-in default.
 *
 * A root without the file has the default configuration: the bundled
 * repository alone, named "default", priority 0.  The bundled repository's
 * location is not stored (it moves with the installation); the caller
 * resolves it.
 */
#ifndef STITCH_CONFIG_H
#define STITCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct stitch_repo_conf {
	char *name;
	char *location; /* NULL when bundled */
	bool bundled;
	int priority;
};

struct stitch_limits {
	long long download_bytes; /* 0: the default */
	long long unpack_bytes;
	long long fetch_seconds;
};

struct stitch_config {
	size_t n_repos;
	struct stitch_repo_conf *repos; /* highest priority first, ties by age */
	char *cache_remote; /* shared artifact cache (an http(s) URL), or NULL */
	bool cache_push; /* upload what is built to cache_remote (default true) */
	bool no_sandbox; /* "sandbox": false: builds run without bubblewrap */
	struct stitch_limits limits;
};

int stitch_config_load(const char *root, struct stitch_config *cfg, struct stitch_err *err);
/* Replace the file atomically. */
int stitch_config_save(const char *root, const struct stitch_config *cfg, struct stitch_err *err);
void stitch_config_release(struct stitch_config *cfg);

/* Add a repository; STITCH_E_EXISTS when the name is taken. */
int stitch_config_add_repo(struct stitch_config *cfg, const char *name, const char *location,
                           int priority, struct stitch_err *err);
/* Remove one; STITCH_E_NOTFOUND when there is no such name. */
int stitch_config_remove_repo(struct stitch_config *cfg, const char *name, struct stitch_err *err);

#endif
