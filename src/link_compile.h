/*
 * Compile planning and the object cache: which of a project's sources need
 * compiling (their key: stat data, flags, the libraries' interfaces, the
 * headers they read), which objects the artifact cache has, and the
 * compiles of the rest, several at once.  Called by link.c; calls
 * link_run.c only.
 */
#ifndef STITCH_LINK_COMPILE_H
#define STITCH_LINK_COMPILE_H

#include <stddef.h>

#include "error.h"
#include "link.h"
#include "link_run.h"

struct compile_job;

/* The objects to link, and the compiles still needed for them. */
struct link_compile_plan {
	char **objs; /* one per source, in order, relative to the project */
	size_t n_objs;
	struct compile_job *jobs; /* only while link_compile_changed() runs */
	size_t n_jobs;
};

/*
 * Compile what is out of date and not in the artifact cache, with "cc -c",
 * the project's cflags and lib_flags (the libraries' --cflags on one line).
 * plan->objs is filled for the link (the caller frees it with
 * link_words_free()); r->compiled and r->from_cache are counted.  Returns
 * 0, or STITCH_E_BUILD with the first failure.
 */
int link_compile_changed(const struct stitch_link_opts *o, const struct link_runner *re,
                         const char *lib_flags, struct link_compile_plan *plan,
                         struct stitch_link_result *r, struct stitch_err *err);

#endif
