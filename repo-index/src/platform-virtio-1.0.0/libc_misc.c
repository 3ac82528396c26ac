/*
 * libc_misc.c: errno, abort and the little stdio the applications use,
 * writing to the console.  Streams are not buffered; stdout and stderr
 * both go to the console.
 */
#include "libc.h"
#include "platform.h"

/* glibc's FILE is opaque to its users: only its address is ever passed. */
typedef struct plat_file {
	int unused;
} FILE;

static FILE console_file;
FILE *stdout = &console_file, *stderr = &console_file, *stdin = &console_file;

static int errno_value;

int *__errno_location(void)
{
	return &errno_value;
}

void abort(void)
{
	static const char msg[] = "platform-virtio: abort\n";

	plat_console_write(msg, sizeof(msg) - 1);
	plat_exit(134); /* what a shell reports for SIGABRT */
}

/* gcc's -fstack-protector calls this when a canary is overwritten (see start.c). */
void __stack_chk_fail(void)
{
	static const char msg[] = "platform-virtio: stack smashing detected\n";

	plat_console_write(msg, sizeof(msg) - 1);
	abort();
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, copy);
	va_end(copy);
	if (n < 0)
		return n;
	if ((size_t)n < sizeof(buf)) {
		plat_console_write(buf, (size_t)n);
		return n;
	}
	/* Too long for the stack buffer: format again into the heap. */
	char *big = malloc((size_t)n + 1);

	if (!big)
		return -1;
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	plat_console_write(big, (size_t)n);
	free(big);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	(void)f;
	return vprintf(fmt, ap);
}

int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int fputs(const char *s, FILE *f)
{
	(void)f;
	plat_console_write(s, strlen(s));
	return 0;
}

int puts(const char *s)
{
	fputs(s, stdout);
	plat_console_write("\n", 1);
	return 0;
}

int fputc(int c, FILE *f)
{
	char ch = (char)c;

	(void)f;
	plat_console_write(&ch, 1);
	return (unsigned char)c;
}

int putchar(int c)
{
	return fputc(c, stdout);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	(void)f;
	plat_console_write(p, size * n);
	return n;
}

int fflush(FILE *f)
{
	(void)f;
	return 0;
}
