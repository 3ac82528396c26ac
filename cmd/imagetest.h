/*
 * The project's test against its image (cmd/imagetest.c): the image is
 * started in the test harness (src/harness.h) and the project's test
 * command runs in the same network namespace.
 */
#ifndef STITCH_CMD_IMAGETEST_H
#define STITCH_CMD_IMAGETEST_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "project.h"

struct stitch_target;

struct cmd_image_test {
	const struct stitch_target *target; /* how the image starts */
	const char *pcap; /* --pcap FILE: every frame of the run, kept whatever the verdict */
	bool json; /* the test's stdout goes to stderr: stdout carries events only */
};

/*
 * Make or join the namespace ($STITCH_TEST_NETNS, set by watch --test),
 * capture the tap, start image and wait until it is ready, run p's test
 * command inside with STITCH_IMAGE, STITCH_TEST_ADDR, STITCH_TEST_HOST,
 * STITCH_TEST_TAP, STITCH_TEST_NETNS and STITCH_TEST_LOG set, then stop the
 * image (it must exit 0 on SIGTERM).  *status is the verdict as a wait
 * status (exit 77 when the namespace cannot be made for want of
 * privilege, after saying why).  When the run failed and was captured,
 * *trace (malloc'd, else NULL) is the kept trace.  Returns EXIT_OK, or
 * EXIT_ERROR when the harness itself failed (said on stderr).
 */
int cmd_image_test(const struct stitch_project *p, const char *image,
                   const struct cmd_image_test *o, int *status, char **trace);

/*
 * cmd_image_test in a child process of its own group, so that it runs
 * beside the packages' own tests (stitch test --with-test, watch --test):
 * its output is held back in unlinked files until cmd_image_test_wait,
 * which prints it after the packages' lines, the order of the verdict.
 */
struct cmd_image_test_bg {
	pid_t pid;
	FILE *out, *err; /* the child's stdout and stderr */
	int result; /* a pipe: its return code, wait status and kept trace */
};

/* Start it; EXIT_ERROR (said on stderr) when it cannot. */
int cmd_image_test_spawn(const struct stitch_project *p, const char *image,
                         const struct cmd_image_test *o, struct cmd_image_test_bg *bg);
/*
 * keep: wait for it, print what it printed and return what cmd_image_test
 * returned, with *status and *trace.  !keep (a package's tests failed, so
 * its verdict no longer matters): kill its group (the image, the capture,
 * the test command and what they started) and drop its output.
 */
int cmd_image_test_wait(struct cmd_image_test_bg *bg, bool keep, int *status, char **trace);

#endif
