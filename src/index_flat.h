/*
 * Private to the index: the flat form of one repository.
 *
 * Records refer to strings by offset into one string table and to each
 * other by index, so the same bytes serve as the in-memory build result
 * and as the compiled cache file.  Offsets never exceed UINT32_MAX;
 * FLAT_NONE marks an absent string.  Packages are sorted by name,
 * each package's versions newest first.
 */
#ifndef STITCH_INDEX_FLAT_H
#define STITCH_INDEX_FLAT_H

#include <stdint.h>

#include "error.h"
#include "index.h"
#include "util.h"

#define FLAT_NONE UINT32_MAX

struct flat_list {
	uint32_t first, n;
};

struct flat_pkg {
	uint32_t name, synopsis, license, homepage;
	uint32_t first_version, n_versions;
	struct flat_list succ; /* into succ; first FLAT_NONE: not compiled */
	uint32_t pad;
};

struct flat_version {
	uint32_t version, url, sha256;
	struct flat_list depends, conflicts; /* into refs: strings */
	struct flat_list build, install, test; /* into cmds */
	uint32_t reqs; /* into reqs: its depends then its conflicts */
};

struct flat_cmd {
	struct flat_list args; /* into refs: strings */
};

/* Read-only view of a flat repository (from a builder or a cache file). */
struct flat_view {
	uint32_t doc_name;
	uint32_t n_pkgs, n_versions, n_cmds, n_refs, n_reqs, n_alts;
	uint64_t strings_len;
	const struct flat_pkg *pkgs;
	const struct flat_version *versions;
	const struct flat_cmd *cmds;
	const uint32_t *refs;
	const uint32_t *reqs; /* compiled requirements: see stitch_version.reqs */
	const uint64_t *members; /* per entry of reqs: stitch_version.req_members */
	uint32_t n_succ;
	const uint32_t *succ; /* see stitch_pkg.succ */
	const struct stitch_req_alt *alts;
	const char *strings;
	uint64_t warnings_len; /* bytes of warnings: NUL-terminated messages */
	const char *warnings;
};

/* A flat repository being built from JSON. */
struct flat_builder {
	struct stitch_buf strings;
	uint32_t *hash; /* open addressing: string offset + 1, 0 = empty */
	size_t hash_cap, hash_used;
	struct flat_pkg *pkgs;
	size_t n_pkgs, cap_pkgs;
	struct flat_version *versions;
	size_t n_versions, cap_versions;
	struct flat_cmd *cmds;
	size_t n_cmds, cap_cmds;
	uint32_t *refs;
	size_t n_refs, cap_refs;
	uint32_t *reqs;
	uint64_t *members;
	size_t n_reqs;
	uint32_t *succ;
	size_t n_succ, cap_succ;
	struct stitch_req_alt *alts;
	size_t n_alts, cap_alts;
	uint32_t doc_name;
	/* Problems of dropped packages and versions: NUL-terminated messages. */
	struct stitch_buf warnings;
	size_t n_warnings;
};

void flat_builder_init(struct flat_builder *b);
void flat_builder_release(struct flat_builder *b);
/* Intern a string: equal strings share one offset. */
uint32_t flat_intern(struct flat_builder *b, const char *s, size_t len);
/*
 * Sort packages by name (versions are sorted when each package is added)
 * and compile the requirements (flat_compile_reqs).
 */
/*
 * A pinned checkout's own package object (data, read from file) as a
 * repository of one package called name, whose one version's source is
 * source_url.  STITCH_E_INDEX unless it has exactly one version.
 */
int flat_parse_pin(struct flat_builder *b, const char *file, const char *name,
                   const char *source_url, const char *data, size_t len, struct stitch_err *err);
void flat_builder_finish(struct flat_builder *b);
/* Fill b's reqs and alts: see stitch_version.reqs (index_reqs.c). */
void flat_compile_reqs(struct flat_builder *b);
void flat_builder_view(const struct flat_builder *b, struct flat_view *v);

/*
 * Parse one JSON document (already decompressed) of either shape into b.
 *   shape 2: a whole repository {"format":1,"name":..,"packages":{..}}
 *   shape 1 package file: one package object, whose name must be `expect`
 * `file` names the source in errors.
 */
int flat_parse_repo_doc(struct flat_builder *b, const char *file, const char *data, size_t len,
                        struct stitch_err *err);
/*
 * The same, releasing owner (the buffer holding data) as soon as it is
 * parsed; then warnings carry no line and column (see parse_sources).
 */
int flat_parse_repo_doc_take(struct flat_builder *b, const char *file, const char *data, size_t len,
                             struct stitch_buf *owner, struct stitch_err *err);
int flat_parse_repo_meta(struct flat_builder *b, const char *file, const char *data, size_t len,
                         struct stitch_err *err);
int flat_parse_pkg_file(struct flat_builder *b, const char *file, const char *expect,
                        const char *data, size_t len, struct stitch_err *err);

/* One step of a path into a JSON value: an object's key, else an array's index. */
struct json_step {
	const char *key;
	size_t index;
};

/*
 * The byte offset in text (valid JSON, as jansson parsed it) of the value
 * at path; when the path goes further than the document, of the deepest
 * value on it that exists.
 */
size_t json_locate(const char *text, size_t len, const struct json_step *path, size_t n);
/* The same from the value at byte start. */
size_t json_locate_at(const char *text, size_t len, size_t start, const struct json_step *path,
                      size_t n);
/*
 * In an object, from byte from (just after its '{' or after one of its
 * values): the offset of the value of the next member called key, and in
 * *after the offset just past that value; SIZE_MAX when no later member
 * has that key.  A caller walking the members in order pays for each byte
 * once.
 */
size_t json_next_member(const char *text, size_t len, size_t from, const char *key, size_t *after);
/* The 1-based line and column (in characters) of byte off in text. */
void json_line_col(const char *text, size_t off, int *line, int *col);
/* A position already counted, so that counting further starts there. */
struct json_lc {
	size_t off;
	int line, col;
};
/* json_line_col, counting on from lc when off is not before it; updates lc. */
void json_line_col_from(const char *text, size_t off, struct json_lc *lc);

/*
 * The compiled cache.  stamp: digest of the sources' stat data; content:
 * digest of their bytes.  See index_cache.c for the file layout.
 */
struct cache_key {
	unsigned char stamp[32];
	unsigned char content[32];
	int racy; /* sources changed too recently to trust stat */
};

struct cache_file {
	void *map;
	size_t map_len;
	struct cache_key key;
	struct flat_view view;
};

/* Open path and check it; returns 0 and fills cf, or non-zero if unusable. */
int cache_open(struct cache_file *cf, const char *path, const char *location);
void cache_close(struct cache_file *cf);
/* Write v with key to path atomically (temp file + rename). */
int cache_write(const char *path, const char *location, const struct cache_key *key,
                const struct flat_view *v);

#endif
