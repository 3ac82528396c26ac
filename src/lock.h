/*
 * stitch.lock: what a project's image is built from, exactly, so CI can
 * build it again bit for bit.  The format is share/doc/lockfile.md.
 *
 * The text is JSON written in one fixed order (keys as listed there,
 * packages by name), two-space indented, ending with a newline: the same
 * lock is always the same bytes.
 */
#ifndef STITCH_LOCK_H
#define STITCH_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define STITCH_LOCK_VERSION 1

struct stitch_lock_pkg {
	char *name, *version;
	char *url; /* as the index writes it; NULL for a pin */
	char *sha256; /* of the source archive; NULL for a pin */
	char *recipe; /* SHA-256 of the build and install commands */
	char *repository; /* repository name; NULL for a pin's own recipe */
	char **depends; /* names of the locked packages it needs, sorted */
	size_t n_depends;
	char *pin_path; /* a path pin: relative to the project when inside it */
	char *pin_tree; /* its tree hash when locked */
};

struct stitch_lock_repo {
	char *name;
	char *sha256; /* of the repository's content when locked */
};

struct stitch_lock {
	char *project, *target;
	char **requires; /* the project's depends, as written, then the platform */
	size_t n_requires;
	char *cc, *ld; /* first lines of `cc --version` and `ld --version` */
	struct stitch_lock_repo *repos; /* sorted by name */
	size_t n_repos;
	struct stitch_lock_pkg *pkgs; /* sorted by name */
	size_t n_pkgs;
};

/* The lock's text (malloc'd). */
char *stitch_lock_dump(const struct stitch_lock *l);
/*
 * Read a lock.  Errors name the file and line:column (syntax) or the field
 * (meaning); a lock_version newer than this stitch knows is refused.
 */
int stitch_lock_load(const char *path, struct stitch_lock *l, struct stitch_err *err);
/* Write atomically (temporary file, fsync, rename). */
int stitch_lock_save(const char *path, const struct stitch_lock *l, struct stitch_err *err);
void stitch_lock_release(struct stitch_lock *l);

const struct stitch_lock_pkg *stitch_lock_find(const struct stitch_lock *l, const char *name);

/*
 * The differences that make b a different build than a, one line each
 * ("tcp: 1.0.0 -> 1.1.0"), into out; returns how many.  Toolchain and
 * repository hashes are not counted: they go to notes (may be NULL).
 */
size_t stitch_lock_diff(const struct stitch_lock *a, const struct stitch_lock *b, char ***out,
                        char ***notes, size_t *n_notes);

/* ---- lock_resolve.c ---- */

struct stitch_index;
struct stitch_state;
struct stitch_project;
struct stitch_target;
struct stitch_version;
struct stitch_buf;

/* <project>/stitch.lock */
char *stitch_lock_path(const struct stitch_project *p);

/*
 * Resolve project p for target t into a lock: versions, sources, recipes,
 * repositories, toolchain, and the pins of st (the project's switch; may
 * be NULL).  Prefers the versions of prefer, when given, else those st has
 * installed; upgrade prefers the newest.  STITCH_E_UNSAT with the
 * explanation in why when nothing fits.
 */
int stitch_lock_compute(const struct stitch_index *idx, struct stitch_state *st,
                        const struct stitch_project *p, const struct stitch_target *t,
                        const struct stitch_lock *prefer, bool upgrade, struct stitch_lock *out,
                        struct stitch_buf *why, struct stitch_err *err);

/*
 * The index's versions for what l locks, checked: the lock is for this
 * project and target, each version exists with the locked checksum and
 * recipe, pins only with allow_pins, and the set is whole.  Errors name
 * the package and what differs (STITCH_E_CONFLICT, STITCH_E_NOTFOUND,
 * STITCH_E_CHECKSUM).  *out (free it) holds l->n_pkgs versions.
 */
int stitch_lock_versions(const struct stitch_index *idx, struct stitch_state *st,
                         const struct stitch_project *p, const struct stitch_target *t,
                         const struct stitch_lock *l, bool allow_pins,
                         const struct stitch_version ***out, size_t *n_out, struct stitch_err *err);

#endif
