/*
 * Sinks: a temporary file created next to its final name, hashed with
 * SHA-256 as it is written.  See fetch_int.h.
 */
#include "fetch_int.h"
#include "util.h"

#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Create prefix + "XXXXXX"; returns 0 or an errno value. */
int fetch_sink_open(struct sink *s, const char *prefix)
{
	s->tmp = xasprintf("%sXXXXXX", prefix);
	s->fd = mkostemp(s->tmp, O_CLOEXEC);
	if (s->fd < 0) {
		int e = errno;
		free(s->tmp);
		s->tmp = NULL;
		return e;
	}
	s->md = EVP_MD_CTX_new();
	if (!s->md || !EVP_DigestInit_ex(s->md, stitch_sha256_md(), NULL)) {
		fprintf(stderr, "fatal: cannot initialise SHA-256\n");
		abort();
	}
	s->werr = 0;
	return 0;
}

int fetch_sink_write(struct sink *s, const char *p, size_t len)
{
	EVP_DigestUpdate(s->md, p, len);
	while (len) {
		ssize_t w = write(s->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->werr = errno;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Close the file and remove it. */
void fetch_sink_discard(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->tmp) {
		unlink(s->tmp);
		free(s->tmp);
		s->tmp = NULL;
	}
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}

static void hex_encode(const unsigned char *md, unsigned int len, char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned int i = 0; i < len && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/*
 * Make the written file durable and readable, close it and compute its
 * hash.  The file stays (s->tmp) for the caller to rename or discard.
 * Returns 0 or an errno value.
 */
int fetch_sink_close(struct sink *s, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int e = 0;

	/* fsync before the rename: after a crash, a name is whole content or absent */
	if (fchmod(s->fd, 0644) < 0 || fsync(s->fd) < 0)
		e = errno;
	if (close(s->fd) < 0 && !e)
		e = errno;
	s->fd = -1;
	EVP_DigestFinal_ex(s->md, md, &mdlen);
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	hex_encode(md, mdlen, hex);
	return e;
}

/* Hash a whole file; returns 0 or an errno value. */
int fetch_hash_file(const char *path, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char buf[65536];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, stitch_sha256_md(), NULL);
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			EVP_MD_CTX_free(ctx);
			close(fd);
			return e;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	close(fd);
	hex_encode(md, mdlen, hex);
	return 0;
}
