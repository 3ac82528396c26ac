/*
 * platform_args.c: the virtio platform's command line.  QEMU hands over
 * one string (-append); it is split at spaces, the platform's options are
 * taken out, and the rest is joined again with single spaces, so an
 * application sees what it would see on unix.
 */
#include "libc.h"
#include "platform_internal.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int plat_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t out[6];

	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (*s != (i == 5 ? '\0' : ':'))
			return -1;
		if (i < 5)
			s++;
	}
	LIBC(memcpy)(mac, out, 6);
	return 0;
}

static bool word_is(const char *w, size_t len, const char *s)
{
	return LIBC(strlen)(s) == len && LIBC(memcmp)(w, s, len) == 0;
}

static bool word_starts(const char *w, size_t len, const char *prefix)
{
	size_t n = LIBC(strlen)(prefix);

	return len >= n && LIBC(memcmp)(w, prefix, n) == 0;
}

/* Append the word w (len bytes) to a->cmdline (room for all of raw), space-separated. */
static void cmdline_add(struct plat_args *a, size_t *pos, const char *w, size_t len)
{
	if (*pos)
		a->cmdline[(*pos)++] = ' ';
	LIBC(memcpy)(a->cmdline + *pos, w, len);
	*pos += len;
	a->cmdline[*pos] = '\0';
}

/* A --mac= word (len bytes) into a->mac.  0, or -1 with the message in err. */
static int take_mac(struct plat_args *a, const char *w, size_t len, char *err, size_t errsize)
{
	char text[18];
	size_t n = len - 6;

	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	LIBC(memcpy)(text, w + 6, n);
	text[n] = '\0';
	if (len - 6 >= sizeof(text) || plat_mac_parse(text, a->mac) < 0 || (a->mac[0] & 1)) {
		LIBC(snprintf)
		(err, errsize, "invalid --mac '%.*s': expected a unicast XX:XX:XX:XX:XX:XX",
		 (int)(len - 6), w + 6);
		return -1;
	}
	a->have_mac = true;
	return 0;
}

int plat_args_parse(const char *raw, struct plat_args *a, char *err, size_t errsize)
{
	size_t pos = 0;
	bool rest = false;

	LIBC(memset)(a, 0, sizeof(*a));
	/* The joined words never outgrow the raw string. */
	a->cmdline = LIBC(malloc)(LIBC(strlen)(raw) + 1);
	if (!a->cmdline) {
		LIBC(snprintf)(err, errsize, "out of memory");
		return -1;
	}
	a->cmdline[0] = '\0';
	for (const char *w = raw + LIBC(strspn)(raw, " "); *w;) {
		size_t len = LIBC(strcspn)(w, " ");

		if (!rest && word_is(w, len, "--"))
			rest = true;
		else if (!rest && word_starts(w, len, "--mac=")) {
			if (take_mac(a, w, len, err, errsize) < 0)
				return -1;
		} else if (rest || !word_starts(w, len, "--net="))
			cmdline_add(a, &pos, w, len);
		w += len;
		w += LIBC(strspn)(w, " ");
	}
	return 0;
}

void plat_args_release(struct plat_args *a)
{
	LIBC(free)(a->cmdline);
	a->cmdline = NULL;
}
