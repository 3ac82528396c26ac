/*
 * Remote index documents: a conditional GET (ETag, Last-Modified) into a
 * file replaced atomically, through the transfer machinery of fetch.c.
 */
#include "fetch.h"
#include "dl.h"
#include "fetch_int.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static char *validators_path(const char *dest)
{
	return xasprintf("%s.validators", dest);
}

/* Write (or, with none to keep, remove) dest's validators; returns 0 or an errno value. */
static int save_validators(struct xfer *x)
{
	char *path = validators_path(x->dest), *prefix;
	struct sink s = SINK_INIT;
	struct stitch_buf b = STITCH_BUF_INIT;
	char hex[65];
	int e = 0;

	if (!x->etag[0] && !x->last_modified[0]) {
		if (unlink(path) < 0 && errno != ENOENT)
			e = errno;
		free(path);
		return e;
	}
	if (x->etag[0])
		stitch_buf_addf(&b, "etag %s\n", x->etag);
	if (x->last_modified[0])
		stitch_buf_addf(&b, "last-modified %s\n", x->last_modified);
	prefix = xasprintf("%s.tmp-", path);
	e = fetch_sink_open(&s, prefix);
	free(prefix);
	if (!e && fetch_sink_write(&s, b.buf, b.len) < 0)
		e = s.werr;
	if (!e)
		e = fetch_sink_close(&s, hex);
	if (!e && rename(s.tmp, path) < 0)
		e = errno;
	if (!e)
		fetch_sink_kept(&s);
	fetch_sink_discard(&s);
	stitch_buf_release(&b);
	free(path);
	return e;
}

/* Documents up to this size are parsed whole; larger ones only checked at both ends. */
#define PARSE_MAX (4L << 20)

/*
 * Whether the file at path starts with '{' and ends with '}' (white space
 * aside), as an index document does; else where it does not, in *line and
 * *col (1-based; the end is reported as line 0).
 */
