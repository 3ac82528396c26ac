/*
 * The transfer engine under fetch.c (sources) and fetch_doc.c (documents):
 * struct xfer over however many attempts, local files copied at once,
 * remote ones in one libcurl multi loop that starts up to `parallel`
 * transfers, reads completions, and reschedules transient failures after a
 * backoff.  A finished body is handed to the fetcher's `finish`; this file
 * calls nothing above it.
 */
#include "fetch.h"
#include "dl.h"
#include "fetch_int.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef STITCH_VERSION
#define STITCH_VERSION "0"
#endif

#define DEFAULT_PARALLEL 8
#define DEFAULT_RETRIES 3
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_LOW_SPEED_TIME_S 10L
#define DEFAULT_RETRY_BASE_MS 200L
#define MAX_REDIRECTS 5L
#define MAX_RETRY_AFTER_MS 30000L /* a server's Retry-After is honoured up to this */
#define DEFAULT_MAX_BYTES (1LL << 30)
#define DEFAULT_TOTAL_TIMEOUT_S 3600L

static long long limit_bytes = DEFAULT_MAX_BYTES;
static long limit_seconds = DEFAULT_TOTAL_TIMEOUT_S;

void stitch_fetch_set_limits(long long max_bytes, long total_timeout_s)
{
	limit_bytes = max_bytes > 0 ? max_bytes : DEFAULT_MAX_BYTES;
	limit_seconds = total_timeout_s > 0 ? total_timeout_s : DEFAULT_TOTAL_TIMEOUT_S;
}

/* -------------------------------------------------------------- transfers */

static bool curl_ready;

int fetch_curl_setup(struct stitch_err *err)
{
	int e;

	if (curl_ready)
		return 0;
	if ((e = stitch_dl_load_curl(err)) != 0)
		return e;
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		return stitch_error(err, STITCH_E_IO, "cannot initialise libcurl: %s",
		                    curl_easy_strerror(rc));
	curl_ready = true;
	return 0;
}

void stitch_fetch_global_cleanup(void)
{
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = false;
}

void fetch_resolve_opts(const struct stitch_fetch_opts *in, struct stitch_fetch_opts *o)
{
	static const struct stitch_fetch_opts none;

	*o = in ? *in : none;
	if (o->parallel <= 0)
		o->parallel = DEFAULT_PARALLEL;
	if (o->retries == 0)
		o->retries = DEFAULT_RETRIES;
	else if (o->retries < 0)
		o->retries = 0;
	if (o->connect_timeout_ms <= 0)
		o->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (o->low_speed_time_s <= 0)
		o->low_speed_time_s = DEFAULT_LOW_SPEED_TIME_S;
	if (o->retry_base_ms <= 0)
		o->retry_base_ms = DEFAULT_RETRY_BASE_MS;
	if (o->max_bytes <= 0)
		o->max_bytes = limit_bytes;
	if (o->total_timeout_s <= 0)
		o->total_timeout_s = limit_seconds;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fetch_emit(struct fetcher *f, struct xfer *x, const char *event)
{
	if (f->o.on_event)
		f->o.on_event(f->o.data, x->it, event);
}

/* The item has failed for good: record the code (the message is already in it->err). */
static void xfer_failed(struct fetcher *f, struct xfer *x)
{
	x->it->status = x->it->err.code;
	x->state = X_DONE;
	fetch_emit(f, x, "failed");
}

void fetch_xfer_fail(struct fetcher *f, struct xfer *x, enum stitch_code code, const char *fmt, ...)
{
	char msg[STITCH_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fetch_sink_discard(&x->sink);
	stitch_error(&x->it->err, code, "cannot fetch '%s': %s", x->label, msg);
	xfer_failed(f, x);
}

void fetch_xfer_release(struct xfer *x)
{
	fetch_sink_discard(&x->sink);
	if (x->h)
		curl_easy_cleanup(x->h);
	x->h = NULL;
	curl_slist_free_all(x->req_headers);
	x->req_headers = NULL;
	free(x->tmp_prefix);
	x->tmp_prefix = NULL;
}

static const char *label_of(const struct stitch_fetch_item *it)
{
	const char *slash;

	if (it->label)
		return it->label;
	slash = strrchr(it->url, '/');
	return slash && slash[1] ? slash + 1 : it->url;
}

bool fetch_is_http(const char *url)
{
	return !strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8);
}

/* The local path a file:// URL or an absolute path names, malloc'd; NULL if neither. */
char *fetch_local_path(const char *url)
{
	const char *p;
	char *decoded, *path;
	int len = 0;

	if (url[0] == '/')
		return xstrdup(url);
	if (strncasecmp(url, "file://", 7))
		return NULL;
	p = url + 7;
	if (!strncasecmp(p, "localhost/", 10))
		p += 9;
	if (p[0] != '/')
		return NULL;
	decoded = curl_easy_unescape(NULL, p, 0, &len);
	if (!decoded)
		return NULL;
	/* an encoded NUL would silently shorten the path */
	path = strlen(decoded) == (size_t)len ? xstrdup(decoded) : NULL;
	curl_free(decoded);
	return path;
}

void fetch_xfer_init(struct xfer *x, struct stitch_fetch_item *it, const char *tmp_prefix)
{
	memset(x, 0, sizeof(*x));
	x->it = it;
	x->label = label_of(it);
	x->tmp_prefix = xstrdup(tmp_prefix);
	x->sink.fd = -1;
	x->state = X_DONE;
	it->status = 0;
	stitch_err_clear(&it->err);
	it->sha256_out[0] = '\0';
	it->path = NULL;
	it->from_cache = false;
}

/* ---------------------------------------------------------------- local */

void fetch_read_local(struct fetcher *f, struct xfer *x, const char *path)
{
	char buf[65536];
	struct stat st;
	ssize_t r;
	int fd, e;

	fetch_emit(f, x, "start");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		fetch_xfer_fail(f, x, e == ENOENT ? STITCH_E_NOTFOUND : STITCH_E_IO,
		                "cannot open %s: %s", path, strerror(e));
		return;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		fetch_xfer_fail(f, x, STITCH_E_IO, "%s is not a regular file", path);
		return;
	}
	if ((e = fetch_sink_open(&x->sink, x->tmp_prefix)) != 0) {
		close(fd);
		fetch_xfer_fail(f, x, STITCH_E_IO, "cannot create a temporary file %sXXXXXX: %s",
		                x->tmp_prefix, strerror(e));
		return;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0 && (x->got += r) > f->o.max_bytes) {
			close(fd);
			fetch_xfer_fail(f, x, STITCH_E_IO,
			                "%s is larger than the download limit of %lld bytes "
			                "(limits.download_bytes)",
			                path, f->o.max_bytes);
			return;
		}
		if (r < 0) {
			e = errno;
			close(fd);
			fetch_xfer_fail(f, x, STITCH_E_IO, "cannot read %s: %s", path, strerror(e));
			return;
		}
		if (fetch_sink_write(&x->sink, buf, (size_t)r) < 0) {
			close(fd);
			fetch_xfer_fail(f, x, STITCH_E_IO, "cannot write %s: %s", x->sink.tmp,
			                strerror(x->sink.werr));
			return;
		}
	}
	close(fd);
	f->finish(f, x, 200);
}

