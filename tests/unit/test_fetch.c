/*
 * Unit tests of src/fetch.c against tests/server/faulty.py on loopback.
 * Run from the repository's top directory (tests/run does).
 */
#include "fetch.h"
#include "dl.h"
#include "util.h"

#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t server_pid = -1;
static int port;
static char tmpdir[] = "/tmp/stitch-test-fetch.XXXXXX";
static char *files; /* what the server serves */
static int cache_seq;

/* ---------------------------------------------------------------- helpers */

static void write_file(const char *dir, const char *name, const char *content)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	if (!fp) {
		printf("# cannot write %s\n", path);
		exit(1);
	}
	fputs(content, fp);
	fclose(fp);
	free(path);
}

static char *read_path(const char *path)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (!fp)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		stitch_buf_add(&b, chunk, n);
	fclose(fp);
	return stitch_buf_detach(&b, NULL);
}

/* Content of a served file, and its hash. */
static const char *content_of(const char *name, char sha[65])
{
	static char buf[200000];
	char *path = xasprintf("%s/%s", files, name);
	char *s = read_path(path);

	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	free(s);
	free(path);
	stitch_sha256_hex(buf, strlen(buf), sha);
	return buf;
}

/* A fresh, not yet existing cache directory. */
static char *new_cache(void)
{
	return xasprintf("%s/cache-%d/sources", tmpdir, ++cache_seq);
}

/* Entries in dir (0 when it does not exist). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Entries of dir that look like temporary files. */
static int temp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp-"))
			n++;
	closedir(d);
	return n;
}

static char *url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d/%s", port, path);
}

static size_t collect(char *p, size_t size, size_t n, void *data)
{
	stitch_buf_add(data, p, size * n);
	return size * n;
}

/* GET a JSON object from the server's control paths. */
static json_t *server_json(const char *path)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char *u = url(path);
	CURL *h;
	json_t *j;

	CHECK(stitch_dl_load_curl(NULL) == 0);
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, u);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_perform(h);
	curl_easy_cleanup(h);
	j = json_loads(b.buf, 0, NULL);
	stitch_buf_release(&b);
	free(u);
	return j;
}

/* Requests the server has answered for path ("/ok/a.txt"). */
static long served(const char *path)
{
	json_t *j = server_json("_stats");
	long n = (long)json_integer_value(json_object_get(j, path));

	json_decref(j);
	return n;
}

struct events {
	int start, retry, done, cached, failed;
};

static void on_event(void *data, const struct stitch_fetch_item *it, const char *ev)
{
	struct events *e = data;

	(void)it;
	if (!strcmp(ev, "start"))
		e->start++;
	else if (!strcmp(ev, "retry"))
		e->retry++;
	else if (!strcmp(ev, "done"))
		e->done++;
	else if (!strcmp(ev, "cached"))
		e->cached++;
	else if (!strcmp(ev, "failed"))
		e->failed++;
}

/* Fetch one item with fast retries; returns the status. */
static int fetch_one(struct stitch_fetch_item *it, const char *cache, int retries,
                     struct events *ev)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_fetch_opts o = {.cache_dir = cache,
	                              .retries = retries,
	                              .retry_base_ms = 20,
	                              .low_speed_time_s = 2,
	                              .on_event = ev ? on_event : NULL,
	                              .data = ev};
	int rc = stitch_fetch_all(it, 1, &o, &err);

	CHECK_INT(rc, it->status);
	return rc;
}

static bool contains(const char *s, const char *sub)
{
	if (strstr(s, sub))
		return true;
	printf("# \"%s\" does not contain \"%s\"\n", s, sub);
	return false;
}

/* --------------------------------------------------------------- server */

