/* Surprising changes to the packages the user installed by name: see surprise.h. */
#include "surprise.h"

#include <stdlib.h>
#include <string.h>

#include "req.h"
#include "util.h"
#include "version.h"

/* Does a requirement or a pin of the command move name away from version on purpose? */
static bool forced(const struct stitch_asked *asked, const char *name, const char *version)
{
	bool yes = false;

	if (!asked)
		return false;
	for (size_t i = 0; i < asked->n_names && !yes; i++)
		yes = !strcmp(asked->names[i], name);
	for (size_t i = 0; i < asked->n_pins && !yes; i++)
		yes = !strcmp(asked->pins[i].name, name) &&
		      stitch_version_cmp(asked->pins[i].version, version) != 0;
	for (size_t i = 0; i < asked->n_reqs && !yes; i++) {
		struct stitch_req *r;
		if (stitch_req_parse(asked->reqs[i], &r, NULL) != 0)
			continue;
		for (size_t a = 0; a < r->n_alts && !yes; a++)
			yes = !strcmp(r->alts[a].name, name) &&
			      !stitch_vformula_eval(r->alts[a].formula, version);
		stitch_req_free(r);
	}
	return yes;
}

bool stitch_surprise_is(const struct stitch_installed *in, const char *version,
                        const struct stitch_asked *asked)
{
	if (!in->requested)
		return false;
	if (version && stitch_version_cmp(version, in->version) >= 0)
		return false;
	return !forced(asked, in->name, in->version);
}

size_t stitch_surprise_plan(const struct stitch_plan *p, const struct stitch_asked *asked,
                            struct stitch_event **out)
{
	size_t n = 0;

	*out = NULL;
	for (size_t k = 0; k < p->n; k++) {
		const struct stitch_plan_item *it = &p->items[p->order[k]];
		bool removal = it->action == STITCH_ACTION_REMOVE;
		struct stitch_event *ev;
		/* A pinned build has the version its checkout says: pin add asked. */
		if (!it->inst || it->pin || (removal && it->cause.kind == STITCH_CAUSE_REQUESTED))
			continue;
		if (!removal && it->change != STITCH_CHANGE_DOWNGRADE)
			continue;
		if (!stitch_surprise_is(it->inst, removal ? NULL : it->version, asked))
			continue;
		if (!*out)
			*out = xcalloc(p->n, sizeof(**out));
		ev = &(*out)[n++];
		ev->kind = STITCH_EV_PLAN;
		ev->name = it->name;
		ev->version = it->version;
		ev->old_version = it->old_version;
		ev->action = it->action;
		ev->change = it->change;
		ev->cause = it->cause;
	}
	return n;
}
