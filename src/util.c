#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
/* SHA256_Init and friends: deprecated in OpenSSL 3 in favour of EVP, whose lookup is the cost avoided here. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char stitch_buf_empty[1];

void stitch_die_oom(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *stitch_map_huge(size_t len, bool populate)
{
	char *p, *a;

	if (len < 2 * STITCH_HUGE_ALIGN) {
		/* Small: a huge page would be mostly cleared for nothing. */
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
		if (p == MAP_FAILED)
			stitch_die_oom(len);
		return p;
	}
	p = mmap(NULL, len + STITCH_HUGE_ALIGN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	         -1, 0);
	if (p == MAP_FAILED)
		stitch_die_oom(len);
	a = (char *)(((uintptr_t)p + STITCH_HUGE_ALIGN - 1) & ~(uintptr_t)(STITCH_HUGE_ALIGN - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + len + STITCH_HUGE_ALIGN)
		munmap(a + len, (size_t)(p + len + STITCH_HUGE_ALIGN - (a + len)));
	madvise(a, len, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	/* Older kernels refuse it: the pages then come one fault at a time. */
	if (populate)
		madvise(a, len, MADV_POPULATE_WRITE);
#else
	(void)populate;
#endif
	return a;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		stitch_die_oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		stitch_die_oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		stitch_die_oom(n);
	return q;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xasprintf(const char *fmt, ...)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return xstrdup("");
	stitch_buf_grow(&b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len = (size_t)n;
	return stitch_buf_detach(&b, NULL);
}

void *xgrow(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t n;

	if (need <= *cap)
		return arr;
	n = *cap ? *cap : 8;
	while (n < need)
		n = n + n / 2 + 8;
	if (n > SIZE_MAX / size)
		stitch_die_oom(SIZE_MAX);
	*cap = n;
	return xrealloc(arr, n * size);
}

void stitch_buf_init(struct stitch_buf *b)
{
	b->buf = stitch_buf_empty;
	b->len = 0;
	b->alloc = 0;
}

void stitch_buf_release(struct stitch_buf *b)
{
	if (b->alloc)
		free(b->buf);
	stitch_buf_init(b);
}

void stitch_buf_grow(struct stitch_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->alloc)
		return;
	if (!b->alloc) {
		size_t cap = 0;
		b->buf = xgrow(NULL, &cap, need, 1);
		b->alloc = cap;
		b->buf[0] = '\0';
		return;
	}
	b->buf = xgrow(b->buf, &b->alloc, need, 1);
}

void stitch_buf_add(struct stitch_buf *b, const void *data, size_t len)
{
	stitch_buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void stitch_buf_adds(struct stitch_buf *b, const char *s)
{
	stitch_buf_add(b, s, strlen(s));
}

void stitch_buf_addch(struct stitch_buf *b, char c)
{
	stitch_buf_add(b, &c, 1);
}

void stitch_buf_addf(struct stitch_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	stitch_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void stitch_buf_reset(struct stitch_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}

char *stitch_buf_detach(struct stitch_buf *b, size_t *len)
{
	char *p;

	if (!b->alloc)
		stitch_buf_grow(b, 0);
	p = b->buf;
	if (len)
		*len = b->len;
	stitch_buf_init(b);
	return p;
}

struct stitch_sha256 {
	SHA256_CTX c;
};

struct stitch_sha256 *stitch_sha256_new(void)
{
	struct stitch_sha256 *h = xmalloc(sizeof(*h));

	SHA256_Init(&h->c);
	return h;
}

void stitch_sha256_update(struct stitch_sha256 *h, const void *data, size_t len)
{
	SHA256_Update(&h->c, data, len);
}

void stitch_sha256_final(struct stitch_sha256 *h, unsigned char out[32])
{
	SHA256_Final(out, &h->c);
	free(h);
}

void stitch_sha256_free(struct stitch_sha256 *h)
{
	free(h);
}

void stitch_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

void stitch_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	SHA256_CTX c;

	/* Not SHA256(): in OpenSSL 3 that one goes through EVP's lookup. */
	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(md, &c);
	stitch_hex(md, sizeof(md), out);
}

int stitch_sha256_file(const char *path, char out[65])
{
	unsigned char md[32], buf[65536];
	struct stitch_sha256 *h;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	h = stitch_sha256_new();
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			stitch_sha256_free(h);
			close(fd);
			errno = e;
			return -1;
		}
		stitch_sha256_update(h, buf, (size_t)n);
	}
	close(fd);
	stitch_sha256_final(h, md);
	stitch_hex(md, sizeof(md), out);
	return 0;
}

int stitch_mkdir_p(const char *path, unsigned mode)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
		rc = -1;
	else
		rc = 0;
	free(p);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if (type == FTW_DP)
		return rmdir(path) != 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) != 0 && errno != ENOENT ? -1 : 0;
}

int stitch_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

int stitch_run_capture(char *const *argv, struct stitch_buf *out, size_t max)
{
	int fds[2], status;
	pid_t pid;
	char chunk[8192];
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(fds[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (out->len + (size_t)n <= max)
			stitch_buf_add(out, chunk, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

int stitch_read_file(const char *path, struct stitch_buf *out, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && max && (size_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	stitch_buf_grow(out, fstat(fd, &st) == 0 ? (size_t)st.st_size : 0);
	for (;;) {
		ssize_t n;
		stitch_buf_grow(out, 65536);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (max && out->len + (size_t)(n > 0 ? n : 0) > max)) {
			int e = n < 0 ? errno : EFBIG;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	out->buf[out->len] = '\0';
	close(fd);
	return 0;
}

int stitch_write_file(const char *path, const void *data, size_t len, bool sync)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), e = 0;
	const char *p = data;
	size_t left = len;

	if (fd < 0) {
		e = errno;
		goto out;
	}
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	if (!e && sync && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
out:
	if (e)
		unlink(tmp);
	free(tmp);
	errno = e;
	return e ? -1 : 0;
}

size_t stitch_replace_all(const char *data, size_t len, const char *from, const char *to,
                          struct stitch_buf *out)
{
	size_t flen = strlen(from), n = 0, i = 0;
	const char *p;

	while (i < len && (p = memmem(data + i, len - i, from, flen)) != NULL) {
		stitch_buf_add(out, data + i, (size_t)(p - (data + i)));
		stitch_buf_adds(out, to);
		i = (size_t)(p - data) + flen;
		n++;
	}
	stitch_buf_add(out, data + i, len - i);
	return n;
}

double stitch_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
