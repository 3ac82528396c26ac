/*
 * Relocating a switch that was moved or copied (used by switch.c only).
 *
 * Text files a switch installs name the directory it was at (pkg-config
 * files, scripts), so a copied project would build against the original's
 * switch and a moved one against nothing.  A relocation rewrites that path
 * in every installed text file naming it, records their new hashes, moves
 * the pins that lay in the switch's parent directory (the project) along
 * with it, and records the switch's new path.  It is one journaled
 * operation, as an install is: the record is made here, written to the
 * journal by switch.c, then applied and recorded.
 *
 * The record: {"op": "relocate", "from": OLD, "to": NEW,
 *              "files": [{"path", "sha256", "size"}], "pins": [{"name", "path"}]}
 * where sha256 and size are those of the file once rewritten.
 */
#ifndef STITCH_SWITCH_MOVE_H
#define STITCH_SWITCH_MOVE_H

#include <jansson.h>

#include "error.h"
#include "switch.h"

/* The record relocating sw from `from` to sw->dir; NULL with err filled on error. */
json_t *stitch_switch_move_plan(struct stitch_switch *sw, const char *from, struct stitch_err *err);

/*
 * Rewrite the record's files in place (each atomically: the old or the new
 * content).  Idempotent: a file already holding the new content is left
 * alone, so a second run after a crash finishes the job.  after_each (may
 * be NULL) is called with the count of files rewritten so far.
 */
int stitch_switch_move_apply(struct stitch_switch *sw, json_t *rec, void (*after_each)(int n),
                             struct stitch_err *err);

/* Record the new hashes, the pins' new paths and the switch's path (inside a transaction). */
int stitch_switch_move_record(struct stitch_switch *sw, json_t *rec, struct stitch_err *err);

#endif
