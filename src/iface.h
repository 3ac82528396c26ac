/*
 * A package's interface: what its dependents compile against, that is
 * every file it installs but archives and objects.  Its hash decides
 * whether they rebuild after it did (early cutoff).  A header counts with
 * the text the compiler sees in it: comments stripped by the compiler's
 * own preprocessor (`cc -fpreprocessed -dD -E`: no include or macro
 * expanded) and whitespace runs made one space, so an edit to a header's
 * comments or layout keeps dependents while any change to a macro or a
 * declaration rebuilds them.  A text that names the switch directory (a
 * pkg-config file) counts with a placeholder in its place, so the hash is
 * the same in every switch.
 */
#ifndef STITCH_IFACE_H
#define STITCH_IFACE_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"
#include "util.h"

/* Is the file at path (relative to the switch) part of the interface? */
bool stitch_iface_member(const char *path);

/* Is it a header, counted with what the compiler sees? */
bool stitch_iface_header(const char *path);

/*
 * A header's text as the compiler sees it, appended to out: comments
 * gone, each whitespace run outside string and character literals one
 * space, lines trimmed, empty lines dropped, `#pragma once` kept (the
 * preprocessor takes it in a main file).  -1 when cc cannot read it (no
 * cc, an unterminated comment): the caller counts the bytes as they are.
 */
int stitch_iface_header_text(const char *path, struct stitch_buf *out);

/*
 * The hash file f counts with in the interface of a package installed in
 * the switch at sw_dir; full is where f's content is now (the switch or a
 * staging tree).  A file that cannot be read counts with f->sha256.
 */
void stitch_iface_file_hash(const char *full, const struct stitch_file *f, const char *sw_dir,
                            char out[65]);

/* What changed in a package's interface between two builds, for messages. */
struct stitch_iface_change {
	size_t n_changed; /* interface files added, removed, or counting differently */
	size_t n_cosmetic; /* others with new bytes the compiler does not see */
	char first[256]; /* the first changed file, else the first cosmetic one; "" when none */
};

/*
 * Compare the files of name installed in st's switch (at sw_dir) with
 * files, its new build, whose contents lie under base.  Only the files
 * whose bytes differ are read.
 */
void stitch_iface_compare(struct stitch_state *st, const char *sw_dir, const char *name,
                          const struct stitch_file *files, size_t n_files, const char *base,
                          struct stitch_iface_change *out);

#endif
