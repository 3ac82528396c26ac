/*
 * static-website: the files of htdocs/, compiled in by crunch, served over
 * HTTP on port 80 by the stitch network stack.
 *
 *	static-website.unix --net=TAP --ipv4=10.0.0.2/24 [--ipv4-gateway=10.0.0.1]
 *
 * One loop, single-threaded: sleep until a frame arrives or a timer is due,
 * then let each layer do its part.  SIGINT and SIGTERM end it (the platform
 * exits with status 0).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <crunch.h>
#include <http.h>
#include <platform.h>

#define SECOND 1000000000ull
#define PORT 80

/* Written by `crunch htdocs -o _build/htdocs.c -n htdocs`. */
extern const struct crunch_file htdocs_files[];
extern const size_t htdocs_count;

static int lookup(void *ctx, const char *path, const uint8_t **data, size_t *len)
{
	(void)ctx;
	const struct crunch_file *f = crunch_lookup(htdocs_files, htdocs_count, path);
	if (f == NULL)
		return -1;
	*data = f->data;
	*len = f->size;
	return 0;
}

/* printf to the console. */
static void say(const char *fmt, ...)
{
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		plat_console_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

int plat_app_main(const struct plat_start_info *si)
{
	struct ipv4_config cfg;
	if (ipv4_parse_cmdline(si->cmdline, &cfg) != 0) {
		say("static-website: usage: --net=TAP --ipv4=ADDR/PREFIX [--ipv4-gateway=ADDR]\n");
		return 2;
	}
	struct ipv4 *ip = ipv4_new(&cfg);
	if (ip == NULL) {
		say("static-website: cannot attach to the network\n");
		return 1;
	}
	struct tcp *tcp = tcp_new(ip);
	struct http_server *http = tcp ? http_server_new(tcp, PORT, lookup, NULL) : NULL;
	if (http == NULL) {
		say("static-website: cannot listen on port %d\n", PORT);
		return 1;
	}
	uint32_t a = cfg.addr;
	say("static-website: serving %zu files on %u.%u.%u.%u:%d\n", htdocs_count, a >> 24,
	    (a >> 16) & 255, (a >> 8) & 255, a & 255, PORT);
	for (;;) {
		plat_time_t deadline = plat_clock_monotonic() + SECOND;
		plat_time_t next = tcp_next_deadline(tcp);
		plat_yield(next < deadline ? next : deadline);
		plat_time_t now = plat_clock_monotonic();
		ipv4_poll(ip, now);
		tcp_tick(tcp, now);
		http_server_poll(http, now);
	}
}