/* ----------------------------------------------------------------- remote */

void fetch_keep_header(const char *p, size_t len, char out[VALIDATOR_MAX])
{
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	out[0] = '\0';
	if (len == 0 || len >= VALIDATOR_MAX)
		return;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return;
	memcpy(out, p, len);
	out[len] = '\0';
}

/* CURLOPT_HEADERFUNCTION of a document: keep the validators of the last response. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *data)
{
	struct xfer *x = data;
	size_t len = size * nmemb;

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new response (after a redirect): forget the previous one's */
		x->etag[0] = x->last_modified[0] = '\0';
	} else if (len > 5 && !strncasecmp(p, "etag:", 5)) {
		fetch_keep_header(p + 5, len - 5, x->etag);
	} else if (len > 14 && !strncasecmp(p, "last-modified:", 14)) {
		fetch_keep_header(p + 14, len - 14, x->last_modified);
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *data)
{
	struct xfer *x = data;
	size_t len = size * nmemb;
	long code = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	if (code / 100 != 2)
		return len; /* an error page is not the content */
	x->got += (long long)len;
	if (x->got > x->max_bytes) {
		x->too_big = true;
		return 0; /* curl reports CURLE_WRITE_ERROR */
	}
	if (fetch_sink_write(&x->sink, p, len) < 0)
		return 0; /* curl reports CURLE_WRITE_ERROR */
	return len;
}

#define PROGRESS_MS 100 /* on_progress at most this often for one item */

static void report_progress(struct xfer *x)
{
	x->progress_at = now_ms();
	x->f->o.on_progress(x->f->o.data, x->it, x->got, x->total);
}

/* libcurl's progress meter, throttled into on_progress. */
static int on_xferinfo(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct xfer *x = data;

	(void)dlnow; /* it counts error pages too; x->got counts the content only */
	(void)ultotal;
	(void)ulnow;
	x->total = dltotal > 0 ? (long long)dltotal : -1;
	if (now_ms() - x->progress_at >= PROGRESS_MS)
		report_progress(x);
	return 0;
}

