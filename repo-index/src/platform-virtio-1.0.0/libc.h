/*
 * libc.h: the freestanding C library inside platform-virtio.  Not installed.
 *
 * The stack and the application are compiled by the host gcc against
 * glibc's headers, so these functions keep glibc's names and ABI; an image
 * links nothing from the host's C library.  Only what the stack and the
 * applications use is here.
 *
 * The unit tests compile the same sources on the host with LIBC_TEST
 * defined: every name then gets a test_ prefix, so the tests can compare
 * these functions with the host's own.
 */
#ifndef PLAT_LIBC_H
#define PLAT_LIBC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef LIBC_TEST
#define LIBC(name) test_##name
#else
#define LIBC(name) name
#endif

void *LIBC(memcpy)(void *restrict dst, const void *restrict src, size_t n);
void *LIBC(memmove)(void *dst, const void *src, size_t n);
void *LIBC(memset)(void *dst, int c, size_t n);
int LIBC(memcmp)(const void *a, const void *b, size_t n);
void *LIBC(memchr)(const void *s, int c, size_t n);
size_t LIBC(strlen)(const char *s);
size_t LIBC(strnlen)(const char *s, size_t max);
int LIBC(strcmp)(const char *a, const char *b);
int LIBC(strncmp)(const char *a, const char *b, size_t n);
int LIBC(strcasecmp)(const char *a, const char *b);
int LIBC(strncasecmp)(const char *a, const char *b, size_t n);
char *LIBC(strchr)(const char *s, int c);
char *LIBC(strrchr)(const char *s, int c);
char *LIBC(strstr)(const char *hay, const char *needle);
size_t LIBC(strspn)(const char *s, const char *accept);
size_t LIBC(strcspn)(const char *s, const char *reject);

/* Formatting: %d %i %u %x %X %o %c %s %p %% with flags, width, precision
 * and the hh h l ll z j t lengths.  No floating point. */
int LIBC(vsnprintf)(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);
int LIBC(snprintf)(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The allocator: power-of-two size classes over one region, each class a
 * free list.  Freed blocks are reused for their class only, so memory use
 * stays bounded by the peak of each class; no block ever splits or merges.
 * Out of memory returns NULL with errno ENOMEM.
 */
void plat_heap_init(void *base, size_t size);
void *LIBC(malloc)(size_t size);
void LIBC(free)(void *p);
void *LIBC(calloc)(size_t n, size_t size);
void *LIBC(realloc)(void *p, size_t size);

int *LIBC(__errno_location)(void);
#define PLAT_ENOMEM 12
#define PLAT_EINVAL 22

#endif
