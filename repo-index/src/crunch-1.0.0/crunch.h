/*
 * crunch: a directory of files compiled into C, and the lookup over it.
 *
 * `crunch DIR -o OUT.c [-n NAME]` writes C source holding every regular
 * file under DIR (symbolic links to regular files included, links to
 * directories not followed) as
 *
 *	extern const struct crunch_file NAME_files[];   sorted by path
 *	extern const size_t NAME_count;
 *
 * Paths start with "/" and are relative to DIR; the order is byte order
 * (strcmp).  The output is deterministic: the same tree gives the same
 * bytes, whatever the time, the user or the spelling of DIR.
 */
#ifndef CRUNCH_H
#define CRUNCH_H

#include <stddef.h>

#define CRUNCH_VERSION "1.0.0"

struct crunch_file {
	const char *path; /* "/index.html" */
	const unsigned char *data; /* size bytes, followed by nothing in particular */
	size_t size;
};

/*
 * The file of files[0..n) (sorted by path, as crunch writes them) whose
 * path is path, by binary search; "/" and paths ending in "/" get
 * "index.html" appended.  NULL when there is none.
 */
const struct crunch_file *crunch_lookup(const struct crunch_file *files, size_t n,
                                        const char *path);

#endif
