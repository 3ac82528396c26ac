/*
 * A unikernel project: a directory with unikernel.json.
 *
 *   {"name": "static-website", "depends": ["http", "crunch", "platform-unix"],
 *    "target": "unix",
 *    "generate": [["crunch", "htdocs", "-o", "_build/htdocs.c", "-n", "htdocs"]],
 *    "sources": ["main.c", "_build/htdocs.c"],
 *    "cflags": ["-O2"], "ldflags": [],
 *    "test": ["./test.sh"], "test_network": true}
 *
 * Unknown fields are ignored, as in the index.  Errors name the file and
 * line:column (syntax) or the field (meaning).
 */
#ifndef STITCH_PROJECT_H
#define STITCH_PROJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct stitch_argv {
	size_t argc;
	char **argv; /* NULL-terminated */
};

struct stitch_project {
	char *dir; /* absolute */
	char *manifest; /* dir/unikernel.json */
	char *name;
	char *target; /* default "unix" */
	char **depends; /* requirement strings */
	size_t n_depends;
	struct stitch_argv *generate;
	size_t n_generate;
	char **sources; /* relative to dir */
	size_t n_sources;
	char **cflags;
	size_t n_cflags;
	char **ldflags;
	size_t n_ldflags;
	struct stitch_argv test; /* argc 0 when the project has no test */
	bool test_network; /* the test wants the image up on a tap (harness.h) */
};

/* Find unikernel.json in start or the nearest parent; STITCH_E_NOTFOUND if none. */
int stitch_project_find(const char *start, char **dir, struct stitch_err *err);
/* Read dir/unikernel.json into *p; on failure *p holds nothing to release. */
int stitch_project_load(const char *dir, struct stitch_project *p, struct stitch_err *err);
void stitch_project_release(struct stitch_project *p);

#endif
