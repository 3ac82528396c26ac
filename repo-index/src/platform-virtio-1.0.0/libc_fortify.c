/*
 * libc_fortify.c: glibc's checked variants, which code built with
 * _FORTIFY_SOURCE (the default of some distributions' gcc at -O1 and up)
 * calls when gcc knows a destination's size.  Each checks that size, then
 * does the plain function's work; an overflow ends the image as abort().
 */
#include "libc.h"
#include "platform.h"

typedef struct plat_file FILE; /* opaque here, as in libc_misc.c */

int vprintf(const char *fmt, va_list ap);
int vfprintf(FILE *f, const char *fmt, va_list ap);
void abort(void) __attribute__((noreturn));

static void overflow(void)
{
	static const char msg[] = "platform-virtio: buffer overflow detected\n";

	plat_console_write(msg, sizeof(msg) - 1);
	abort();
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		overflow();
	return memcpy(dst, src, n);
}

void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		overflow();
	return memmove(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
	if (n > dstlen)
		overflow();
	return memset(dst, c, n);
}

int __vsnprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, va_list ap)
{
	(void)flag;
	if (size > buflen)
		overflow();
	return vsnprintf(buf, size, fmt, ap);
}

int __snprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vsnprintf_chk(buf, size, flag, buflen, fmt, ap);
	va_end(ap);
	return n;
}

int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	(void)flag;
	return vprintf(fmt, ap);
}

int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vprintf_chk(flag, fmt, ap);
	va_end(ap);
	return n;
}

int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	return vfprintf(f, fmt, ap);
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vfprintf_chk(f, flag, fmt, ap);
	va_end(ap);
	return n;
}
