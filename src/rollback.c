/*
 * The target of a rollback (rollback.h): the snapshot of one history
 * entry, each package found in the index and each pin's checkout checked,
 * before anything changes.
 */
#include "rollback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* The version p had, from the repositories in use; refused naming it when none has it. */
static int find_version(const struct stitch_index *idx, const struct stitch_snap_pkg *p, int64_t id,
                        const struct stitch_version **out, struct stitch_err *err)
{
	const struct stitch_pkg *pkg = stitch_index_find(idx, p->name);

	*out = pkg ? stitch_pkg_find_version(pkg, p->version) : NULL;
	if (*out)
		return 0;
	stitch_error(err, STITCH_E_NOTFOUND,
	             "cannot roll back to operation %lld: '%s %s' is in no repository in use",
	             (long long)id, p->name, p->version);
	return stitch_error_cause(err, "%s",
	                          pkg ? "the repositories no longer list that version"
	                              : "the repositories no longer list that package");
}

/* A pin's checkout must still be a directory. */
static int check_pin(const struct stitch_pin *pin, int64_t id, struct stitch_err *err)
{
	struct stat sb;
	int e = stat(pin->path, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;

	if (!e)
		return 0;
	stitch_error(err, STITCH_E_NOTFOUND,
	             "cannot roll back to operation %lld: the checkout '%s' of pinned '%s' is gone",
	             (long long)id, pin->path, pin->name);
	return stitch_error_cause(err, "%s", strerror(e));
}

int stitch_rollback_prepare(struct stitch_state *st, const struct stitch_index *idx, int64_t id,
                            struct stitch_rollback *out, struct stitch_err *err)
{
	struct stitch_snapshot *s = &out->snap;
	const struct stitch_version **versions;
	const char **requested;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = stitch_state_history_snapshot(st, id, s, err)) != 0)
		return rc;
	if (!s->entry.snapshot) {
		stitch_snapshot_release(s);
		return stitch_error(err, STITCH_E_NOTFOUND,
		                    "cannot roll back to operation %lld: it was recorded without "
		                    "the state it left (by an older stitch)",
		                    (long long)id);
	}
	versions = xcalloc(s->n_pkgs + 1, sizeof(*versions));
	requested = xcalloc(s->n_pkgs + 1, sizeof(*requested));
	out->target.versions = versions;
	out->target.requested = requested;
	out->target.pins = s->pins;
	out->target.n_pins = s->n_pins;
	for (size_t i = 0; i < s->n_pins && rc == 0; i++)
		rc = check_pin(&s->pins[i], id, err);
	for (size_t i = 0; i < s->n_pkgs && rc == 0; i++) {
		rc = find_version(idx, &s->pkgs[i], id, &versions[i], err);
		if (s->pkgs[i].requested)
			requested[out->target.n_requested++] = s->pkgs[i].name;
	}
	out->target.n_versions = s->n_pkgs;
	if (rc)
		stitch_rollback_release(out);
	return rc;
}

void stitch_rollback_release(struct stitch_rollback *rb)
{
	free((void *)rb->target.versions);
	free((void *)rb->target.requested);
	stitch_snapshot_release(&rb->snap);
	memset(rb, 0, sizeof(*rb));
}
