/*
 * Package repositories and the merged index (index format, sections 1-2).
 *
 * A repository is loaded from its source (a directory, or one document,
 * plain or compressed) or from its compiled form in the cache directory,
 * which is reused while the source's stat stamp and content hash are
 * unchanged.  Either way the result is the same read-only structure below.
 * All strings and arrays belong to the stitch_index and live until
 * stitch_index_free.
 */
#ifndef STITCH_INDEX_H
#define STITCH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

struct stitch_repo;

struct stitch_command {
	size_t argc; /* >= 1 */
	const char *const *argv;
};

struct stitch_cmdlist {
	size_t n;
	const struct stitch_command *cmds;
};

struct stitch_version {
	const char *version;
	const struct stitch_pkg *pkg;
	const char *url; /* as written: absolute URL or repo-relative path */
	const char *sha256; /* lowercase hex, or NULL when not given */
	size_t n_depends;
	const char *const *depends; /* requirement strings in canonical form */
	size_t n_conflicts;
	const char *const *conflicts;
	struct stitch_cmdlist build, install, test;
	/*
	 * The requirements compiled with the repository, for the resolver:
	 * per entry of depends, then of conflicts, the index in the
	 * repository's req_alts of its first alternative, or STITCH_REQ_NONE.
	 * NULL when the index was not loaded from a repository.
	 */
	const uint32_t *reqs;
	/*
	 * Per entry too, the versions of the package whose same list (depends
	 * or conflicts) holds the same string, as bits (bit i: versions[i]);
	 * for a package of at most 64 versions, else all zero.  NULL with reqs.
	 */
	const uint64_t *req_members;
};

#define STITCH_REQ_NONE UINT32_MAX

/*
 * One alternative of a compiled requirement.  A requirement is compiled
 * when each of its alternatives names a package of the same repository
 * with at most 64 versions; its alternatives are consecutive, in order,
 * the last one marked.
 */
struct stitch_req_alt {
	uint32_t pkg; /* index in the repository's pkgs */
	uint32_t last; /* 1 on the requirement's last alternative, else 0 */
	uint64_t mask; /* the versions it matches: bit i is pkg's versions[i] */
};

struct stitch_pkg {
	const char *name;
	const char *synopsis; /* NULL when absent, as are the next two */
	const char *license;
	const char *homepage;
	size_t n_versions;
	const struct stitch_version *versions; /* newest first */
	const struct stitch_repo *repo;
	/*
	 * The packages its versions' depends name, each once, in the order
	 * they are first named (versions newest first), as indices in its
	 * repository's pkgs; compiled with the repository when every one of
	 * those requirements is (stitch_version.reqs), else NULL.
	 */
	const uint32_t *succ;
	size_t n_succ;
};

/* Where a repository comes from, as configured or given with --repo. */
struct stitch_repo_spec {
	const char *name; /* configured name */
	const char *location; /* a directory, a document path, or a file:// URL */
	int priority; /* higher hides lower */
	const char *origin; /* where relative source URLs resolve (a remote
					repository's URL directory); NULL: beside location */
};

struct stitch_repo {
	char *name; /* configured name */
	char *location;
	char *root; /* directory relative source URLs resolve against */
	char *doc_name; /* the "name" the repository gives itself */
	int priority;
	bool from_cache; /* loaded from the compiled form */
	char content_sha256[65]; /* of the repository's source bytes (lowercase hex) */
	size_t n_pkgs;
	const struct stitch_pkg *pkgs; /* sorted by name */
	size_t n_req_alts;
	const struct stitch_req_alt *req_alts; /* see stitch_version.reqs */
	/*
	 * The packages and versions left out because they break the index
	 * format: n_warnings messages, one after another, each ending in NUL,
	 * each naming file:line:column and the reason (a second line may show
	 * the text at fault).  Kept in the compiled cache, so every load sees
	 * them.  stitch_repo_next_warning walks them.
	 */
	size_t n_warnings;
	const char *warnings;
	size_t warnings_len; /* bytes */
	void *store; /* private: backing memory; one copy of each string, so
	                equal strings in one repository are the same pointer */
};

struct stitch_index {
	size_t n_repos;
	struct stitch_repo **repos; /* highest priority first */
	size_t n_visible;
	const struct stitch_pkg **visible; /* overlay applied, sorted by name */
};

/*
 * Load every repository in specs and merge them.  cache_dir (may be NULL:
 * no cache) holds compiled forms; it is created when missing, and a cache
 * that cannot be written is not an error.  Errors name the file, line and
 * column, or the package, version and field.
 */
int stitch_index_open(struct stitch_index **out, const struct stitch_repo_spec *specs,
                      size_t n_specs, const char *cache_dir, struct stitch_err *err);
void stitch_index_free(struct stitch_index *idx);

/*
 * Put a pinned checkout's own package object (file: its stitch.json, a
 * package with one version) above every repository, in memory: package
 * name, built from source_dir.  Nothing is written and nothing reloaded.
 * Errors name the file, line and column, or the field.
 */
int stitch_index_overlay(struct stitch_index *idx, const char *name, const char *file,
                         const char *source_dir, struct stitch_err *err);

/* The visible package called name (overlay applied), or NULL. */
const struct stitch_pkg *stitch_index_find(const struct stitch_index *idx, const char *name);

/* The same package's place in idx->visible, or -1. */
long stitch_index_find_at(const struct stitch_index *idx, const char *name);

/*
 * Binary search of n items sorted by name in strcmp order, where
 * name_at(items, i) is the name of item i: the index of the item called
 * name, or -1 when there is none.  Inline so that name_at is known where it
 * is used and costs no call: stitch_index_find is on the resolver's path.
 */
static inline long stitch_index_bsearch(const void *items, size_t n,
                                        const char *(*name_at)(const void *items, size_t i),
                                        const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name_at(items, mid), name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The version of pkg with exactly this string (or an equal one), or NULL. */
const struct stitch_version *stitch_pkg_find_version(const struct stitch_pkg *pkg,
                                                     const char *version);

/* The warning after w (NULL: the first), or NULL after the last. */
const char *stitch_repo_next_warning(const struct stitch_repo *repo, const char *w);

/* Load one repository alone (no overlay), for checks and export. */
int stitch_repo_load(struct stitch_repo **out, const struct stitch_repo_spec *spec,
                     const char *cache_dir, struct stitch_err *err);
void stitch_repo_free(struct stitch_repo *repo);

/*
 * Write the directory-shaped repository dir as one document at out_path
 * (".json" or ".json.gz"), keeping unknown fields.  Identical input gives
 * byte-identical output: keys sorted, no timestamps.  Validates first; the
 * output file is replaced atomically or not at all.
 */
int stitch_repo_export(const char *dir, const char *out_path, struct stitch_err *err);

#endif
