/*
 * The switches a root knows: a record in the root of every switch a
 * command of that root has opened or created, so that `stitch switch list`
 * can show them and `stitch switch remove` refuse what is not one of them.
 *
 * Layout: <root>/known-switches/ holds one small file per switch, named by
 * the first 32 hex digits of the SHA-256 of its absolute path and holding
 * that path and a newline (as git keeps one directory per worktree).  One
 * file per switch makes recording atomic (a rename) and needs no lock: two
 * processes recording the same switch write the same bytes, two recording
 * different switches touch different files.
 *
 * Switches made before the record existed are found when a command opens
 * them next (opening records them), and those under <root>/switches/ are
 * listed whether recorded or not; a project's switch that no command has
 * opened since is not listed until one does.
 *
 * Paths given here are absolute and canonical (realpath), except in
 * stitch_registry_forget, which takes the recorded form.
 */
#ifndef STITCH_REGISTRY_H
#define STITCH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Record the switch at dir; recording it again changes nothing. */
int stitch_registry_add(const char *root, const char *dir, struct stitch_err *err);

/*
 * Every recorded switch, and every switch directly under <root>/switches/,
 * each once, sorted.  *dirs is freed with stitch_strings_free (state.h).
 * A record that cannot be read is left out.
 */
int stitch_registry_list(const char *root, char ***dirs, size_t *n, struct stitch_err *err);

/* Is dir recorded, or a switch directly under <root>/switches/? */
bool stitch_registry_knows(const char *root, const char *dir);

/* Drop the record of dir; STITCH_E_NOTFOUND when there is none. */
int stitch_registry_forget(const char *root, const char *dir, struct stitch_err *err);

/* Is dir a switch (dir/.stitch/state.db exists)? */
bool stitch_registry_is_switch(const char *dir);

/*
 * Delete the switch at dir (canonical) and forget it.  It must be a switch
 * this root knows (else STITCH_E_NOTFOUND, saying which; a recorded
 * directory that is no longer a switch loses its record but is left as it
 * is) and no other process may hold it (else STITCH_E_STATE).  The
 * directory is first renamed to a hidden sibling, ".NAME.stitch-removed",
 * in one step, then deleted, so a process killed half-way leaves no half
 * switch at dir; removing dir again deletes that leftover.  When dir is
 * already gone but recorded, the record is dropped and *was_gone set.
 */
int stitch_registry_remove_switch(const char *root, const char *dir, bool *was_gone,
                                  struct stitch_err *err);

#endif
