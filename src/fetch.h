/*
 * Fetching: downloads into a content-addressed cache, and conditional GETs
 * of remote index documents.
 *
 * Sources are fetched several at once over libcurl's multi interface.  Each
 * download streams into a temporary file in the cache directory while its
 * SHA-256 is computed; only when the hash is known (and matches the expected
 * one, when given) is the file renamed to <cache_dir>/<sha256>.  So a file
 * named by a hash in the cache always holds that content: a half download
 * or a wrong one is never taken for a whole one, and no temporary file is
 * left behind on any error.
 *
 * URLs: http:// and https:// (redirects followed, at most 5, to http or
 * https only), file:// and absolute local paths (read directly, with the
 * same cache semantics).  Repository-relative paths are the caller's to
 * resolve into one of these.
 *
 * Transient failures are retried with exponential backoff: connection
 * refused or reset, timeouts (connect or low-speed), a body shorter than its
 * Content-Length, an empty reply, HTTP 408, 429 and 5xx.  Other HTTP errors
 * (404 and the rest of 4xx) are not retried, nor is anything else (an
 * unsupported protocol, a bad certificate, a malformed URL, a body over
 * the size limit, the total time limit reached).
 *
 * Temporary files are named "<dest>.tmp-<pid>-XXXXXX"; they are removed on
 * any error and when SIGINT, SIGTERM or SIGHUP kills the process (a handler
 * is installed for those still at their default action), and each call
 * first removes those of dead processes in the directory it writes to.
 *
 * Error codes (both in the return value and in each item's status):
 *   STITCH_E_USAGE     bad arguments: no cache_dir, a malformed sha256, an
 *                      unsupported URL scheme
 *   STITCH_E_NOTFOUND  HTTP 404 or 410, or a local file that does not exist
 *   STITCH_E_IO        everything else: network failures after the retries,
 *                      other HTTP errors, a checksum mismatch, a cache
 *                      directory that cannot be written
 *
 * Progress is reported through opts->on_event only; nothing is printed.
 * The functions are not meant to be called from several threads at once.
 */
#ifndef STITCH_FETCH_H
#define STITCH_FETCH_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

struct stitch_fetch_item {
	/* inputs, owned by the caller */
	const char *url; /* http://, https://, file:// or an absolute local path */
	const char *sha256; /* expected lowercase hex (64 chars), or NULL: computed and reported */
	const char *label; /* for messages, e.g. "tcp 1.1.0"; NULL: the URL's last component */
	/*
	 * Named by a remote (http or https) repository: taken only from an
	 * http(s) URL unless sha256 is given, so a remote index cannot make us
	 * read a local file of its choosing (STITCH_E_INDEX otherwise).
	 */
	bool remote;

	/* results, filled by stitch_fetch_all; release with stitch_fetch_item_release */
	int status; /* 0 ok, else a STITCH_E_* code */
	struct stitch_err err; /* "cannot fetch 'tcp 1.1.0': HTTP 404 from URL" and the like */
	char sha256_out[65]; /* the content's hash (on success) */
	char *path; /* malloc'd <cache_dir>/<sha256> on success, else NULL */
	bool from_cache; /* it was already in the cache: nothing was read */
};

/*
 * Options.  Zero means "the default" for every number, so a designated
 * initializer naming only cache_dir is a complete set of options.
 */
struct stitch_fetch_opts {
	const char *cache_dir; /* <root>/cache/sources; created (with parents) if missing */
	int parallel; /* simultaneous transfers; 0: 8 */
	int retries; /* extra attempts on transient failures; 0: 3, negative: none */
	long connect_timeout_ms; /* 0: 10000 */
	long low_speed_time_s; /* a transfer under 1 byte/s for this long fails; 0: 10 */
	long retry_base_ms; /* backoff before the first retry, doubling each time; 0: 200 */
	/*
	 * Bounds on what a server can make us do.  A body larger than max_bytes
	 * fails (and is not retried); an item that takes longer than
	 * total_timeout_s, all its attempts together, fails.  0: the defaults
	 * set with stitch_fetch_set_limits (1 GiB, 3600 s unless changed).
	 */
	long long max_bytes;
	long total_timeout_s;
	/*
	 * The items are source archives: a body that is not compressed
	 * (gzip, xz, zstd, bzip2) nor a zip or tar archive, such as an HTML
	 * error page sent with 200, fails naming the URL and is not kept.
	 */
	bool archives;
	/*
	 * Called (when not NULL) with one of "start" (a transfer begins),
	 * "retry" (an attempt failed transiently; it->err says why), "done",
	 * "cached" (already in the cache) and "failed" (it->err says why).
	 */
	void (*on_event)(void *data, const struct stitch_fetch_item *it, const char *event);
	/*
	 * Called (when not NULL) while an http(s) transfer runs, at most every
	 * 100 ms for each item, and once more when its body is complete: the
	 * body bytes of this attempt (back to 0 on a retry) and the total the
	 * server announced, or -1 when it announced none.  Not called for
	 * local files nor for items already in the cache.
	 */
	void (*on_progress)(void *data, const struct stitch_fetch_item *it, long long bytes,
	                    long long total);
	void *data;
};

/*
 * Fetch every item into opts->cache_dir, up to opts->parallel at a time.
 * An item whose sha256 is given and whose <cache_dir>/<sha256> exists is
 * not read at all (from_cache).  Each item's results are reset first, then
 * filled: status, err, sha256_out and path.
 *
 * Returns 0 when all succeeded; else the code of the first failed item (in
 * array order), whose err is copied into *err.  Every item is attempted
 * whatever the others do.  Call stitch_fetch_item_release on each item
 * afterwards, whatever the outcome.
 */
int stitch_fetch_all(struct stitch_fetch_item *items, size_t n,
                     const struct stitch_fetch_opts *opts, struct stitch_err *err);

/* Free an item's results (path); the inputs are untouched. */
void stitch_fetch_item_release(struct stitch_fetch_item *it);

/*
 * Fetch the document at url into dest, replacing dest atomically (a
 * temporary file next to it, then a rename); dest's directory must exist.
 *
 * Over HTTP the request is conditional: the ETag and Last-Modified of the
 * last response are kept in dest + ".validators" and sent back as
 * If-None-Match / If-Modified-Since (only while dest exists).  A 304 leaves
 * dest alone and sets *changed = false; so does a 200 whose body equals
 * dest's current content.  Otherwise dest is replaced and *changed = true.
 * file:// URLs and absolute paths are copied, *changed telling whether the
 * content differs.  opts may be NULL (defaults); its cache_dir is not used.
 * Retries and errors are as for stitch_fetch_all.
 */
int stitch_fetch_document(const char *url, const char *dest, const struct stitch_fetch_opts *opts,
                          bool *changed, struct stitch_err *err);

/*
 * Set the process-wide defaults of max_bytes and total_timeout_s (from the
 * root's configuration); a value <= 0 restores the built-in default.
 */
void stitch_fetch_set_limits(long long max_bytes, long total_timeout_s);

/*
 * Release libcurl's global state.  Call once at exit, when no fetch is
 * running (the library initialises libcurl on first use).
 */
void stitch_fetch_global_cleanup(void);

#endif
