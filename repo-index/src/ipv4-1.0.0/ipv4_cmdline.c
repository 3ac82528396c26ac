/* ipv4_cmdline.c: the image's network settings from its command line. */
#include <stdbool.h>
#include <string.h>

#include "ipv4.h"

/* Up to three decimal digits at *s, at most max.  The value, or -1. */
static long number(const char **s, const char *end, long max)
{
	long v = 0;
	int digits = 0;

	while (*s < end && **s >= '0' && **s <= '9' && digits < 3) {
		v = v * 10 + (**s - '0');
		(*s)++;
		digits++;
	}
	return digits == 0 || v > max ? -1 : v;
}

/* A dotted quad at *s (advanced past it).  0 or -1. */
static int quad(const char **s, const char *end, uint32_t *out)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		long v;

		if (i > 0 && (*s == end || *(*s)++ != '.'))
			return -1;
		v = number(s, end, 255);
		if (v < 0)
			return -1;
		a = a << 8 | (uint32_t)v;
	}
	*out = a;
	return 0;
}

/* "10.0.0.2/24" */
static int addr_prefix(const char *s, const char *end, struct ipv4_config *c)
{
	long bits;

	if (quad(&s, end, &c->addr) < 0 || c->addr == 0 || s == end || *s++ != '/')
		return -1;
	bits = number(&s, end, 32);
	if (bits < 0 || s != end)
		return -1;
	c->netmask = bits ? 0xffffffffu << (32 - bits) : 0;
	return 0;
}

static int gateway(const char *s, const char *end, uint32_t *gw)
{
	return quad(&s, end, gw) < 0 || s != end || *gw == 0 ? -1 : 0;
}

int ipv4_parse_cmdline(const char *cmdline, struct ipv4_config *cfg)
{
	static const char opt_addr[] = "--ipv4=", opt_gw[] = "--ipv4-gateway=";
	struct ipv4_config c = {0, 0, 0};
	bool have_addr = false;
	const char *w = cmdline;

	while (w && *w) {
		size_t len = strcspn(w, " \t");
		const char *end = w + len;

		if (len > sizeof(opt_addr) - 1 && memcmp(w, opt_addr, sizeof(opt_addr) - 1) == 0) {
			if (addr_prefix(w + sizeof(opt_addr) - 1, end, &c) < 0)
				return -1;
			have_addr = true;
		} else if (len >= sizeof(opt_gw) - 1 &&
		           memcmp(w, opt_gw, sizeof(opt_gw) - 1) == 0) {
			if (gateway(w + sizeof(opt_gw) - 1, end, &c.gateway) < 0)
				return -1;
		}
		w = end + strspn(end, " \t");
	}
	/* A gateway off the subnet could never be reached by ARP. */
	if (!have_addr || (c.gateway && ((c.gateway ^ c.addr) & c.netmask)))
		return -1;
	*cfg = c;
	return 0;
}
