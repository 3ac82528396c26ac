/*
 * Private to the archive module (archive.c, archive_check.c,
 * archive_pack.c): the one model of an archive both directions share.
 *
 * An archive is a list of entries in archive order, each with its name as
 * stored and its normalized path relative to the target.  Unpacking builds
 * the list from a first pass over the archive; packing builds it from the
 * source tree.  Both run archive_check_entries() on it, so pack never makes
 * an archive that unpack would refuse.
 */
#ifndef STITCH_ARCHIVE_INT_H
#define STITCH_ARCHIVE_INT_H

#include <stddef.h>

#include "error.h"

/* Longest entry path (normalized) or link target we accept, well below PATH_MAX. */
#define MAX_ENTRY_PATH 1024

enum ent_type { ENT_FILE, ENT_DIR, ENT_SYMLINK, ENT_HARDLINK };

struct ent {
	char *raw; /* the name as stored, for messages and the second pass */
	char *path; /* normalized, top stripped; "" is the target itself */
	size_t len; /* strlen(path) */
	char *raw_link; /* symlink target, or hard link target as stored */
	char *link; /* hard links: normalized, stripped target, NULL if outside */
	enum ent_type type;
	unsigned perm;
};

/* Owned by whoever declares it; zero-initialize, free with archive_ents_release. */
struct ents {
	struct ent *v;
	size_t n, cap;
	size_t *sorted; /* indices of v by path, filled by archive_check_entries */
};

void archive_ents_release(struct ents *es);

/* Append an entry with raw name and type, all else zero; valid until the next add. */
struct ent *archive_ents_add(struct ents *es, const char *raw, enum ent_type type);

/*
 * A relative name without empty and "." components, freshly allocated;
 * NULL for absolute names and names with a ".." component.
 */
char *archive_normalize(const char *name);

/*
 * Check the entry list as a whole; what starts every message ("cannot
 * unpack 'x.tar.gz'").  Refuses, with STITCH_E_ARCHIVE: a non-directory at
 * the target itself (path ""), a path listed twice unless both are
 * directories, an entry under a symlink or another non-directory, a symlink
 * that resolves outside the target or loops, a hard link to anything but an
 * earlier file.  Fills es->sorted.
 */
int archive_check_entries(struct ents *es, const char *what, struct stitch_err *err);

#endif
