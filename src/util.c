#include "util.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char stitch_buf_empty[1];

static void die_oom(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom(n);
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
		die_oom(SIZE_MAX);
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

void stitch_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
}
