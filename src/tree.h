/*
 * Pinned source trees: scanning with a stat cache, as git's index does, so
 * that only files whose stat data changed are hashed; and mirroring into a
 * persistent build directory that keeps modification times, so a package's
 * own make recompiles only what changed.
 *
 * Version-control folders (.git, .hg, .svn, .bzr, _darcs, CVS), stitch's
 * own folders (_build, _stitch) and build outputs (*.o, *.a, *.so, *.d)
 * are not part of a tree.
 */
#ifndef STITCH_TREE_H
#define STITCH_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "state.h"

struct stitch_tree_scan {
	char tree_hash[65]; /* over every file's path, mode and content */
	size_t n_files;
	size_t n_hashed; /* files whose stat data changed and were read */
	size_t n_changed; /* files added, modified or removed since the last scan */
	char *first_changed; /* one of them, for messages; NULL when none */
};

/* Does the tree layer ignore this path component / file name? */
bool stitch_tree_ignored(const char *name, bool is_dir);

/*
 * Scan dir, the tree of pin `pin`, against the pin's stat cache in st,
 * updating the cache (inside the caller's transaction if one is open).
 */
int stitch_tree_scan(struct stitch_state *st, const char *pin, const char *dir,
                     struct stitch_tree_scan *out, struct stitch_err *err);
/* The same without updating the cache: what a dry run sees, changing nothing. */
int stitch_tree_peek(struct stitch_state *st, const char *pin, const char *dir,
                     struct stitch_tree_scan *out, struct stitch_err *err);
void stitch_tree_scan_release(struct stitch_tree_scan *s);

/*
 * Does the symbolic link at rel (a path under root) with this target lead
 * outside root?  Resolved as the kernel would, following the links it meets
 * inside root (a link to "." then ".." is caught), without touching
 * anything outside root.  An absolute target leads outside; so does a chain
 * of more than 40 links.  A target that does not exist but stays inside is
 * fine.
 */
bool stitch_tree_link_escapes(const char *root, const char *rel, const char *target);

/*
 * Make dst mirror src: copy files that are new or whose size or mtime
 * differ (keeping src's mtime and mode), delete files src no longer has;
 * ignored files in dst (build outputs) stay.  *copied counts the copies.
 * A symbolic link in src that leads outside it (stitch_tree_link_escapes)
 * is refused, STITCH_E_BUILD naming it, before anything is copied.
 */
int stitch_tree_mirror(const char *src, const char *dst, size_t *copied, struct stitch_err *err);

#endif
