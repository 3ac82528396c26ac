/*
 * A package's own tests ("test" in its recipe), run in its build tree in
 * the build sandbox, against the switch its dependencies are installed in.
 */
#ifndef STITCH_PKGTEST_H
#define STITCH_PKGTEST_H

#include <stdbool.h>

#include "error.h"
#include "event.h"
#include "exec.h"
#include "index.h"
#include "switch.h"

struct stitch_pkgtest_opts {
	const char *source_cache; /* <root>/cache/sources, for a release's source */
	int jobs; /* %{jobs}%: 0 is $STITCH_JOBS, else one per processor */
	bool no_sandbox; /* run the commands without bubblewrap (the network still cut off) */
	stitch_event_fn on_event; /* TEST_START and TESTED; may be NULL */
	void *data;
};

/*
 * Run the test commands of v, a version of a package installed (or
 * pinned) in sw, in its build tree (stitch_build_tree), with the build's
 * environment and sandbox.  pin_path is the pin's checkout, or NULL for a
 * release.
 *
 * With prepare, the tree is first made the way an install makes it: the
 * pin's checkout mirrored into its persistent build tree (incrementally),
 * or the release's source fetched (SHA-256 checked) and unpacked afresh;
 * then its build commands run.  Without it, the tree is the one the last
 * build left (stitch_op_opts.keep_trees).  Every command's output goes to
 * meta/logs/NAME-VERSION.test.log.
 *
 * Events: TEST_START, then TESTED with the result and the seconds; a
 * version without test commands gets only TESTED with result NONE, and
 * that is no error.  A release's tree is removed when its tests pass and
 * kept for inspection when they fail.
 *
 * Returns 0, or STITCH_E_BUILD naming the package, version and failing
 * command, with the last lines of the log and its path as the cause (as
 * stitch_build_run); a fetch or unpack error for a release's source.
 */
int stitch_pkgtest_run(struct stitch_switch *sw, const struct stitch_version *v,
                       const char *pin_path, bool prepare, const struct stitch_pkgtest_opts *o,
                       struct stitch_err *err);

#endif