static void start_server(void)
{
	const char *top = getenv("STITCH_TOP");
	char *script = xasprintf("%s/tests/server/faulty.py", top ? top : ".");
	char line[64];
	int fds[2];
	FILE *fp;

	if (pipe(fds) < 0)
		exit(1);
	server_pid = fork();
	if (server_pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* a crashed test leaves no server behind */
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("python3", "python3", script, "--port", "0", "--dir", files, "--slow", "300",
		       (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fp = fdopen(fds[0], "r");
	if (!fp || !fgets(line, sizeof(line), fp)) {
		printf("# cannot start %s\n", script);
		exit(1);
	}
	fclose(fp);
	port = (int)strtol(line, NULL, 10);
	free(script);
}

static void stop_server(void)
{
	if (server_pid <= 0)
		return;
	kill(-server_pid, SIGTERM);
	kill(server_pid, SIGTERM);
	waitpid(server_pid, NULL, 0);
	server_pid = -1;
}

/* ------------------------------------------------------------------ tests */

static void test_success(void)
{
	char sha[65];
	const char *body = content_of("a.txt", sha);
	char *u = url("ok/a.txt"), *cache = new_cache(), *want, *got;
	struct stitch_fetch_item it = {.url = u, .sha256 = sha, .label = "a 1.0"};
	struct events ev = {0};

	CHECK_INT(fetch_one(&it, cache, 0, &ev), 0);
	CHECK_STR(it.sha256_out, sha);
	want = xasprintf("%s/%s", cache, sha);
	CHECK_STR(it.path, want);
	got = it.path ? read_path(it.path) : NULL;
	CHECK_STR(got, body);
	CHECK(!it.from_cache);
	CHECK_INT(ev.start, 1);
	CHECK_INT(ev.done, 1);
	CHECK_INT(count_entries(cache), 1);
	stitch_fetch_item_release(&it);
	free(got);
	free(want);
	free(cache);
	free(u);
}

static void test_no_checksum_given(void)
{
	char sha[65];
	char *u = url("ok/b.txt"), *cache = new_cache(), *want;
	struct stitch_fetch_item it = {.url = u};

	content_of("b.txt", sha);
	CHECK_INT(fetch_one(&it, cache, 0, NULL), 0);
	CHECK_STR(it.sha256_out, sha);
	want = xasprintf("%s/%s", cache, sha);
	CHECK_STR(it.path, want);
	stitch_fetch_item_release(&it);
	free(want);
	free(cache);
	free(u);
}

static void test_already_cached(void)
{
	char sha[65];
	char *u = url("ok/c.txt"), *cache = new_cache();
	struct stitch_fetch_item it = {.url = u, .sha256 = sha};
	struct events ev = {0};

	content_of("c.txt", sha);
	CHECK_INT(fetch_one(&it, cache, 0, &ev), 0);
	CHECK(!it.from_cache);
	stitch_fetch_item_release(&it);
	CHECK_INT(served("/ok/c.txt"), 1);

	CHECK_INT(fetch_one(&it, cache, 0, &ev), 0);
	CHECK(it.from_cache);
	CHECK_STR(it.sha256_out, sha);
	CHECK(it.path && access(it.path, R_OK) == 0);
	CHECK_INT(ev.cached, 1);
	CHECK_INT(served("/ok/c.txt"), 1);
	stitch_fetch_item_release(&it);
	free(cache);
	free(u);
}

static void test_checksum_mismatch(void)
{
	char sha[65], wrong[65], msg[1024];
	char *u = url("ok/a.txt"), *cache = new_cache();
	struct stitch_fetch_item it = {.url = u, .sha256 = wrong, .label = "tcp 1.1.0"};
	struct events ev = {0};

	content_of("a.txt", sha);
	stitch_sha256_hex("something else", 14, wrong);
	CHECK_INT(fetch_one(&it, cache, 0, &ev), STITCH_E_IO);
	snprintf(msg, sizeof(msg),
	         "cannot fetch 'tcp 1.1.0': checksum mismatch for %s: expected %s, got %s", u,
	         wrong, sha);
	CHECK_STR(it.err.msg, msg);
	CHECK(it.path == NULL);
	CHECK_INT(count_entries(cache), 0); /* no temp file left, nothing kept */
	CHECK_INT(ev.failed, 1);
	stitch_fetch_item_release(&it);
	free(cache);
	free(u);
}

static void test_404_not_retried(void)
{
	char *u = url("404/tcp-1.1.0.tar.gz"), *cache = new_cache(), *msg;
	struct stitch_fetch_item it = {.url = u, .label = "tcp 1.1.0"};
	struct events ev = {0};

	CHECK_INT(fetch_one(&it, cache, 3, &ev), STITCH_E_NOTFOUND);
	msg = xasprintf("cannot fetch 'tcp 1.1.0': HTTP 404 from %s", u);
	CHECK_STR(it.err.msg, msg);
	CHECK_INT(served("/404/tcp-1.1.0.tar.gz"), 1);
	CHECK_INT(ev.retry, 0);
	CHECK_INT(count_entries(cache), 0);
	stitch_fetch_item_release(&it);
	free(msg);
	free(cache);
	free(u);
}

/* Failures that another attempt cannot mend are tried once. */
static void test_permanent_not_retried(void)
{
	static const char *const paths[] = {"redirect-file/tcp-1.1.0.tar.gz",
	                                    "endless/tcp-1.1.0.tar.gz", "garbage/tcp-1.1.0.tar.gz"};
	static const char *const why[] = {"refused a redirect to file://",
	                                  "larger than the download limit of 100000 bytes",
	                                  "did not send an archive"};
	char *cache = new_cache(), *path;

	for (size_t i = 0; i < 3; i++) {
		char *u = url(paths[i]);
		struct stitch_fetch_item it = {.url = u, .label = "tcp 1.1.0"};
		struct events ev = {0};
		struct stitch_err err = STITCH_ERR_INIT;
		struct stitch_fetch_opts o = {.cache_dir = cache,
		                              .retries = 3,
		                              .retry_base_ms = 20,
		                              .max_bytes = 100000,
		                              .archives = true,
		                              .on_event = on_event,
		                              .data = &ev};
		CHECK(stitch_fetch_all(&it, 1, &o, &err) != 0);
		CHECK(contains(it.err.msg, u));
		CHECK(contains(it.err.msg, why[i]));
		path = xasprintf("/%s", paths[i]);
		CHECK_INT(served(path), 1);
		CHECK_INT(ev.retry, 0);
		CHECK_INT(count_entries(cache), 0);
		stitch_fetch_item_release(&it);
		free(path);
		free(u);
	}
	free(cache);
}

/* A malformed URL is not retried either (nothing is served: count the events). */
static void test_malformed_not_retried(void)
{
	char *cache = new_cache();
	struct stitch_fetch_item it = {.url = "http://127.0.0.1:99999999/x.tar.gz"};
	struct events ev = {0};

	CHECK(fetch_one(&it, cache, 3, &ev) != 0);
	CHECK_INT(ev.retry, 0);
	CHECK_INT(ev.failed, 1);
	stitch_fetch_item_release(&it);
	free(cache);
}

/* The total time limit covers every attempt: a drip fails once, in time. */
static void test_total_time_limit(void)
{
	char *u = url("drip/tcp-1.1.0.tar.gz"), *cache = new_cache();
	struct stitch_fetch_item it = {.url = u, .label = "tcp 1.1.0"};
	struct events ev = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_fetch_opts o = {.cache_dir = cache,
	                              .retries = 3,
	                              .retry_base_ms = 20,
	                              .total_timeout_s = 2,
	                              .on_event = on_event,
	                              .data = &ev};
	time_t t0 = time(NULL);

	CHECK(stitch_fetch_all(&it, 1, &o, &err) != 0);
	CHECK(time(NULL) - t0 <= 4);
	CHECK(contains(it.err.msg, "took longer than the limit of 2 s"));
	CHECK_INT(served("/drip/tcp-1.1.0.tar.gz"), 1);
	CHECK_INT(count_entries(cache), 0);
	stitch_fetch_item_release(&it);
	free(cache);
	free(u);
}

static void test_500_then_200_retried(void)
{
	char sha[65];
	char *u = url("fail-once/a.txt"), *cache = new_cache();
	struct stitch_fetch_item it = {.url = u, .sha256 = sha};
	struct events ev = {0};

	content_of("a.txt", sha);
	CHECK_INT(fetch_one(&it, cache, 3, &ev), 0);
	CHECK_INT(served("/fail-once/a.txt"), 2);
	CHECK_INT(ev.retry, 1);
	CHECK_INT(ev.done, 1);
	CHECK_STR(it.err.msg, "");
	CHECK_INT(count_entries(cache), 1);
	stitch_fetch_item_release(&it);
	free(cache);
	free(u);
}

static void test_truncated_never_kept(void)
{
	char sha[65];
	char *u = url("truncate/big.txt"), *cache = new_cache();
	struct stitch_fetch_item it = {.url = u};
	struct events ev = {0};

	content_of("big.txt", sha);
	/* no expected hash: only the length tells the body is short */
	CHECK_INT(fetch_one(&it, cache, 2, &ev), STITCH_E_IO);
	CHECK(contains(it.err.msg, "truncated body"));
	CHECK(contains(it.err.cause, "gave up after 3 attempts"));
	CHECK_INT(served("/truncate/big.txt"), 3);
	CHECK_INT(ev.retry, 2);
	CHECK(it.path == NULL);
	CHECK_INT(count_entries(cache), 0);
	stitch_fetch_item_release(&it);
	free(cache);
	free(u);
}

static void test_stalled_times_out(void)
{
	char sha[65];
	char *u = url("stall/a.txt"), *cache = new_cache();
	struct stitch_fetch_item it = {.url = u, .sha256 = sha};

	content_of("a.txt", sha);
	CHECK_INT(fetch_one(&it, cache, -1, NULL), STITCH_E_IO); /* low_speed_time_s = 2 */
	CHECK(contains(it.err.msg, "timed out"));
	CHECK_INT(served("/stall/a.txt"), 1);
	CHECK_INT(count_entries(cache), 0);
	stitch_fetch_item_release(&it);
	free(cache);
	free(u);
}

static void test_reset_retried_then_fails(void)
{
	char *u = url("reset/a.txt"), *cache = new_cache();
	struct stitch_fetch_item it = {.url = u};

	CHECK_INT(fetch_one(&it, cache, 1, NULL), STITCH_E_IO);
	CHECK(contains(it.err.msg, "cannot fetch 'a.txt' from http://"));
	CHECK_INT(served("/reset/a.txt"), 2);
	CHECK_INT(count_entries(cache), 0);
	stitch_fetch_item_release(&it);
	free(cache);
	free(u);
}

static void test_connection_refused(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char *u, *cache = new_cache();
	struct stitch_fetch_item it = {0};
	struct events ev = {0};

	/* a port that was just free: nothing listens there */
	bind(s, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(s, (struct sockaddr *)&sa, &len);
	close(s);
	u = xasprintf("http://127.0.0.1:%d/ok/a.txt", ntohs(sa.sin_port));
	it.url = u;
	CHECK_INT(fetch_one(&it, cache, 1, &ev), STITCH_E_IO);
	CHECK(contains(it.err.msg, "connection refused"));
	CHECK_INT(ev.retry, 1);
	CHECK_INT(count_entries(cache), 0);
	stitch_fetch_item_release(&it);
	free(cache);
	free(u);
}

static void test_redirects(void)
{
	char sha[65];
	char *u = url("redirect/a.txt"), *loop = url("loop/x"), *cache = new_cache();
	struct stitch_fetch_item it = {.url = u, .sha256 = sha};

	content_of("a.txt", sha);
	CHECK_INT(fetch_one(&it, cache, 0, NULL), 0);
	stitch_fetch_item_release(&it);

	it = (struct stitch_fetch_item){.url = loop};
	CHECK_INT(fetch_one(&it, cache, 3, NULL), STITCH_E_IO);
	CHECK(contains(it.err.msg, "more than 5 redirects"));
	CHECK_INT(served("/loop/x"), 6); /* the first request and 5 redirects, no retry */
	CHECK_INT(count_entries(cache), 1);
	stitch_fetch_item_release(&it);
	free(cache);
	free(loop);
	free(u);
}

static void test_local_files(void)
{
	char sha[65];
	const char *body = content_of("a.txt", sha);
	char *abs = xasprintf("%s/a.txt", files), *furl = xasprintf("file://%s", abs);
	char *missing = xasprintf("%s/missing.txt", files), *cache = new_cache(), *got;
	struct stitch_fetch_item items[3] = {
	    {.url = abs, .sha256 = sha},
	    {.url = furl},
	    {.url = missing, .label = "gone 1.0"},
	};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_fetch_opts o = {.cache_dir = cache};

	CHECK_INT(stitch_fetch_all(items, 3, &o, &err), STITCH_E_NOTFOUND);
	CHECK_INT(items[0].status, 0);
	CHECK_INT(items[1].status, 0);
	CHECK_STR(items[1].sha256_out, sha);
	got = items[0].path ? read_path(items[0].path) : NULL;
	CHECK_STR(got, body);
	CHECK(contains(items[2].err.msg, "cannot fetch 'gone 1.0': cannot open "));
	CHECK_STR(err.msg, items[2].err.msg);
	CHECK_INT(count_entries(cache), 1);
	for (int i = 0; i < 3; i++)
		stitch_fetch_item_release(&items[i]);

	/* same cache semantics as remote: the second time nothing is read */
	CHECK_INT(stitch_fetch_all(items, 1, &o, &err), 0);
	CHECK(items[0].from_cache);
	stitch_fetch_item_release(&items[0]);
	free(got);
	free(cache);
	free(missing);
	free(furl);
	free(abs);
}

static void test_many_at_once(void)
{
	enum { N = 20 };
	struct stitch_fetch_item items[N];
	char shas[N][65], names[N][32];
	char *urls[N], *cache = new_cache();
	struct events ev = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_fetch_opts o = {
	    .cache_dir = cache, .parallel = 8, .on_event = on_event, .data = &ev};
	json_t *conn;

	json_decref(server_json("_reset"));
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02d.txt", i);
		content_of(names[i], shas[i]);
		char *p = xasprintf("slow/%s", names[i]);
		urls[i] = url(p);
		free(p);
		items[i] = (struct stitch_fetch_item){.url = urls[i], .sha256 = shas[i]};
	}
	CHECK_INT(stitch_fetch_all(items, N, &o, &err), 0);
	CHECK_INT(ev.start, N);
	CHECK_INT(ev.done, N);
	CHECK_INT(count_entries(cache), N);
	for (int i = 0; i < N; i++) {
		CHECK_INT(items[i].status, 0);
		CHECK_STR(items[i].sha256_out, shas[i]);
		stitch_fetch_item_release(&items[i]);
		free(urls[i]);
	}
	/* 300 ms per answer: the transfers overlapped, never more than 8 at once */
	conn = server_json("_conn");
	long peak = (long)json_integer_value(json_object_get(conn, "peak"));
	CHECK(peak >= 4 && peak <= 9); /* 9: the _conn request itself */
	json_decref(conn);
	free(cache);
}

static void test_mixed_batch(void)
{
	char sha[65];
	char *ok = url("ok/a.txt"), *bad = url("404/x"), *cache = new_cache();
	struct stitch_fetch_item items[3] = {
	    {.url = ok, .sha256 = sha},
	    {.url = bad, .label = "x 1"},
	    {.url = "ftp://example.org/x.tar.gz"},
	};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_fetch_opts o = {.cache_dir = cache};

	content_of("a.txt", sha);
	CHECK_INT(stitch_fetch_all(items, 3, &o, &err), STITCH_E_NOTFOUND);
	CHECK_INT(items[0].status, 0);
	CHECK_INT(items[1].status, STITCH_E_NOTFOUND);
	CHECK_INT(items[2].status, STITCH_E_USAGE);
	CHECK(contains(items[2].err.msg, "unsupported URL ftp://"));
	CHECK_STR(err.msg, items[1].err.msg);
	for (int i = 0; i < 3; i++)
		stitch_fetch_item_release(&items[i]);
	free(cache);
	free(bad);
	free(ok);
}

static void test_bad_input(void)
{
	char *cache = new_cache();
	struct stitch_fetch_item it = {.url = "/nonexistent", .sha256 = "ABC"};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_fetch_opts o = {.cache_dir = cache};
	struct stitch_fetch_opts none = {0};

	CHECK_INT(stitch_fetch_all(&it, 1, &o, &err), STITCH_E_USAGE);
	CHECK(contains(it.err.msg, "malformed sha256 'ABC'"));
	CHECK_INT(stitch_fetch_all(&it, 1, &none, &err), STITCH_E_USAGE);
	CHECK(contains(err.msg, "no cache directory"));
	CHECK_INT(stitch_fetch_all(NULL, 0, &o, &err), 0);
	stitch_fetch_item_release(&it);
	free(cache);
}

static void test_document_conditional(void)
{
	char *u = url("etag/doc.json"), *dest = xasprintf("%s/doc.json", tmpdir);
	char *vpath = xasprintf("%s.validators", dest), *got;
	struct stitch_err err = STITCH_ERR_INIT;
	bool changed = false;

	write_file(files, "doc.json", "{\"version\": 1}\n");
	CHECK_INT(stitch_fetch_document(u, dest, NULL, &changed, &err), 0);
	CHECK(changed);
	got = read_path(dest);
	CHECK_STR(got, "{\"version\": 1}\n");
	free(got);
	CHECK(access(vpath, R_OK) == 0);

	CHECK_INT(stitch_fetch_document(u, dest, NULL, &changed, &err), 0);
	CHECK(!changed);
	CHECK_INT(served("/etag/doc.json"), 2);

	write_file(files, "doc.json", "{\"version\": 2}\n");
	CHECK_INT(stitch_fetch_document(u, dest, NULL, &changed, &err), 0);
	CHECK(changed);
	got = read_path(dest);
	CHECK_STR(got, "{\"version\": 2}\n");
	free(got);
	CHECK_INT(temp_files(tmpdir), 0);

	/* without validators, a full GET whose body is unchanged is not a change */
	unlink(vpath);
	CHECK_INT(stitch_fetch_document(u, dest, NULL, &changed, &err), 0);
	CHECK(!changed);
	free(vpath);
	free(dest);
	free(u);
}

static void test_document_errors_keep_dest(void)
{
	char *u = url("404/doc.json"), *dest = xasprintf("%s/kept.json", tmpdir), *got;
	struct stitch_fetch_opts o = {.retries = -1};
	struct stitch_err err = STITCH_ERR_INIT;
	bool changed = true;

	write_file(tmpdir, "kept.json", "old\n");
	CHECK_INT(stitch_fetch_document(u, dest, &o, &changed, &err), STITCH_E_NOTFOUND);
	CHECK(!changed);
	CHECK(contains(err.msg, "HTTP 404 from "));
	got = read_path(dest);
	CHECK_STR(got, "old\n");
	free(got);
	free(dest);
	free(u);

	/* truncated: dest untouched, no temporary file next to it */
	u = url("truncate/big.txt");
	dest = xasprintf("%s/docs/trunc.json", tmpdir);
	char *dir = xasprintf("%s/docs", tmpdir);
	mkdir(dir, 0755);
	o.retries = 1;
	o.retry_base_ms = 10;
	CHECK_INT(stitch_fetch_document(u, dest, &o, &changed, &err), STITCH_E_IO);
	CHECK(contains(err.msg, "truncated body"));
	CHECK_INT(count_entries(dir), 0);
	free(dir);
	free(dest);
	free(u);
}

static void test_document_local(void)
{
	char *src = xasprintf("%s/local-doc.json", files), *u = xasprintf("file://%s", src);
	char *dest = xasprintf("%s/local-copy.json", tmpdir);
	struct stitch_err err = STITCH_ERR_INIT;
	bool changed = false;

	write_file(files, "local-doc.json", "[1]\n");
	CHECK_INT(stitch_fetch_document(u, dest, NULL, &changed, &err), 0);
	CHECK(changed);
	CHECK_INT(stitch_fetch_document(src, dest, NULL, &changed, &err), 0);
	CHECK(!changed);
	write_file(files, "local-doc.json", "[2]\n");
	CHECK_INT(stitch_fetch_document(u, dest, NULL, &changed, &err), 0);
	CHECK(changed);
	free(dest);
	free(u);
	free(src);
}

/* ------------------------------------------------------------------- main */

/* A hung test must not hang `make check`: fail loudly after WATCHDOG_S. */
#define WATCHDOG_S 120

static void on_alarm(int sig)
{
	static const char msg[] = "# test_fetch: still running after 120 s\nnot ok - watchdog\n";

	(void)sig;
	if (server_pid > 0)
		kill(-server_pid, SIGKILL);
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static void make_files(void)
{
	struct stitch_buf big = STITCH_BUF_INIT;
	char name[32], body[64];

	files = xasprintf("%s/files", tmpdir);
	mkdir(files, 0755);
	write_file(files, "a.txt", "the contents of a\n");
	write_file(files, "b.txt", "the contents of b\n");
	write_file(files, "c.txt", "the contents of c\n");
	for (int i = 0; i < 100000 / 16; i++)
		stitch_buf_addf(&big, "line %09d\n", i);
	write_file(files, "big.txt", big.buf);
	stitch_buf_release(&big);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "f%02d.txt", i);
		snprintf(body, sizeof(body), "file number %d\n", i);
		write_file(files, name, body);
	}
}

static void remove_tree(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		execlp("rm", "rm", "-rf", path, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(WATCHDOG_S);
	if (!mkdtemp(tmpdir)) {
		printf("# mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	make_files();
	start_server();

	RUN(test_success);
	RUN(test_no_checksum_given);
	RUN(test_already_cached);
	RUN(test_checksum_mismatch);
	RUN(test_404_not_retried);
	RUN(test_permanent_not_retried);
	RUN(test_malformed_not_retried);
	RUN(test_total_time_limit);
	RUN(test_500_then_200_retried);
	RUN(test_truncated_never_kept);
	RUN(test_stalled_times_out);
	RUN(test_reset_retried_then_fails);
	RUN(test_connection_refused);
	RUN(test_redirects);
	RUN(test_local_files);
	RUN(test_many_at_once);
	RUN(test_mixed_batch);
	RUN(test_bad_input);
	RUN(test_document_conditional);
	RUN(test_document_errors_keep_dest);
	RUN(test_document_local);

	stop_server();
	remove_tree(tmpdir);
	free(files);
	stitch_fetch_global_cleanup();
	return test_summary();
}
