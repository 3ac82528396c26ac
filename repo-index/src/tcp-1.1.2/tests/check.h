/*
 * check.h: the smallest test harness; TAP-like output, exit status 1 on any
 * failure.  One file of the test program says CHECK_DEFINE once.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

extern int check_run, check_failed;
#define CHECK_DEFINE int check_run, check_failed

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		check_run++;                                                                     \
		if (!(cond)) {                                                                   \
			check_failed++;                                                          \
			printf("not ok %d - %s:%d: %s\n", check_run, __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

/* Run one named test: "ok - name" when none of its checks failed. */
#define CHECK_TEST(fn)                                                                     \
	do {                                                                               \
		int failed_before = check_failed;                                          \
		fn();                                                                      \
		printf("%s - %s\n", check_failed == failed_before ? "ok" : "FAILED", #fn); \
	} while (0)

/* Print the summary; the exit status of the test program. */
static inline int check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_run, check_failed);
	return check_failed ? 1 : 0;
}

#endif
