/*
 * A small assert header for the unit tests of src/.
 *
 * Each test file defines `static void test_xxx(void)` functions and lists
 * them in main with RUN(test_xxx).  Output is one line per test,
 * "ok - name" or "not ok - name", with failed checks printed before it as
 * "# file:line: what"; tests/run counts those lines.  main returns
 * test_summary(), non-zero when anything failed.
 */
#ifndef STITCH_TEST_H
#define STITCH_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int test_passed, test_failed;

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			test_failed_checks++;                                             \
		}                                                                         \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			printf("# %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, \
			       b_);                                                                \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                           \
			printf("# %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
			       a_ ? a_ : "(null)", b_ ? b_ : "(null)");                            \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                       \
	do {                                          \
		int before_ = test_failed_checks;     \
		fn();                                 \
		if (test_failed_checks == before_) {  \
			printf("ok - %s\n", #fn);     \
			test_passed++;                \
		} else {                              \
			printf("not ok - %s\n", #fn); \
			test_failed++;                \
		}                                     \
	} while (0)

static inline int test_summary(void)
{
	return test_failed ? 1 : 0;
}

#endif