static bool braced(const char *path, int *line, int *col)
{
	FILE *fp = fopen(path, "re");
	int c, first = EOF, last = EOF;

	*line = 1;
	*col = 1;
	if (!fp)
		return false;
	while ((c = getc(fp)) != EOF && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
		*col = c == '\n' ? 1 : *col + 1;
		*line += c == '\n';
	}
	first = c;
	if (first == '{' && fseek(fp, -64, SEEK_END) != 0)
		rewind(fp);
	while (first == '{' && (c = getc(fp)) != EOF)
		if (!(c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			last = c;
	fclose(fp);
	if (first == '{' && last != '}')
		*line = *col = 0;
	return first == '{' && last == '}';
}

/*
 * A document must be JSON, or compressed (and then read by the index):
 * an HTML error page sent with 200 fails here, named by its URL, before
 * it replaces anything.  A small one is parsed whole; a large one (a big
 * index would cost seconds and hundreds of MB to parse twice) is checked
 * to be braced as an object, and parsed by the index.  Returns 0, or -1
 * when x failed.
 */
static int check_json(struct fetcher *f, struct xfer *x)
{
	char *type = NULL, where[STITCH_ERR_MSG_MAX];
	json_error_t jerr;
	struct stat st;
	json_t *j;
	int line, col;

	if (fetch_file_is_compressed(x->sink.tmp))
		return 0;
	if (stat(x->sink.tmp, &st) == 0 && st.st_size > PARSE_MAX) {
		if (braced(x->sink.tmp, &line, &col))
			return 0;
		if (line)
			snprintf(where, sizeof(where), "%d:%d: expected '{'", line, col);
		else
			snprintf(where, sizeof(where), "the end: expected '}'");
	} else if ((j = json_load_file(x->sink.tmp, JSON_DECODE_ANY, &jerr)) != NULL) {
		json_decref(j);
		return 0;
	} else {
		snprintf(where, sizeof(where), "%d:%d: %s", jerr.line, jerr.column, jerr.text);
	}
	if (x->h)
		curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &type);
	fetch_xfer_fail(f, x, STITCH_E_IO, "%s did not send a JSON document%s%s%s: %s", x->it->url,
	                type ? " (it sent " : "", type ? type : "", type ? ")" : "", where);
	return -1;
}

static void finish_document(struct fetcher *f, struct xfer *x, long http_code)
{
	char hex[65], old[65];
	int e;

	x->changed = false;
	if (http_code == 304) {
		fetch_sink_discard(&x->sink);
	} else {
		if ((e = fetch_sink_close(&x->sink, hex)) != 0) {
			fetch_xfer_fail(f, x, STITCH_E_IO, "cannot write %s: %s", x->sink.tmp,
			                strerror(e));
			return;
		}
		if (check_json(f, x))
			return;
		if (fetch_hash_file(x->dest, old) == 0 && !strcmp(old, hex)) {
			fetch_sink_discard(&x->sink);
		} else if (rename(x->sink.tmp, x->dest) < 0) {
			e = errno;
			fetch_xfer_fail(f, x, STITCH_E_IO, "cannot rename %s to %s: %s",
			                x->sink.tmp, x->dest, strerror(e));
			return;
		} else {
			fetch_sink_kept(&x->sink);
			x->changed = true;
		}
		memcpy(x->it->sha256_out, hex, sizeof(hex));
		/* after dest: stale validators with new content only cost a full GET */
		if (x->h && (e = save_validators(x)) != 0) {
			fetch_xfer_fail(f, x, STITCH_E_IO, "cannot save validators for %s: %s",
			                x->dest, strerror(e));
			return;
		}
	}
	x->it->status = 0;
	stitch_err_clear(&x->it->err);
	x->state = X_DONE;
	fetch_emit(f, x, "done");
}

/* Read dest's validators into request headers, if dest and they exist. */
static void load_validators(struct xfer *x)
{
	char *path = validators_path(x->dest);
	char line[VALIDATOR_MAX + 32], val[VALIDATOR_MAX];
	struct stat st;
	FILE *fp;

	if (stat(x->dest, &st) < 0 || !(fp = fopen(path, "re"))) {
		free(path);
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		const char *name = NULL;
		if (!strncmp(line, "etag ", 5)) {
			fetch_keep_header(line + 5, strlen(line + 5), val);
			name = "If-None-Match";
		} else if (!strncmp(line, "last-modified ", 14)) {
			fetch_keep_header(line + 14, strlen(line + 14), val);
			name = "If-Modified-Since";
		}
		if (name && val[0]) {
			char *h = xasprintf("%s: %s", name, val);
			x->req_headers = curl_slist_append(x->req_headers, h);
			free(h);
		}
	}
	fclose(fp);
	free(path);
}

/* Remove what dead processes left in dest's directory. */
static void sweep_beside(const char *dest)
{
	const char *slash = strrchr(dest, '/');
	char *dir = slash ? xstrndup(dest, (size_t)(slash - dest + (slash == dest))) : xstrdup(".");

	fetch_sweep_stale(dir);
	free(dir);
}

int stitch_fetch_document(const char *url, const char *dest, const struct stitch_fetch_opts *opts,
                          bool *changed, struct stitch_err *err)
{
	struct stitch_fetch_item it = {0};
	struct fetcher f;
	struct xfer x;
	char *prefix, *path;
	int rc;

	*changed = false;
	if (!url || !url[0] || !dest || !dest[0])
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot fetch a document: no URL or destination");
	fetch_resolve_opts(opts, &f.o);
	f.finish = finish_document;
	if ((rc = fetch_curl_setup(err)) != 0)
		return rc;
	it.url = url;
	sweep_beside(dest);
	prefix = xasprintf("%s.tmp-", dest);
	fetch_xfer_init(&x, &it, prefix);
	free(prefix);
	x.dest = dest;
	f.x = &x;
	f.n = 1;

	if ((path = fetch_local_path(url)) != NULL) {
		fetch_read_local(&f, &x, path);
		free(path);
	} else if (fetch_is_http(url)) {
		load_validators(&x);
		x.state = X_WAITING;
		fetch_run_remote(&f);
	} else {
		fetch_xfer_fail(&f, &x, STITCH_E_USAGE, "unsupported URL %s", url);
	}
	fetch_xfer_release(&x);
	*changed = x.changed;
	rc = it.status;
	if (rc && err)
		*err = it.err;
	return rc;
}
