/* check.h: the smallest test harness; TAP-like output, exit status 1 on any failure. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int check_run, check_failed;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		check_run++;                                                                     \
		if (!(cond)) {                                                                   \
			check_failed++;                                                          \
			printf("not ok %d - %s:%d: %s\n", check_run, __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

/* Print the summary; the exit status of the test program. */
static inline int check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_run, check_failed);
	return check_failed ? 1 : 0;
}

#endif
