/*
 * stitch rollback N: the switch as operation N of its history left it,
 * resolved against the repositories in use, ready for stitch_op_apply.
 */
#ifndef STITCH_ROLLBACK_H
#define STITCH_ROLLBACK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "index.h"
#include "op.h"
#include "state.h"

struct stitch_rollback {
	struct stitch_snapshot snap; /* entry N and its snapshot */
	struct stitch_op_target target; /* its arrays are owned; strings borrowed from snap */
};

/*
 * Read entry id of st's history and resolve its snapshot against idx.
 * Refused, with nothing changed and the package named:
 * STITCH_E_NOTFOUND  no entry id; or it was recorded without a snapshot (by
 *                    an older stitch); or a package's version is in no
 *                    repository in use; or a pin's checkout is gone
 * plus the errors of the state.  Release with stitch_rollback_release.
 */
int stitch_rollback_prepare(struct stitch_state *st, const struct stitch_index *idx, int64_t id,
                            struct stitch_rollback *out, struct stitch_err *err);
void stitch_rollback_release(struct stitch_rollback *rb);

#endif
