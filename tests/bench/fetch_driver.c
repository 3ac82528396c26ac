/*
 * fetch_driver: run stitch_fetch_all over a list of items, for
 * tests/bench/fetch.sh (which compiles it against libstitch.a).
 *
 *     fetch_driver CACHE_DIR PARALLEL [RETRIES] < LIST
 *
 * LIST has one item a line: URL, or URL SHA256.  Prints the wall time of the
 * stitch_fetch_all call in milliseconds on stdout; each failure's message on
 * stderr.  Exits 1 when any item failed.
 */
#include "fetch.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct stitch_fetch_item *items = NULL;
	size_t n = 0, cap = 0;
	char line[4096];
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_fetch_opts o = {0};
	struct timespec t0, t1;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: fetch_driver CACHE_DIR PARALLEL [RETRIES] < LIST\n");
		return 2;
	}
	o.cache_dir = argv[1];
	o.parallel = (int)strtol(argv[2], NULL, 10);
	if (argc > 3)
		o.retries = (int)strtol(argv[3], NULL, 10);
	while (fgets(line, sizeof(line), stdin)) {
		char *url = line + strspn(line, " \t");
		char *sha = url + strcspn(url, " \t\n");
		if (*sha && *sha != '\n') {
			*sha++ = '\0';
			sha += strspn(sha, " \t");
			sha[strcspn(sha, " \t\n")] = '\0';
		} else {
			*sha = '\0';
		}
		if (!*url)
			continue;
		XGROW(items, cap, n + 1);
		items[n] = (struct stitch_fetch_item){.url = xstrdup(url),
		                                      .sha256 = *sha ? xstrdup(sha) : NULL};
		n++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = stitch_fetch_all(items, n, &o, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	for (size_t i = 0; i < n; i++) {
		if (items[i].status)
			fprintf(stderr, "%s\n%s%s", items[i].err.msg,
			        items[i].err.cause[0] ? items[i].err.cause : "",
			        items[i].err.cause[0] ? "\n" : "");
		stitch_fetch_item_release(&items[i]);
		free((char *)items[i].url);
		free((char *)items[i].sha256);
	}
	free(items);
	stitch_fetch_global_cleanup();
	return rc ? 1 : 0;
}
