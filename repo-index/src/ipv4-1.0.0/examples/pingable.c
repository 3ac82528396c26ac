/*
 * pingable.c: the smallest image on the stack: it answers ARP and ping.
 *
 *   cc -o pingable pingable.c $(pkg-config --cflags --static --libs ipv4)
 *   ip netns exec NS ./pingable --net=tap0 --ipv4=10.0.0.2/24
 */
#include <stdio.h>
#include <string.h>

#include "ipv4.h"

static void say(const char *s)
{
	plat_console_write(s, strlen(s));
}

int plat_app_main(const struct plat_start_info *si)
{
	struct ipv4_config cfg;
	struct ipv4 *ip;
	char line[80];

	if (ipv4_parse_cmdline(si->cmdline, &cfg) < 0) {
		say("pingable: expected --ipv4=A.B.C.D/N [--ipv4-gateway=A.B.C.D]\n");
		return 2;
	}
	ip = ipv4_new(&cfg);
	if (!ip) {
		say("pingable: no network device\n");
		return 1;
	}
	snprintf(line, sizeof(line), "pingable: up at %u.%u.%u.%u\n", cfg.addr >> 24,
	         cfg.addr >> 16 & 255, cfg.addr >> 8 & 255, cfg.addr & 255);
	say(line);
	for (;;) {
		/* Wake at least once a second so that ARP expiry and the queue run. */
		plat_yield(plat_clock_monotonic() + 1000000000ull);
		ipv4_poll(ip, plat_clock_monotonic());
	}
}
