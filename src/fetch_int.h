/*
 * Private to fetching: the temporary files transfers write (fetch_sink.c),
 * the transfer engine (fetch_xfer.c), and its two users, sources (fetch.c)
 * and documents (fetch_doc.c).  Calls go down that list, never up: the
 * engine reaches its user only through the fetcher's `finish`.
 */
#ifndef STITCH_FETCH_INT_H
#define STITCH_FETCH_INT_H

#include "error.h"
#include "dl.h"
#include "fetch.h"

#include <stdbool.h>
#include <stddef.h>

#define VALIDATOR_MAX 512 /* longest ETag or Last-Modified value kept */

/*
 * A sink: a temporary file being written and hashed; fd < 0 when none is
 * open.  Open, write, then either close (the file stays at tmp, for the
 * caller to rename or discard) or discard (closed and removed).
 */
struct sink {
	int fd;
	char *tmp;
	struct stitch_sha256 *md;
	int werr; /* errno of a failed write, 0 if none */
};

#define SINK_INIT                 \
	{                         \
		-1, NULL, NULL, 0 \
	}

/*
 * Create prefix + "<pid>-XXXXXX" (prefix ends in ".tmp-"); returns 0 or an
 * errno value.  Until it is discarded or kept, a signal that kills the
 * process removes the file first.
 */
int fetch_sink_open(struct sink *s, const char *prefix);
/* Returns 0, or -1 with s->werr set. */
int fetch_sink_write(struct sink *s, const char *p, size_t len);
/* fsync, make readable (0644) and close the file, and give its hash; returns 0 or an errno value. */
int fetch_sink_close(struct sink *s, char hex[65]);
/* Close and remove the file, if any; safe to call twice. */
void fetch_sink_discard(struct sink *s);
/* The closed file was renamed to its final name: forget s->tmp. */
void fetch_sink_kept(struct sink *s);
/*
 * Remove the temporary files in dir ("*.tmp-<pid>-XXXXXX") whose process
 * is dead: what a stitch killed by SIGKILL or a crash left behind.
 */
void fetch_sweep_stale(const char *dir);
/* Whether a file starts as gzip, xz, zstd or bzip2 data does. */
bool fetch_file_is_compressed(const char *path);
/* Whether it is compressed, or starts as a zip or a tar archive does. */
bool fetch_file_is_archive(const char *path);
/* The SHA-256 of a whole file; returns 0 or an errno value. */
int fetch_hash_file(const char *path, char hex[65]);

enum xfer_state { X_WAITING, X_ACTIVE, X_DONE };

struct fetcher;

/* One item being fetched, over however many attempts. */
struct xfer {
	struct fetcher *f; /* the fetcher it belongs to, for on_progress */
	struct stitch_fetch_item *it;
	const char *label;
	char *tmp_prefix; /* where sink files are created */
	enum xfer_state state;
	int attempts;
	long long ready_at; /* monotonic ms before which a retry must not start */
	CURL *h;
	struct sink sink;
	long long got; /* body bytes of this attempt */
	bool too_big; /* the body passed max_bytes */
	long long max_bytes; /* the fetcher's o.max_bytes, for the write callback */
	long long deadline; /* monotonic ms: the item's time is up */
	long long progress_at; /* monotonic ms of the last on_progress */
	long long total; /* the body's announced size, -1 when unknown */
	char errbuf[CURL_ERROR_SIZE];

	/* documents only (dest != NULL) */
	const char *dest;
	struct curl_slist *req_headers;
	char etag[VALIDATOR_MAX], last_modified[VALIDATOR_MAX];
	bool changed;
};

struct fetcher {
	struct stitch_fetch_opts o; /* defaults filled in */
	/*
	 * The body of x is complete in x->sink (http_code 200, or 304 for a
	 * document): keep it and end x (X_DONE, with fetch_emit or
	 * fetch_xfer_fail).
	 */
	void (*finish)(struct fetcher *f, struct xfer *x, long http_code);
	struct xfer *x;
	size_t n;
};

int fetch_curl_setup(struct stitch_err *err);
void fetch_resolve_opts(const struct stitch_fetch_opts *in, struct stitch_fetch_opts *o);
void fetch_emit(struct fetcher *f, struct xfer *x, const char *event);

/* Reset it's results; x starts X_DONE: set X_WAITING to fetch it remotely. */
void fetch_xfer_init(struct xfer *x, struct stitch_fetch_item *it, const char *tmp_prefix);
void fetch_xfer_release(struct xfer *x);
/* The item failed for good: "cannot fetch 'LABEL': <fmt>", its sink discarded. */
void fetch_xfer_fail(struct fetcher *f, struct xfer *x, enum stitch_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

bool fetch_is_http(const char *url);
/* The path a file:// URL or an absolute path names, malloc'd; NULL if neither. */
char *fetch_local_path(const char *url);

/* Copy a local file through x's sink, then finish x. */
void fetch_read_local(struct fetcher *f, struct xfer *x, const char *path);
/* Run every X_WAITING transfer of f to completion, f->o.parallel at a time. */
void fetch_run_remote(struct fetcher *f);

/*
 * Copy a header's value (p, len: after the colon) into out, trimmed, if it
 * is short and printable; else make out empty.  The engine keeps a
 * document's ETag and Last-Modified this way, fetch_doc.c its saved ones.
 */
void fetch_keep_header(const char *p, size_t len, char out[VALIDATOR_MAX]);

#endif
