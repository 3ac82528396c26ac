/* platform_args.c: the unix platform's command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	memcpy(mac, out, 6);
	return 0;
}

void plat_mac_from_name(const char *name, uint8_t mac[6])
{
	/* FNV-1a: stable across runs and machines, so a tap keeps its MAC. */
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x53; /* 'S' for stitch, keeps clear of 02:00:... used by others */
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* Append word to a->cmdline, space-separated.  0 or -1 (out of memory). */
static int cmdline_add(struct plat_args *a, size_t *len, const char *word)
{
	size_t wlen = strlen(word), need = *len + (*len ? 1 : 0) + wlen + 1;
	char *p = realloc(a->cmdline, need);

	if (!p)
		return -1;
	a->cmdline = p;
	if (*len)
		p[(*len)++] = ' ';
	memcpy(p + *len, word, wlen + 1);
	*len += wlen;
	return 0;
}

int plat_args_parse(int argc, char *const argv[], struct plat_args *a, char *err, size_t errsize)
{
	const char *mac = NULL;
	size_t len = 0;
	bool rest = false;

	memset(a, 0, sizeof(*a));
	a->cmdline = calloc(1, 1);
	if (!a->cmdline)
		goto nomem;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (!rest && strcmp(w, "--") == 0)
			rest = true;
		else if (!rest && strncmp(w, "--net=", 6) == 0)
			a->net = w + 6;
		else if (!rest && strncmp(w, "--mac=", 6) == 0)
			mac = w + 6;
		else if (cmdline_add(a, &len, w) < 0)
			goto nomem;
	}
	if (!a->net || !*a->net) {
		snprintf(err, errsize, "missing --net=TAP (the name of an existing tap device)");
		return -1;
	}
	if (mac && (plat_mac_parse(mac, a->mac) < 0 || (a->mac[0] & 1))) {
		snprintf(err, errsize, "invalid --mac '%s': expected a unicast XX:XX:XX:XX:XX:XX",
		         mac);
		return -1;
	}
	if (!mac)
		plat_mac_from_name(a->net, a->mac);
	return 0;
nomem:
	snprintf(err, errsize, "out of memory");
	return -1;
}

void plat_args_release(struct plat_args *a)
{
	free(a->cmdline);
	a->cmdline = NULL;
}
