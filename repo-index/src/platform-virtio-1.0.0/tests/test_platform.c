/*
 * test_platform.c: the virtio platform's pieces that need no machine, run
 * on the host: the C library (compared with the host's own), the command
 * line and the RTC's calendar arithmetic.  The sources are compiled with
 * LIBC_TEST, so their functions are test_memcpy, test_vsnprintf, ...
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "../libc.h"
#include "../platform_internal.h"

static int test_errno;

int *test___errno_location(void)
{
	return &test_errno;
}

/* The same format through the host's vsnprintf and ours: same text, same count. */
static void same(const char *fmt, ...)
{
	char want[256], got[256];
	va_list ap, ap2;
	int nw, ng;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	nw = vsnprintf(want, sizeof(want), fmt, ap);
	ng = test_vsnprintf(got, sizeof(got), fmt, ap2);
	va_end(ap2);
	va_end(ap);
	CHECK(nw == ng);
	CHECK(strcmp(want, got) == 0);
	if (nw != ng || strcmp(want, got) != 0)
		printf("# format \"%s\": want \"%s\" (%d), got \"%s\" (%d)\n", fmt, want, nw, got,
		       ng);
}

static void check_fmt(void)
{
	char small[6];

	same("plain");
	same("%d %i %u %x %X %o %c %s %%", -42, 7, 3000000000u, 0xbeefu, 0xbeefu, 8u, 'z', "str");
	same("[%5d] [%-5d] [%05d] [%+d] [% d] [%.3d] [%8.3d] [%-+6d]", 42, 42, -42, 5, 5, 7, -7, 9);
	same("[%lu] [%ld] [%llu] [%lld] [%zu] [%zd] [%jd] [%td]", ULONG_MAX, LONG_MIN, ULLONG_MAX,
	     LLONG_MIN, (size_t)123456789012u, (ssize_t)-5, (intmax_t)-1, (ptrdiff_t)77);
	same("[%hhu] [%hhd] [%hu] [%hd]", 300, 200, 70000, 40000);
	same("[%#x] [%#X] [%#o] [%#x] [%08x] [%-8x|] [%.0d] [%.0x]", 255u, 255u, 8u, 0u, 0xabu,
	     0xabu, 0, 0u);
	same("[%10s] [%-10s] [%.2s] [%.*s] [%*d] [%-*d] [%s]", "right", "left", "cut", 3, "abcdef",
	     6, 1, 6, 1, (char *)NULL);
	same("[%p] [%p]", (void *)0x1234, (void *)&small);
	same("%02x:%02x:%02x:%02x:%02x:%02x", 2, 0x53, 0xab, 0, 1, 0xff);
	same("HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n\r\n", 200, "OK", (size_t)1234);
	CHECK(test_snprintf(small, sizeof(small), "%s", "truncated") == 9);
	CHECK(strcmp(small, "trunc") == 0);
	CHECK(test_snprintf(NULL, 0, "%d", 12345) == 5);
}

static void check_string(void)
{
	char buf[32] = "0123456789";
	const char *s0 = "hello", *s = "/a/b.html";

	CHECK(test_memmove(buf + 2, buf, 8) == buf + 2 && strcmp(buf, "0101234567") == 0);
	CHECK(test_memmove(buf, buf + 2, 9) == buf && strcmp(buf, "01234567") == 0);
	CHECK(test_memset(buf, 'x', 3) == buf && memcmp(buf, "xxx3", 4) == 0);
	/* Every length and alignment around the word size. */
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n < 20; n++) {
			char src[32], dst[32], want[32];

			for (size_t i = 0; i < sizeof(src); i++)
				src[i] = (char)(i * 7 + 1), dst[i] = want[i] = '.';
			memcpy(want + off, src + 3, n);
			CHECK(test_memcpy(dst + off, src + 3, n) == dst + off);
			CHECK(memcmp(dst, want, sizeof(dst)) == 0);
			memset(want + off, 0xa5, n);
			CHECK(test_memset(dst + off, 0xa5, n) == dst + off);
			CHECK(memcmp(dst, want, sizeof(dst)) == 0);
		}
	CHECK(test_memcmp("abc", "abd", 3) < 0 && test_memcmp("abc", "abc", 3) == 0);
	CHECK(test_memcmp("\xff", "\x01", 1) > 0);
	CHECK(test_memchr(s0, 'l', 5) == s0 + 2 && test_memchr(s0, 'z', 5) == NULL);
	CHECK(test_strlen("") == 0 && test_strlen("four") == 4);
	CHECK(test_strcmp("a", "b") < 0 && test_strcmp("b", "a") > 0 && test_strcmp("", "") == 0);
	CHECK(test_strncmp("abcx", "abcy", 3) == 0 && test_strncmp("ab", "abc", 3) < 0);
	CHECK(test_strcasecmp("Content-Type", "content-type") == 0);
	CHECK(test_strcasecmp("a", "B") < 0);
	CHECK(test_strncasecmp("HOST: x", "host: y", 5) == 0);
	CHECK(test_strchr(s, '/') == s && test_strrchr(s, '/') == s + 2);
	CHECK(test_strchr(s, '\0') == s + 9 && test_strchr(s, 'z') == NULL);
	CHECK(test_strrchr(s, '.') == s + 4);
	CHECK(test_strspn("  \tx", " \t") == 3 && test_strcspn("GET /", " ") == 3);
	CHECK(test_strcspn("abc", "") == 3 && test_strspn("abc", "") == 0);
	CHECK(test_strstr(s0, "ll") == s0 + 2);
	CHECK(test_strstr("abc", "") != NULL && test_strstr("abc", "x") == NULL);
}