static CURL *new_handle(struct fetcher *f, struct xfer *x)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, x->it->url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_USERAGENT, "stitch/" STITCH_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, f->o.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, f->o.low_speed_time_s);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->o.max_bytes);
	if (f->o.on_progress) {
		x->f = f;
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	if (x->dest) {
		/* an index document may come compressed in transit; sources never are */
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
		if (x->req_headers)
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->req_headers);
	}
	return h;
}

/* Begin one attempt; returns 0, or -1 when the item failed for good. */
static int xfer_start(struct fetcher *f, struct xfer *x, CURLM *m)
{
	long long left;
	int e;

	if (x->attempts++ == 0)
		x->deadline = now_ms() + f->o.total_timeout_s * 1000;
	x->got = 0;
	x->total = -1;
	x->progress_at = 0;
	x->too_big = false;
	x->max_bytes = f->o.max_bytes;
	if ((e = fetch_sink_open(&x->sink, x->tmp_prefix)) != 0) {
		fetch_xfer_fail(f, x, STITCH_E_IO, "cannot create a temporary file %sXXXXXX: %s",
		                x->tmp_prefix, strerror(e));
		return -1;
	}
	if (!x->h && !(x->h = new_handle(f, x))) {
		fetch_xfer_fail(f, x, STITCH_E_IO, "cannot create a libcurl handle");
		return -1;
	}
	x->errbuf[0] = '\0';
	/* what is left of the item's time; at least 1 ms, as 0 would mean none */
	left = x->deadline - now_ms();
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)(left > 0 ? left : 1));
	if (curl_multi_add_handle(m, x->h) != CURLM_OK) {
		fetch_xfer_fail(f, x, STITCH_E_IO, "cannot start a transfer");
		return -1;
	}
	x->state = X_ACTIVE;
	if (x->attempts == 1)
		fetch_emit(f, x, "start");
	return 0;
}

static bool transient_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool transient_http(long code)
{
	return code == 408 || code == 429 || code >= 500;
}

/* Fill it->err with why a transfer failed at the libcurl level. */
static void describe_curl(struct fetcher *f, struct xfer *x, CURLcode rc)
{
	const char *url = x->it->url;
	const char *eb = x->errbuf;
	curl_off_t got = 0, want = -1;
	long os_errno = 0;
	char what[256];

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &os_errno);
		snprintf(what, sizeof(what), "%s",
		         os_errno ? strerror((int)os_errno) : "cannot connect");
		what[0] = (char)tolower((unsigned char)what[0]);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (now_ms() >= x->deadline)
			snprintf(what, sizeof(what),
			         "took longer than the limit of %ld s (limits.fetch_seconds)",
			         f->o.total_timeout_s);
		else if (strstr(eb, "too slow"))
			snprintf(what, sizeof(what),
			         "timed out: less than 1 byte/s received for %ld s",
			         f->o.low_speed_time_s);
		else
			snprintf(what, sizeof(what), "timed out");
		break;
	case CURLE_PARTIAL_FILE:
		curl_easy_getinfo(x->h, CURLINFO_SIZE_DOWNLOAD_T, &got);
		curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &want);
		if (want >= 0)
			snprintf(what, sizeof(what), "truncated body: got %lld of %lld bytes",
			         (long long)got, (long long)want);
		else
			snprintf(what, sizeof(what), "truncated body");
		break;
	case CURLE_GOT_NOTHING:
		snprintf(what, sizeof(what), "connection closed without a response");
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &os_errno);
		snprintf(what, sizeof(what), "%s",
		         os_errno == ECONNRESET ? "connection reset" : "connection failed");
		break;
	case CURLE_UNSUPPORTED_PROTOCOL: {
		char *eff = NULL;
		curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &eff);
		if (eff && strcmp(eff, url))
			snprintf(what, sizeof(what),
			         "refused a redirect to %.150s (only http and https are followed)",
			         eff);
		else
			snprintf(what, sizeof(what), "unsupported protocol");
		break;
	}
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(what, sizeof(what), "the server's certificate was not accepted");
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(what, sizeof(what), "more than %ld redirects", MAX_REDIRECTS);
		break;
	case CURLE_FILESIZE_EXCEEDED:
		snprintf(what, sizeof(what),
		         "larger than the download limit of %lld bytes (limits.download_bytes)",
		         f->o.max_bytes);
		break;
	case CURLE_WRITE_ERROR:
		if (x->too_big) {
			stitch_error(&x->it->err, STITCH_E_IO,
			             "cannot fetch '%s' from %s: larger than the download limit of "
			             "%lld bytes (limits.download_bytes)",
			             x->label, url, f->o.max_bytes);
			return;
		}
		if (x->sink.werr) {
			stitch_error(&x->it->err, STITCH_E_IO,
			             "cannot fetch '%s': cannot write %s: %s", x->label,
			             x->sink.tmp ? x->sink.tmp : "a temporary file",
			             strerror(x->sink.werr));
			return;
		}
		/* fall through */
	default:
		snprintf(what, sizeof(what), "%s", curl_easy_strerror(rc));
		what[0] = (char)tolower((unsigned char)what[0]);
		break;
	}
	stitch_error(&x->it->err, STITCH_E_IO, "cannot fetch '%s' from %s: %s", x->label, url,
	             what);
	if (eb[0])
		stitch_error_cause(&x->it->err, "%s", eb);
}

