/*
 * Private to fetching (fetch.c, fetch_sink.c, fetch_doc.c): transfers and
 * the temporary files they write.
 */
#ifndef STITCH_FETCH_INT_H
#define STITCH_FETCH_INT_H

#include "error.h"
#include "dl.h"
#include "fetch.h"

#include <openssl/evp.h>
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
	EVP_MD_CTX *md;
	int werr; /* errno of a failed write, 0 if none */
};

#define SINK_INIT                 \
	{                         \
		-1, NULL, NULL, 0 \
	}

/* Create prefix + "XXXXXX"; returns 0 or an errno value. */
int fetch_sink_open(struct sink *s, const char *prefix);
/* Returns 0, or -1 with s->werr set. */
int fetch_sink_write(struct sink *s, const char *p, size_t len);
/* fsync, make readable (0644) and close the file, and give its hash; returns 0 or an errno value. */
int fetch_sink_close(struct sink *s, char hex[65]);
/* Close and remove the file, if any; safe to call twice. */
void fetch_sink_discard(struct sink *s);
/* The SHA-256 of a whole file; returns 0 or an errno value. */
int fetch_hash_file(const char *path, char hex[65]);

enum xfer_state { X_WAITING, X_ACTIVE, X_DONE };

/* One item being fetched, over however many attempts. */
struct xfer {
	struct stitch_fetch_item *it;
	const char *label;
	char *tmp_prefix; /* where sink files are created */
	enum xfer_state state;
	int attempts;
	long long ready_at; /* monotonic ms before which a retry must not start */
	CURL *h;
	struct sink sink;
	char errbuf[CURL_ERROR_SIZE];

	/* documents only (dest != NULL) */
	const char *dest;
	struct curl_slist *req_headers;
	char etag[VALIDATOR_MAX], last_modified[VALIDATOR_MAX];
	bool changed;
};

struct fetcher {
	struct stitch_fetch_opts o; /* defaults filled in */
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

/* fetch_doc.c: a document's body is complete (http_code 200 or 304). */
void fetch_finish_document(struct fetcher *f, struct xfer *x, long http_code);
/* fetch_doc.c: CURLOPT_HEADERFUNCTION keeping the response's validators. */
size_t fetch_on_header(char *p, size_t size, size_t nmemb, void *data);

#endif
