/*
 * The project's test against its image (cmd/imagetest.c): the image is
 * started in the test harness (src/harness.h) and the project's test
 * command runs in the same network namespace.
 */
#ifndef STITCH_CMD_IMAGETEST_H
#define STITCH_CMD_IMAGETEST_H

#include <stdbool.h>

#include "project.h"

struct cmd_image_test {
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

#endif
