/*
 * Package names and versions (index format, section 3).
 */
#ifndef STITCH_VERSION_H
#define STITCH_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Order two versions as Debian and opam do: alternating non-digit and digit
 * runs, digit runs compared numerically with no length limit, non-digit
 * runs character by character with '~' before the end of the run, the end
 * before letters, letters before every other character.  Returns <0, 0, >0.
 * Works on any bytes; validity is checked separately.
 */
int stitch_version_cmp(const char *a, const char *b);
int stitch_version_cmpn(const char *a, size_t alen, const char *b, size_t blen);

/*
 * A sort key for the common versions, digit runs of at most four digits
 * joined by single dots, at most four of them ("1.2.3", "2022.11.01"):
 * for two versions that both have one, comparing the keys as integers
 * orders them as stitch_version_cmp does.  0 for any other version.
 */
uint64_t stitch_version_key(const char *s);

/*
 * Where version v falls among n distinct versions sorted newest first
 * (keys[i] = stitch_version_key(versions[i]), vkey that of v): versions
 * [0, *lo) are newer, [*lo, *hi) equal (at most one), [*hi, n) older.  A
 * binary search, by keys where both sides have one.
 */
void stitch_version_cut(const char *const *versions, const uint64_t *keys, int n, const char *v,
                        uint64_t vkey, int *lo, int *hi);

/* Does s[0..len) match [A-Za-z0-9_+.~-]+ ? */
bool stitch_version_valid(const char *s, size_t len);

/* Does s[0..len) match [A-Za-z0-9][A-Za-z0-9_+.-]* ? */
bool stitch_name_valid(const char *s, size_t len);

#endif
