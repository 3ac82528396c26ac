/* libc_string.c: the mem* and str* functions. */
#include "libc.h"

/*
 * x86 reads and writes words at any alignment, and under QEMU's TCG every
 * guest instruction costs: copy and fill 8 bytes at a time, the tail byte
 * by byte.  gcc is told (-fno-tree-loop-distribute-patterns) not to turn
 * these loops back into calls to themselves.
 */
typedef uint64_t __attribute__((may_alias, aligned(1))) word;

void *LIBC(memcpy)(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(word *)d = *(const word *)s;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *LIBC(memmove)(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s || d >= s + n)
		return LIBC(memcpy)(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *LIBC(memset)(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t w = 0x0101010101010101ull * (unsigned char)c;

	for (; n >= 8; n -= 8, d += 8)
		*(word *)d = w;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int LIBC(memcmp)(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *LIBC(memchr)(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

size_t LIBC(strlen)(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t LIBC(strnlen)(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int LIBC(strcmp)(const char *a, const char *b)
{
	return LIBC(strncmp)(a, b, (size_t)-1);
}

int LIBC(strncmp)(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int LIBC(strcasecmp)(const char *a, const char *b)
{
	return LIBC(strncasecmp)(a, b, (size_t)-1);
}

int LIBC(strncasecmp)(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int x = lower((unsigned char)*a), y = lower((unsigned char)*b);

		if (x != y || !x)
			return x - y;
	}
	return 0;
}

char *LIBC(strchr)(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *LIBC(strrchr)(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *LIBC(strstr)(const char *hay, const char *needle)
{
	size_t n = LIBC(strlen)(needle);

	for (; *hay; hay++)
		if (LIBC(strncmp)(hay, needle, n) == 0)
			return (char *)hay;
	return n == 0 ? (char *)hay : NULL;
}

/* The length of the prefix of s whose bytes are (in == 1) or are not (in == 0) in set. */
static size_t span(const char *s, const char *set, int in)
{
	size_t n = 0;

	while (s[n] && (LIBC(strchr)(set, s[n]) != NULL) == in)
		n++;
	return n;
}

size_t LIBC(strspn)(const char *s, const char *accept)
{
	return span(s, accept, 1);
}

size_t LIBC(strcspn)(const char *s, const char *reject)
{
	return span(s, reject, 0);
}
