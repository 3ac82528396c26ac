/*
 * Package names and versions (index format, section 3).
 */
#ifndef STITCH_VERSION_H
#define STITCH_VERSION_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Order two versions as Debian and opam do: alternating non-digit and digit
 * runs, digit runs compared numerically with no length limit, non-digit
 * runs character by character with '~' before the end of the run, the end
 * before letters, letters before every other character.  Returns <0, 0, >0.
 * Works on any bytes; validity is checked separately.
 */
int stitch_version_cmp(const char *a, const char *b);
int stitch_version_cmpn(const char *a, size_t alen, const char *b, size_t blen);

/* Does s[0..len) match [A-Za-z0-9_+.~-]+ ? */
bool stitch_version_valid(const char *s, size_t len);

/* Does s[0..len) match [A-Za-z0-9][A-Za-z0-9_+.-]* ? */
bool stitch_name_valid(const char *s, size_t len);

#endif
