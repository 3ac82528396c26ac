/*
 * The plan: what an operation will do to each package, as a value.
 *
 * stitch_plan_make is a pure function of the solution, the switch's
 * installed set, the pins (with their scanned trees), the sources' hashes
 * and the artifact cache's answers.  It reads no file and changes nothing,
 * so `--dry-run` prints it and tests hold it without running anything.
 * The executor (op.c) runs it, asking stitch_plan_decide again for a
 * package once its dependencies have settled: that is where early cutoff
 * happens (a dependency rebuilt with an unchanged interface leaves its
 * dependents kept).
 */
#ifndef STITCH_PLAN_H
#define STITCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "iface.h"
#include "index.h"
#include "state.h"
#include "tree.h"

enum stitch_action {
	STITCH_ACTION_KEEP, /* installed and up to date: nothing to do */
	STITCH_ACTION_BUILD, /* from source: not installed, or at another version */
	STITCH_ACTION_REBUILD, /* from source again: same version, an input changed */
	STITCH_ACTION_CACHED, /* unpacked from the artifact cache, not compiled */
	STITCH_ACTION_REMOVE,
	STITCH_ACTION_RELINK, /* the project's image (stitch build) */
	STITCH_ACTION__COUNT
};

/* Why an item has its action: a kind and what it names. */
enum stitch_cause_kind {
	STITCH_CAUSE_NONE,
	STITCH_CAUSE_NEW, /* not installed */
	STITCH_CAUSE_PIN_FIRST, /* pinned and not installed: its first build */
	STITCH_CAUSE_VERSION, /* another version is chosen; subject: the installed one */
	STITCH_CAUSE_UP_TO_DATE,
	STITCH_CAUSE_DEP_UNCHANGED, /* subject rebuilt, its interface the same: kept */
	STITCH_CAUSE_DEP_PENDING, /* kept unless the interface of subject changes */
	STITCH_CAUSE_PIN_ADDED,
	STITCH_CAUSE_PIN_REMOVED, /* back to the release */
	STITCH_CAUSE_FILES_CHANGED, /* count files of the pin changed; subject: one */
	STITCH_CAUSE_TREE_DIFFERS, /* the pin's tree is not the one last built */
	STITCH_CAUSE_SOURCE_CHANGED,
	STITCH_CAUSE_DEP_CHANGED, /* the interface of subject changed */
	STITCH_CAUSE_RECIPE, /* its recipe or the toolchain changed */
	STITCH_CAUSE_DEP_FAILED, /* not built: subject failed */
	STITCH_CAUSE_REQUESTED, /* removed because asked */
	STITCH_CAUSE_NEEDS_REMOVED, /* removed because it needs subject, which goes */
	STITCH_CAUSE__COUNT
};

struct stitch_cause {
	enum stitch_cause_kind kind;
	const char *subject; /* a package name, a version or a file; may be NULL */
	size_t count;
	/*
	 * DEP_CHANGED, DEP_UNCHANGED: the first file of the dependency's
	 * interface that changed (count: how many), or that changed only in
	 * what the compiler does not see; NULL when none did.
	 */
	const char *detail;
};

/* The version-level change, as the history records it; KEEP: same version. */
enum stitch_plan_change {
	STITCH_PLAN_KEEP = -1,
	/* otherwise an enum stitch_change_action (state.h) */
};

struct stitch_plan_item {
	const char *name;
	const char *version; /* the version it will have (the removed one for REMOVE) */
	const char *old_version; /* installed version; NULL when not installed */
	const struct stitch_version *v; /* NULL for REMOVE */
	const struct stitch_installed *inst; /* NULL when not installed */
	const struct stitch_pin *pin; /* built from a local tree; NULL for a release */
	const struct stitch_tree_scan *scan; /* of the pin's tree; NULL when not pinned */
	int change; /* enum stitch_change_action, or STITCH_PLAN_KEEP */
	enum stitch_action action;
	struct stitch_cause cause;
	bool fetch; /* its source must be downloaded first */
	bool requested; /* asked for, not only pulled in */
	size_t *deps; /* indices of the items it depends on */
	size_t n_deps;
	char source_sha256[65]; /* "" unknown until fetched */
	char recipe[65];
	char build_hash[65]; /* "" while a dependency's interface is unknown */
	char interface_hash[65]; /* known ahead (kept, cached) or once built; "" unknown */
	struct stitch_iface_change iface_change; /* once built: against the installed build */
};

/*
 * The artifact cache's answer: does it hold a build with this build hash?
 * If so, true with that build's interface hash in iface.
 */
typedef bool (*stitch_plan_cache_fn)(void *data, const char *build_hash, char iface[65]);

struct stitch_plan_in {
	const struct stitch_version *const *chosen; /* the solution */
	size_t n_chosen;
	const struct stitch_installed *installed;
	size_t n_installed;
	const struct stitch_pin *pins; /* in force for this switch */
	size_t n_pins;
	const struct stitch_tree_scan *scans; /* scans[i] of pins[i]'s tree, or NULL */
	/* Sources' SHA-256 per chosen version when the index gives none (may be NULL). */
	const char *const *source_sha256;
	const char *const *requested; /* requirement strings the user gave */
	size_t n_requested;
	const char *cc_id; /* the compiler's identity */
	const char *target; /* "unix" */
	stitch_plan_cache_fn cached; /* may be NULL: no cache */
	void *cache_data;
};

struct stitch_plan {
	struct stitch_plan_item *items; /* sorted by name */
	size_t n;
	size_t *order; /* dependencies first, ties by name */
	char *cc_id, *target;
	stitch_plan_cache_fn cached;
	void *cache_data;
};

#define STITCH_PLAN_INIT \
	{                \
		0        \
	}

/*
 * Plan installing in->chosen over in->installed.  Fails with STITCH_E_CONFLICT
 * naming the cycle when the chosen packages depend on each other in a
 * circle (nothing could build first), STITCH_E_PARSE for a requirement
 * that does not parse.  Release with stitch_plan_release.
 */
int stitch_plan_make(const struct stitch_plan_in *in, struct stitch_plan *out,
                     struct stitch_err *err);

/*
 * Decide item i again from its dependencies' interface hashes as they
 * stand now.  The executor calls it once every dependency has settled.
 */
void stitch_plan_decide(struct stitch_plan *p, size_t i);

/* Item i, planned as CACHED, could not be served: build it from source. */
void stitch_plan_build_instead(struct stitch_plan *p, size_t i);

/*
 * Plan removing names (installed packages) from installed.  Refused with
 * STITCH_E_NOTFOUND for a name that is not installed, and with
 * STITCH_E_CONFLICT naming them when a package that stays needs one,
 * unless recursive: then those go too.  The order is dependents first.
 */
int stitch_plan_remove(const struct stitch_installed *installed, size_t n_installed,
                       const char *const *names, size_t n, bool recursive, struct stitch_plan *out,
                       struct stitch_err *err);

/* The item called name, or NULL. */
struct stitch_plan_item *stitch_plan_find(const struct stitch_plan *p, const char *name);

/* The build inputs of item i with its dependencies' interfaces as they stand. */
struct stitch_build_inputs;
void stitch_plan_inputs(const struct stitch_plan *p, size_t i, const char **names,
                        const char **ifaces, struct stitch_build_inputs *in);

/* Counts of the plan's items per action. */
void stitch_plan_count(const struct stitch_plan *p, size_t counts[STITCH_ACTION__COUNT]);

void stitch_plan_release(struct stitch_plan *p);

/* SHA-256 of a version's build and install commands. */
void stitch_recipe_hash(const struct stitch_version *v, char out[65]);

#endif
