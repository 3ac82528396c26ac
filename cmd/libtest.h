/*
 * Packages' own tests from the command line (cmd/libtest.c): `stitch test
 * PKG...`, and `--with-test` for what an operation rebuilt.
 */
#ifndef STITCH_CMD_LIBTEST_H
#define STITCH_CMD_LIBTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd.h"

/*
 * stitch test PKG...: in the switch in use, each package's tests in its
 * build tree (a pin's persistent mirror, else its release unpacked
 * afresh), built first as an install builds it.  Stops at the first
 * failure (the error shows the log's last lines).  A package without tests
 * is said so; that fails the command only when no package named has any.
 */
int cmd_test_packages(struct stitch_ctx *ctx, char **names, int n, bool json, int jobs);

/* Which of the packages an operation rebuilt --with-test tests. */
enum cmd_with_test {
	CMD_TEST_NONE,
	CMD_TEST_REBUILT, /* every package built or rebuilt (not kept, not from the cache) */
	CMD_TEST_PINNED, /* only the pinned ones among them */
};

/* Parse the argument of --with-test (NULL: rebuilt); EXIT_USAGE after saying why. */
int cmd_with_test_parse(const char *arg, enum cmd_with_test *out);

/* The packages an operation built, in the order they were built. */
struct cmd_rebuilt {
	enum cmd_with_test which;
	struct cmd_events *ce; /* where the events go on to */
	struct cmd_events ce_own; /* theirs once the operation's own are gone */
	char **names, **versions;
	size_t n, cap, cap_versions;
	size_t done; /* the first entries whose trees are dealt with */
};

/*
 * Hook r into op before it runs: the built packages are recorded (events
 * still printed through op->ce) and their build trees kept for the tests.
 * Nothing changes with CMD_TEST_NONE.
 */
void cmd_rebuilt_init(struct cmd_rebuilt *r, struct cmd_op *op, enum cmd_with_test which);
/* Whether cmd_rebuilt_test has a package to test. */
bool cmd_rebuilt_pending(struct stitch_ctx *ctx, const struct cmd_rebuilt *r);
/* Run the tests of what r recorded, in build order; stops at the first failure. */
int cmd_rebuilt_test(struct stitch_ctx *ctx, struct cmd_rebuilt *r, int jobs);
/* Remove the release trees no test used any more; free r. */
void cmd_rebuilt_release(struct stitch_ctx *ctx, struct cmd_rebuilt *r);

#endif
