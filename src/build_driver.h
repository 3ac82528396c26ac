/*
 * How a package's commands run: one process tree per stitch_build_run,
 * not one per command.  build.c decides what runs and where (variables,
 * environment, the sandbox's mounts, the messages); this module starts it
 * and reports what happened.  Arrows go one way: build.c calls here.
 *
 * A runner process is started per call.  Under bubblewrap it becomes the
 * sandbox, and stitch runs itself in it as the driver (`stitch
 * __build-driver ...`, the commands encoded in its arguments), the first
 * process of the sandbox's PID namespace.  Without bubblewrap the runner
 * leaves the network, takes a PID namespace when it can, and the driver
 * is a fork of it, first in that namespace.  Either way the driver runs the
 * commands in order, each in a child of its own, stops at the first
 * failure, kills whatever a command left running before the next one
 * starts (as pid 1 it can), and reports each start and end on a pipe.
 */
#ifndef STITCH_BUILD_DRIVER_H
#define STITCH_BUILD_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

struct stitch_build_cmd {
	char **argv; /* expanded, NULL-terminated */
	bool destdir; /* runs with DESTDIR set (an install command) */
};

struct stitch_build_script {
	const struct stitch_build_cmd *cmds;
	size_t n;
	const char *destdir; /* DESTDIR's value for the commands marked so, or NULL */
	char *const *envp; /* every command's environment, DESTDIR aside; has PATH */
	const char *work_dir; /* where the commands run */
	bool isolate_network; /* without a sandbox: in a new network namespace */
	int log_fd; /* the commands' stdout and stderr, and the driver's "$ CMD" lines */
	/* Told as each command starts (i indexes cmds), in the calling process. */
	void (*on_start)(void *data, size_t i);
	void *data;
};

struct stitch_build_outcome {
	bool started; /* the driver ran: the sandbox, if any, was set up */
	size_t ended; /* how many commands ran to their end */
	size_t failed; /* the command that failed or was cut short; n when none */
	int status; /* its wait status; the runner's when the driver never reported it */
};

/*
 * Run script s and wait for it.  sandbox: bubblewrap's command line up to
 * and including its "--", or NULL to run without a sandbox; the driver's
 * own command line is added here (and stitch_build_self must be visible
 * inside).  With no commands, the driver still starts and reports: a
 * check that the sandbox can be set up.  The runner dies with the calling
 * process, and with it everything the commands started.
 */
void stitch_build_script_run(const struct stitch_build_script *s, char *const *sandbox,
                             struct stitch_build_outcome *out);

/* The path of the running stitch binary (what the sandbox runs), or NULL. */
char *stitch_build_self(void);

#endif
