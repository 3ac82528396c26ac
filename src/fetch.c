/*
 * Fetching sources into a content-addressed cache: each item is found in
 * the cache, copied from a local file, or downloaded by the transfer engine
 * (fetch_xfer.c), then verified and renamed to its SHA-256.
 */
#include "fetch.h"
#include "fetch_int.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool valid_sha256(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return i == 64;
}

static int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir);
	struct stat st;
	int e = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			e = errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		e = errno;
	else if (stat(p, &st) < 0)
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	else
		e = 0;
	free(p);
	return e;
}

/* ------------------------------------------------------------ completion */

/* The body is complete: verify it and move it into the cache under its hash. */
static void finish_source(struct fetcher *f, struct xfer *x, long http_code)
{
	struct stitch_fetch_item *it = x->it;
	char hex[65];
	char *path;
	int e;

	(void)http_code; /* always 200: sources are fetched unconditionally */
	if ((e = fetch_sink_close(&x->sink, hex)) != 0) {
		fetch_xfer_fail(f, x, STITCH_E_IO, "cannot write %s: %s", x->sink.tmp, strerror(e));
		return;
	}
	if (f->o.archives && !fetch_file_is_archive(x->sink.tmp)) {
		fetch_xfer_fail(f, x, STITCH_E_IO,
		                "%s did not send an archive (not gzip, xz, zstd, bzip2, zip "
		                "or tar data)",
		                it->url);
		return;
	}
	if (it->sha256 && strcmp(it->sha256, hex) != 0) {
		fetch_xfer_fail(f, x, STITCH_E_IO, "checksum mismatch for %s: expected %s, got %s",
		                it->url, it->sha256, hex);
		return;
	}
	path = xasprintf("%s/%s", f->o.cache_dir, hex);
	if (rename(x->sink.tmp, path) < 0) {
		e = errno;
		fetch_xfer_fail(f, x, STITCH_E_IO, "cannot rename %s to %s: %s", x->sink.tmp, path,
		                strerror(e));
		free(path);
		return;
	}
	fetch_sink_kept(&x->sink);
	it->path = path;
	memcpy(it->sha256_out, hex, sizeof(it->sha256_out));
	it->status = 0;
	stitch_err_clear(&it->err);
	x->state = X_DONE;
	fetch_emit(f, x, "done");
}

/* --------------------------------------------------------------- public */

/* Decide how to fetch one item: done already (cached, bad input), local, or remote. */
static void prepare(struct fetcher *f, struct xfer *x)
{
	struct stitch_fetch_item *it = x->it;
	struct stat st;
	char *path;

	if (!it->url || !it->url[0]) {
		fetch_xfer_fail(f, x, STITCH_E_USAGE, "no URL given");
		return;
	}
	if (it->sha256 && !valid_sha256(it->sha256)) {
		fetch_xfer_fail(f, x, STITCH_E_USAGE,
		                "malformed sha256 '%s' (64 lowercase hex digits expected)",
		                it->sha256);
		return;
	}
	if (it->remote && !it->sha256 && !fetch_is_http(it->url)) {
		fetch_xfer_fail(f, x, STITCH_E_INDEX,
		                "source %s of a remote repository has no sha256 (only http and "
		                "https sources are taken without one)",
		                it->url);
		return;
	}
	if (it->sha256) {
		path = xasprintf("%s/%s", f->o.cache_dir, it->sha256);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			it->path = path;
			memcpy(it->sha256_out, it->sha256, sizeof(it->sha256_out));
			it->from_cache = true;
			x->state = X_DONE;
			fetch_emit(f, x, "cached");
			return;
		}
		free(path);
	}
	if ((path = fetch_local_path(it->url)) != NULL) {
		fetch_read_local(f, x, path);
		free(path);
	} else if (fetch_is_http(it->url)) {
		x->state = X_WAITING;
	} else {
		fetch_xfer_fail(f, x, STITCH_E_USAGE, "unsupported URL %s", it->url);
	}
}
int stitch_fetch_all(struct stitch_fetch_item *items, size_t n,
                     const struct stitch_fetch_opts *opts, struct stitch_err *err)
{
	struct fetcher f;
	char *prefix;
	int e, rc = 0;

	if (!opts || !opts->cache_dir || !opts->cache_dir[0])
		return stitch_error(err, STITCH_E_USAGE, "cannot fetch: no cache directory given");
	fetch_resolve_opts(opts, &f.o);
	f.finish = finish_source;
	if ((e = mkdir_p(f.o.cache_dir)) != 0)
		return stitch_error(err, STITCH_E_IO, "cannot create cache directory '%s': %s",
		                    f.o.cache_dir, strerror(e));
	if ((rc = fetch_curl_setup(err)) != 0)
		return rc;
	fetch_sweep_stale(f.o.cache_dir);

	f.n = n;
	f.x = xcalloc(n, sizeof(*f.x));
	prefix = xasprintf("%s/.tmp-", f.o.cache_dir);
	for (size_t i = 0; i < n; i++)
		fetch_xfer_init(&f.x[i], &items[i], prefix);
	free(prefix);
	for (size_t i = 0; i < n; i++)
		prepare(&f, &f.x[i]);
	fetch_run_remote(&f);

	for (size_t i = 0; i < n; i++) {
		fetch_xfer_release(&f.x[i]);
		if (items[i].status && !rc) {
			rc = items[i].status;
			if (err)
				*err = items[i].err;
		}
	}
	free(f.x);
	return rc;
}

void stitch_fetch_item_release(struct stitch_fetch_item *it)
{
	free(it->path);
	it->path = NULL;
}
