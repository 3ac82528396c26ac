#ifndef STITCH_TARGET_H
#define STITCH_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * A target, as data (share/targets.json): which platform package gives the
 * image its main(), the image's suffix, the flags added to every compile
 * and to the link, and how the image is started.
 */
struct stitch_target {
	const char *name; /* "unix" */
	const char *platform_pkg; /* installed like any package; provides main() */
	const char *suffix; /* of the image: NAME.unix */
	const char *cflags; /* words, may be "" */
	const char *ldflags; /* words, may be "" */
	const char *runner; /* its name, for messages: "process", "qemu" */
	/*
	 * How the image starts, NULL-terminated words: %{image}% is its path,
	 * %{tap}% the tap device it is given, %{cmdline}% its arguments joined
	 * by spaces, a word "%{args}%" the arguments as words, and %{accel}%
	 * "kvm" when /dev/kvm can be opened, else "tcg".
	 */
	const char *const *run;
	/*
	 * "exit": "isa-debug-exit" in the data: the runner (QEMU) reports the
	 * image's status s as 2 * (s + 1) + 1, and 0 when it was stopped.
	 */
	bool debug_exit;
};

/*
 * Where targets.json is looked for, in order (beside the binary, then
 * STITCH_DATADIR): fills paths (malloc'd) and returns how many.
 */
#define STITCH_TARGET_PATHS 4
size_t stitch_target_paths(char *paths[STITCH_TARGET_PATHS]);

/* The target called name, or NULL (then the message lists the known ones). */
const struct stitch_target *stitch_target_find(const char *name, struct stitch_err *err);

struct stitch_index;

/*
 * Refuse (STITCH_E_CONFLICT, naming the package) when a package reachable
 * from reqs runs on another target only: the index format has no field for
 * the targets a package supports, so a package supports every target
 * unless it depends on a platform package, and then only the targets of the
 * platform packages in that requirement's alternatives.  A package counts
 * as unsupported when none of its versions supports t.
 */
int stitch_target_check_depends(const struct stitch_target *t, const struct stitch_index *idx,
                                const char *const *reqs, size_t n_reqs, struct stitch_err *err);

/* The command that starts image on tap with args, as t's "run" says (malloc'd words). */
char **stitch_target_argv(const struct stitch_target *t, const char *image, const char *tap,
                          char *const *args);
/* Free what stitch_target_argv returned. */
void stitch_target_argv_free(char **argv);

/* The image's exit status from its runner's (the same for a process). */
int stitch_target_exit_status(const struct stitch_target *t, int code);

/* Whether name is the platform package of a target other than t (not in t's images). */
bool stitch_target_other_platform(const struct stitch_target *t, const char *name);

#endif
