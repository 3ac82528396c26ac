/*
 * Surprising changes: what an operation would do to the packages the user
 * installed by name that the command did not ask for.  A downgrade or a
 * removal of such a package is one (opam, apt and cargo ask or refuse
 * there); an upgrade, a rebuild or a change to a dependency nobody named is
 * not.  Pure functions of the plan, the switch's installed set and the
 * command's own request: cmd/ decides whether to ask, and how.
 */
#ifndef STITCH_SURPRISE_H
#define STITCH_SURPRISE_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "plan.h"
#include "solve.h"
#include "state.h"

/*
 * What the command itself asked for: its requirement strings (which may
 * force a package's own downgrade, as 'tcp {< 1.1}' does when tcp 1.1.0 is
 * installed), its extra pins (install --pin NAME=VERSION), and the packages
 * it changes on purpose whatever their version (pin remove's, which goes
 * back to the release).
 */
struct stitch_asked {
	const char *const *reqs;
	size_t n_reqs;
	const struct stitch_solve_pin *pins;
	size_t n_pins;
	const char *const *names;
	size_t n_names;
};

/*
 * Would changing the installed package in to version (NULL: removing it)
 * surprise the user?  Yes when the switch records in as installed by name
 * (requested) and the change is a downgrade or a removal that asked (which
 * may be NULL) does not force: a requirement naming the package that its
 * installed version does not meet, a pin naming it at another version, or
 * its name in asked->names forces it.  A requirement that does not parse
 * forces nothing.
 */
bool stitch_surprise_is(const struct stitch_installed *in, const char *version,
                        const struct stitch_asked *asked);

/*
 * The surprising changes of plan p, in the plan's order, as PLAN events
 * (their strings belong to p) in *out, malloc'd; returns how many (*out is
 * NULL when none).  A removal whose cause is STITCH_CAUSE_REQUESTED (named
 * in stitch remove) is never one; one that goes because a package it needs
 * goes is, when the user installed it by name.  A package built from a pin
 * is not one either: the pin chose its version (pin add asks about that).
 */
size_t stitch_surprise_plan(const struct stitch_plan *p, const struct stitch_asked *asked,
                            struct stitch_event **out);

#endif
