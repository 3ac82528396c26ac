/*
 * Compiling a unikernel project and linking it with its libraries and the
 * target's platform into an image.  The target is a parameter of the link,
 * chosen through its platform package, so a new target is a new entry in
 * the table of targets and a platform package, nothing else.
 */
#ifndef STITCH_LINK_H
#define STITCH_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "project.h"
#include "target.h"

struct stitch_artifacts;

struct stitch_link_opts {
	const struct stitch_project *project;
	const struct stitch_target *target;
	const char *switch_dir; /* its bin, include, lib and lib/pkgconfig are used */
	const char *const *pkgs; /* pkg-config names of the libraries to link */
	size_t n_pkgs;
	const char *inputs_key; /* changes when any library's interface changes */
	const char *const *exclude; /* absolute paths inside the project that are not its
				       own files (pinned trees): edits there do not re-run
				       the generate commands */
	size_t n_exclude;
	/* Objects are taken from and stored into this cache (may be NULL). */
	struct stitch_artifacts *artifacts;
	const char *cc_id; /* the compiler's identity, for the cache's keys */
};

struct stitch_link_result {
	char *image; /* absolute path */
	char sha256[65];
	size_t compiled; /* sources compiled (the others were up to date or cached) */
	size_t from_cache; /* objects taken from the artifact cache */
	double seconds; /* generate + compile + link */
	double link_seconds;
	bool relinked; /* false: nothing changed, the image stands */
};

/*
 * Run the project's generate commands, compile its sources (each only when
 * its text, flags or inputs_key changed) and link the image, replacing the
 * previous one only when the link succeeded.  The output of the tools goes
 * to <project>/_build/build.log; a failure is STITCH_E_BUILD with the last
 * lines of that log.
 */
int stitch_link(const struct stitch_link_opts *o, struct stitch_link_result *r,
                struct stitch_err *err);
void stitch_link_result_release(struct stitch_link_result *r);

#endif
