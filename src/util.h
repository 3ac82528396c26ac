/*
 * Memory helpers, growable buffers and string slices.
 *
 * Out-of-memory policy (see error.h): x* allocators abort with a message.
 */
#ifndef STITCH_UTIL_H
#define STITCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Print that n bytes could not be allocated, and abort (as xmalloc does). */
void stitch_die_oom(size_t n) __attribute__((noreturn));

/*
 * Large arrays.  A zeroed mapping of len bytes, aligned to
 * STITCH_HUGE_ALIGN and asking for transparent huge pages (from twice
 * that size: smaller ones get plain pages):
 * fresh memory costs a page fault per 4 KiB page touched, and on virtual
 * machines those faults, and the TLB misses of reading it, cost more than
 * the work done in the memory.  With populate, every page is faulted in
 * now, in one call, for memory that is about to be filled.  Freed with
 * munmap.
 */
#define STITCH_HUGE_ALIGN ((size_t)2 << 20)
void *stitch_map_huge(size_t len, bool populate);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A freshly allocated formatted string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), nonnull(1)));

/* Grow *arr (of *cap elements of size) so that it holds at least need. */
void *xgrow(void *arr, size_t *cap, size_t need, size_t size);
#define XGROW(arr, cap, need) \
	((need) <= (cap) ? (void)0 : (void)((arr) = xgrow((arr), &(cap), (need), sizeof(*(arr)))))

/* A non-owning slice of a string. */
struct stitch_str {
	const char *ptr;
	size_t len;
};

/*
 * A growable byte buffer.  Invariants: buf is never NULL (an empty buffer
 * points at a shared static ""), buf[len] == '\0', len < alloc unless
 * alloc == 0.  `max` (0 = unlimited) bounds the size when the buffer holds
 * untrusted input; stitch_buf_add_limited reports when it would pass it.
 */
struct stitch_buf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char stitch_buf_empty[];
#define STITCH_BUF_INIT                \
	{                              \
		stitch_buf_empty, 0, 0 \
	}

void stitch_buf_init(struct stitch_buf *b);
void stitch_buf_release(struct stitch_buf *b);
void stitch_buf_grow(struct stitch_buf *b, size_t extra);
void stitch_buf_add(struct stitch_buf *b, const void *data, size_t len);
void stitch_buf_adds(struct stitch_buf *b, const char *s);
void stitch_buf_addch(struct stitch_buf *b, char c);
void stitch_buf_addf(struct stitch_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), nonnull(2)));
void stitch_buf_reset(struct stitch_buf *b);
/* Hand the allocation to the caller (never NULL); the buffer is reset. */
char *stitch_buf_detach(struct stitch_buf *b, size_t *len);

/*
 * SHA-256, incrementally: new, update any number of times, final (which
 * frees it).  libcrypto's SHA-256 without its provider lookup: the first
 * EVP fetch of OpenSSL 3 builds a table of every algorithm's names, a
 * third of what a no-op command costs.
 */
struct stitch_sha256;
struct stitch_sha256 *stitch_sha256_new(void);
void stitch_sha256_update(struct stitch_sha256 *h, const void *data, size_t len);
void stitch_sha256_final(struct stitch_sha256 *h, unsigned char out[32]);
/* Free without a result (an error path). */
void stitch_sha256_free(struct stitch_sha256 *h);
/* n bytes as lowercase hex into out (2n + 1 bytes). */
void stitch_hex(const unsigned char *bytes, size_t n, char *out);
/* Lowercase hex SHA-256 of data into out (65 bytes). */
void stitch_sha256_hex(const void *data, size_t len, char out[65]);
/* SHA-256 of a file's contents; -1 with errno set when it cannot be read. */
int stitch_sha256_file(const char *path, char out[65]);

/* mkdir -p; 0 or -1 with errno set. */
int stitch_mkdir_p(const char *path, unsigned mode);
/* rm -rf without following symlinks; 0 or -1 with errno set.  A missing path is fine. */
int stitch_rm_rf(const char *path);

/*
 * Run argv (no shell, PATH looked up) and collect its standard output into
 * out (at most max bytes are kept); stderr goes to /dev/null.  Returns the
 * wait status, or -1 when it could not be started.
 */
int stitch_run_capture(char *const *argv, struct stitch_buf *out, size_t max);

/*
 * Read a whole file into out (NUL-terminated; out->len excludes it).  At
 * most max bytes (0: no limit): a larger file fails with EFBIG.  0, or -1
 * with errno set.
 */
int stitch_read_file(const char *path, struct stitch_buf *out, size_t max);

/*
 * Replace path with data: written to a temporary file beside it (synced
 * first when sync) and renamed over it, so path is the old or the new
 * content.  0, or -1 with errno set (the temporary file is gone).
 */
int stitch_write_file(const char *path, const void *data, size_t len, bool sync);

/* data with every occurrence of from replaced by to, appended to out; how many. */
size_t stitch_replace_all(const char *data, size_t len, const char *from, const char *to,
                          struct stitch_buf *out);

/* Seconds on the monotonic clock. */
double stitch_now(void);

#endif