static long retry_delay(struct fetcher *f, struct xfer *x)
{
	int shift = x->attempts - 1 < 10 ? x->attempts - 1 : 10;
	long delay = f->o.retry_base_ms << shift;
	curl_off_t after = 0;

	/* Retry-After (429, 503) asks for a longer wait: honour it, within reason */
	if (curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0) {
		long ms =
		    after > MAX_RETRY_AFTER_MS / 1000 ? MAX_RETRY_AFTER_MS : (long)after * 1000;
		if (ms > delay)
			delay = ms;
	}
	return delay;
}

static void xfer_complete(struct fetcher *f, struct xfer *x, CURLcode rc)
{
	struct stitch_fetch_item *it = x->it;
	long code = 0;
	bool transient;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK && (code / 100 == 2 || (x->dest && code == 304))) {
		if (f->o.on_progress) {
			x->total = x->got; /* whole: whatever was announced, this is all */
			report_progress(x);
		}
		f->finish(f, x, code);
		return;
	}
	if (rc != CURLE_OK) {
		/* the item's time is up: another attempt would have none */
		transient = transient_curl(rc) && now_ms() < x->deadline;
		describe_curl(f, x, rc);
	} else {
		transient = transient_http(code);
		stitch_error(&it->err, code == 404 || code == 410 ? STITCH_E_NOTFOUND : STITCH_E_IO,
		             "cannot fetch '%s': HTTP %ld from %s", x->label, code, it->url);
	}
	fetch_sink_discard(&x->sink);
	if (transient && x->attempts <= f->o.retries) {
		x->ready_at = now_ms() + retry_delay(f, x);
		if (x->ready_at >= x->deadline) {
			stitch_error_cause(&it->err,
			                   "no time left to retry (limits.fetch_seconds)");
			xfer_failed(f, x);
			return;
		}
		x->state = X_WAITING;
		fetch_emit(f, x, "retry");
		return;
	}
	if (x->attempts > 1) {
		struct stitch_buf cause = STITCH_BUF_INIT;
		stitch_buf_addf(&cause, "%s%sgave up after %d attempts", it->err.cause,
		                it->err.cause[0] ? "; " : "", x->attempts);
		stitch_error_cause(&it->err, "%s", cause.buf);
		stitch_buf_release(&cause);
	}
	xfer_failed(f, x);
}

/* Run every waiting transfer to completion, `parallel` at a time. */
void fetch_run_remote(struct fetcher *f)
{
	size_t pending = 0;
	int active = 0;
	CURLM *m;

	for (size_t i = 0; i < f->n; i++)
		pending += f->x[i].state == X_WAITING;
	if (!pending)
		return;
	m = curl_multi_init();
	if (!m) {
		for (size_t i = 0; i < f->n; i++)
			if (f->x[i].state == X_WAITING)
				fetch_xfer_fail(f, &f->x[i], STITCH_E_IO,
				                "cannot initialise libcurl");
		return;
	}
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)f->o.parallel);

	while (pending) {
		long long now = now_ms();
		long wait = 1000;
		bool progressed = false;
		int running = 0;
		CURLMsg *msg;
		int left;

		for (size_t i = 0; i < f->n; i++) {
			struct xfer *x = &f->x[i];
			if (x->state != X_WAITING)
				continue;
			if (x->ready_at > now) {
				if (x->ready_at - now < wait)
					wait = (long)(x->ready_at - now);
			} else if (active < f->o.parallel) {
				if (xfer_start(f, x, m) == 0)
					active++;
				else
					pending--;
			}
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			char *priv = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *h = msg->easy_handle;
			CURLcode rc = msg->data.result;
			curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
			struct xfer *x = (struct xfer *)priv;
			curl_multi_remove_handle(m, h);
			active--;
			xfer_complete(f, x, rc);
			if (x->state == X_DONE)
				pending--;
			progressed = true;
		}
		/* a slot freed: fill it before waiting */
		if (progressed || !pending)
			continue;
		curl_multi_poll(m, NULL, 0, (int)wait, NULL);
	}
	curl_multi_cleanup(m);
}
