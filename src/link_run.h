/*
 * The bottom of the link: running the tools (generate commands, pkg-config,
 * the compiler, the linker) in a fixed environment, and the small stamp
 * files that let a no-op build skip them.  Called by link_compile.c and
 * link.c; calls neither.
 */
#ifndef STITCH_LINK_RUN_H
#define STITCH_LINK_RUN_H

#include <stddef.h>

#include "error.h"
#include "link.h"
#include "util.h"

/* Where and how the tools run: made by link_runner_init(). */
struct link_runner {
	char *path; /* PATH value */
	char **envp;
	const char *cwd;
	const char *log; /* stdout and stderr of tools, appended */
};

/*
 * The fixed environment the tools run in: the switch's tools, no user
 * settings, the project as the directory; the log <project>/_build/build.log
 * starts empty.  link_runner_release() frees what it holds.
 */
void link_runner_init(struct link_runner *re, const struct stitch_link_opts *o);
void link_runner_release(struct link_runner *re);

/*
 * Run argv (argv[0] looked up in the runner's PATH); its stdout goes into
 * out when out is given, else into the log, and its stderr into the log.
 * Returns 0, or STITCH_E_BUILD with the command and the log's last lines.
 */
int link_run(const struct link_runner *r, char *const *argv, struct stitch_buf *out,
             struct stitch_err *err);

/* Append the words of s to the NULL-terminated *v (*n words, room for *cap). */
void link_words_add(char ***v, size_t *n, size_t *cap, const char *s);
/* Free n words and the array. */
void link_words_free(char **v, size_t n);

/*
 * Append a line of stat data for every file below root/rel (rel "" for
 * root itself) that is not ignored (_build, _stitch, VCS folders) and not
 * one of the n_exclude absolute paths of exclude.
 */
void link_stamp_tree(const char *root, const char *rel, struct stitch_buf *b,
                     const char *const *exclude, size_t n_exclude);

/*
 * A small cache file: first line a 64-character key, then the value.
 * link_cache_read() returns the value (the caller frees it) when the file
 * holds key, else NULL; link_cache_write() replaces the file at once, and
 * leaves no file when it cannot.
 */
char *link_cache_read(const char *path, const char *key);
void link_cache_write(const char *path, const char *key, const char *value);

#endif