static void check_malloc(void)
{
	static _Alignas(16) unsigned char heap[1 << 16];
	void *a, *b, *c, *big;

	plat_heap_init(heap, sizeof(heap));
	a = test_malloc(10);
	b = test_malloc(100);
	CHECK(a && b && a != b);
	CHECK(((uintptr_t)a & 15) == 0 && ((uintptr_t)b & 15) == 0);
	memset(a, 1, 10);
	memset(b, 2, 100);
	test_free(a);
	c = test_malloc(12); /* same class: the freed block again */
	CHECK(c == a);
	c = test_realloc(c, 16); /* still fits */
	CHECK(c == a);
	c = test_realloc(c, 200);
	CHECK(c != a && memcmp(c, "\1\1\1\1\1\1\1\1\1\1", 10) == 0);
	CHECK(test_calloc(4, 8) != NULL);
	a = test_calloc(1, 16);
	CHECK(a && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	test_errno = 0;
	big = test_malloc(sizeof(heap));
	CHECK(big == NULL && test_errno == ENOMEM);
	CHECK(test_calloc(SIZE_MAX / 2, 4) == NULL);
	CHECK(test_malloc(SIZE_MAX) == NULL);
	test_free(NULL);
	/* The stack's pattern: a connection's buffers freed and taken again, forever. */
	for (int i = 0; i < 10000; i++) {
		void *p = test_malloc(3000), *q = test_malloc(64);

		CHECK(p && q);
		test_free(p);
		test_free(q);
	}
	(void)b;
}

static void check_args(void)
{
	static _Alignas(16) unsigned char heap[1 << 14];
	struct plat_args a;
	char err[160];

	plat_heap_init(heap, sizeof(heap));
	CHECK(plat_args_parse("", &a, err, sizeof(err)) == 0);
	CHECK(strcmp(a.cmdline, "") == 0 && !a.have_mac);
	plat_args_release(&a);

	CHECK(plat_args_parse("--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1", &a, err, 160) == 0);
	CHECK(strcmp(a.cmdline, "--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1") == 0);
	plat_args_release(&a);

	CHECK(plat_args_parse("  a   --net=tap0  b ", &a, err, 160) == 0);
	CHECK(strcmp(a.cmdline, "a b") == 0);
	plat_args_release(&a);

	CHECK(plat_args_parse("--mac=02:AB:cd:00:11:ff x -- --mac=zz --net=other --", &a, err,
	                      160) == 0);
	CHECK(a.have_mac && memcmp(a.mac, "\x02\xab\xcd\x00\x11\xff", 6) == 0);
	CHECK(strcmp(a.cmdline, "x --mac=zz --net=other --") == 0);
	plat_args_release(&a);

	CHECK(plat_args_parse("--mac=03:00:00:00:00:01", &a, err, 160) == -1);
	CHECK(strcmp(err, "invalid --mac '03:00:00:00:00:01': expected a unicast "
	                  "XX:XX:XX:XX:XX:XX") == 0);
	plat_args_release(&a);
	CHECK(plat_args_parse("--mac=02:00:00:00:00:0100000", &a, err, 160) == -1);
	plat_args_release(&a);
	CHECK(plat_args_parse("--mac=", &a, err, 160) == -1);
	plat_args_release(&a);
}

static void check_dates(void)
{
	/* Every day from 1970 to 2100 against the host's timegm. */
	for (int y = 1970; y <= 2100; y += 7)
		for (int m = 1; m <= 12; m++) {
			struct tm tm = {.tm_year = y - 1900,
			                .tm_mon = m - 1,
			                .tm_mday = 28,
			                .tm_hour = 23,
			                .tm_min = 59,
			                .tm_sec = 58};

			CHECK(plat_epoch_seconds(y, m, 28, 23, 59, 58) == (uint64_t)timegm(&tm));
		}
	CHECK(plat_epoch_seconds(1970, 1, 1, 0, 0, 0) == 0);
	CHECK(plat_epoch_seconds(2000, 2, 29, 12, 0, 0) == 951825600u);
	CHECK(plat_bcd(0x59) == 59 && plat_bcd(0x20) == 20 && plat_bcd(0x09) == 9);
}

int main(void)
{
	check_fmt();
	check_string();
	check_malloc();
	check_args();
	check_dates();
	return check_done("platform-virtio");
}
