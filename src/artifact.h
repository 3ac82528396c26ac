/*
 * The artifact cache: built packages stored by build hash, so a package
 * whose inputs were built before (here, or by another machine sharing a
 * remote cache) is unpacked instead of compiled.
 *
 * Layout, the same locally (<root>/cache/artifacts) and on a remote HTTP
 * server (any server that answers GET and PUT, such as nginx with WebDAV):
 *
 *   <build hash>.json       what was built from what: the build inputs, the
 *                           interface hash, and the archive's SHA-256
 *   <archive sha256>.tar.zst  the staged files, relative to the switch
 *
 * Locally the archive is kept as <archive sha256> (the fetch cache's
 * naming).  Nothing fetched is trusted on its name: a description must hash
 * back to the build hash it was asked for, an archive to the SHA-256 its
 * description names, and the unpacked files to the interface hash it
 * records.  Anything else is rejected and the package is built.
 *
 * Artifacts are relocatable: text files that mention the switch's
 * directory (pkg-config files) are stored with a placeholder in its place
 * and get the new switch's directory on the way in.  A package with a
 * binary file that mentions it is not cached.
 */
#ifndef STITCH_ARTIFACT_H
#define STITCH_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "util.h"

/* Everything a build hash covers. */
struct stitch_build_inputs {
	const char *name, *version;
	const char *source; /* SHA-256 of the source archive, or a pin's tree hash */
	const char *target; /* "unix" */
	const char *cc; /* the compiler's identity (first line of cc --version) */
	const char *recipe; /* SHA-256 of the build and install commands */
	size_t n_deps;
	const char *const *dep_names; /* sorted by name */
	const char *const *dep_ifaces; /* their interface hashes */
};

/* The build hash: SHA-256 of a canonical text of the inputs. */
void stitch_build_inputs_hash(const struct stitch_build_inputs *in, char out[65]);

/* One artifact's description (<build hash>.json). */
struct stitch_artifact {
	char build_hash[65];
	char interface_hash[65];
	char archive_sha256[65];
	long long archive_size;
	long long n_files; /* entries in the archive; -1 when not recorded */
	char *name, *version, *source, *target, *cc, *recipe;
	size_t n_deps;
	char **dep_names, **dep_ifaces;
	size_t n_relocate;
	char **relocate; /* files that carry the placeholder */
	const char *where; /* "local" or "remote": where it was found */
};
void stitch_artifact_release(struct stitch_artifact *a);

struct stitch_artifacts;

struct stitch_artifacts_opts {
	const char *dir; /* <root>/cache/artifacts, created when missing */
	const char *remote; /* base URL of a shared cache, or NULL */
	bool push; /* upload new artifacts to remote */
};

struct stitch_artifacts *stitch_artifacts_new(const struct stitch_artifacts_opts *o);
void stitch_artifacts_free(struct stitch_artifacts *a);

/*
 * Find the description of build_hash: in the local cache, else on the
 * remote (then it is kept locally).  A remote that cannot be reached is
 * not asked again by this process: the first failure is reported, later
 * lookups are misses.  0 when found, STITCH_E_NOTFOUND when
 * neither has it, another code (with err saying why) when the remote
 * failed or answered something that does not hash back to build_hash.
 */
int stitch_artifacts_lookup(struct stitch_artifacts *a, const char *build_hash,
                            struct stitch_artifact *out, struct stitch_err *err);

/*
 * Unpack the artifact under dest_root (the staging directory's image of
 * the switch directory switch_dir), fetching its archive from the remote
 * when it is not local.  The archive must match its SHA-256.
 */
int stitch_artifacts_unpack(struct stitch_artifacts *a, const struct stitch_artifact *art,
                            const char *dest_root, const char *switch_dir, struct stitch_err *err);

/*
 * Store what a build staged under root (files relative to it, sorted) as
 * the artifact for in, locally and, when pushing, on the remote.  *uploaded
 * tells whether the remote took it.  A failed upload is an error in err
 * but the local store stands; STITCH_E_ARCHIVE when the files cannot be
 * relocated (nothing is stored).
 */
int stitch_artifacts_store(struct stitch_artifacts *a, const struct stitch_build_inputs *in,
                           const char *build_hash, const char *interface_hash, const char *root,
                           const char *const *paths, size_t n_paths, const char *switch_dir,
                           bool *uploaded, struct stitch_err *err);

/*
 * The first time the remote could not be reached, once: why (then it is
 * no longer asked).  NULL otherwise.
 */
const struct stitch_err *stitch_artifacts_remote_failure(struct stitch_artifacts *a);

/*
 * Why the cache holds no artifact for in: compare with the newest local
 * artifact of the same package and describe the inputs that differ
 * ("cc version changed", "interface of tcp changed").  Returns false when
 * the cache holds no artifact of that package at all.
 */
bool stitch_artifacts_explain(struct stitch_artifacts *a, const struct stitch_build_inputs *in,
                              struct stitch_buf *out);

/*
 * Remove the local artifacts not used for unused_seconds (a description's
 * mtime is its last use), and the archives no remaining description names.
 * *removed counts the artifacts, *bytes what was freed.
 */
int stitch_artifacts_prune(struct stitch_artifacts *a, long long unused_seconds, size_t *removed,
                           long long *bytes, struct stitch_err *err);

/* The placeholder that stands for the switch directory in stored artifacts. */
#define STITCH_PREFIX_PLACEHOLDER "/stitch-relocatable-prefix-placeholder"

#endif
