/*
 * A switch: an install prefix plus its state (state.h).  This module
 * creates and opens switches and moves a staged package into the prefix,
 * or a package out of it, so that an interrupted process leaves the switch
 * as it was before or, after the next open, as it was meant to be after:
 * each move is written to the state's journal first and rolled forward by
 * whoever opens the switch next.
 */
#ifndef STITCH_SWITCH_H
#define STITCH_SWITCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "state.h"

struct stitch_switch {
	char *dir; /* absolute path of the prefix */
	struct stitch_state *st;
	bool recovered; /* open finished an interrupted operation */
	char *recovered_what; /* e.g. "install of tcp 1.1.0" */
	/*
	 * Where the switch was recorded, when that is not dir: it was moved or
	 * copied.  A writable open relocates it (relocated, with n_relocated
	 * files rewritten); a read-only one leaves it as it is.
	 */
	char *moved_from;
	bool relocated;
	size_t n_relocated;
};

/* Create a switch at dir (and its parents); STITCH_E_EXISTS if there is one. */
int stitch_switch_init(const char *dir, struct stitch_err *err);

/*
 * Open the switch at dir: take its lock (shared when readonly; on_wait is
 * called before blocking on another process), and roll forward an
 * interrupted operation (exclusive opens only).  A switch that is not where
 * its state says it was made is relocated (switch_move.h), journaled, by an
 * exclusive open; a shared one sets moved_from only.  STITCH_E_NOTFOUND when
 * there is no switch there.
 */
int stitch_switch_open(struct stitch_switch **out, const char *dir, bool readonly,
                       void (*on_wait)(void *data, const char *dir), void *data,
                       struct stitch_err *err);
void stitch_switch_close(struct stitch_switch *sw);

/* A package built and installed into a staging directory, ready to go in. */
struct stitch_staged {
	struct stitch_installed info; /* borrowed */
	const char *root; /* staging tree: root/<path> moves to <switch>/<path> */
	struct stitch_file *files; /* paths relative to the switch */
	size_t n_files;
	struct stitch_symbol *syms;
	size_t n_syms;
};

/*
 * Collect the files an install step left under staging (DESTDIR), which
 * must all lie under staging/<switch dir>; fills files (sorted by path,
 * with hashes and modes), symbols of the static archives (via nm), the
 * interface hash (everything but .a and .o files) and *root.  prev, when
 * given, is the build installed now: if the interface files are the same
 * (paths, contents, modes), its interface hash is taken as it is.
 */
int stitch_switch_collect(const struct stitch_switch *sw, const char *staging, const char *label,
                          const struct stitch_installed *prev, struct stitch_staged *out,
                          char interface_hash[65], char **root, struct stitch_err *err);
void stitch_staged_release(struct stitch_staged *sp);

/*
 * Replace the installed version of sp->info.name (if any) with sp: files of
 * the old version that the new one lacks are deleted, the new files moved
 * in, and the state records the package, in that order, journaled.  A file
 * owned by another package is refused before anything changes.
 */
int stitch_switch_commit_install(struct stitch_switch *sw, const struct stitch_staged *sp,
                                 struct stitch_err *err);

/*
 * Delete the files of the installed packages names[0..n) and forget them,
 * as one journaled operation: a process killed in the middle leaves the
 * journal entry, and whoever opens the switch next finishes the removal of
 * all of them.  h (may be NULL) is appended to the history in the same
 * transaction that forgets the packages, so the history says what was done
 * even when the removal was finished by another process.
 */
int stitch_switch_commit_remove(struct stitch_switch *sw, const char *const *names, size_t n,
                                const struct stitch_history *h, struct stitch_err *err);

/* One problem found by stitch_switch_doctor. */
struct stitch_doctor_issue {
	char *package;
	char *path;
	const char *what; /* "missing", "modified", "mode changed", "not a regular file" */
};

/* Check every installed file against its recorded hash and mode. */
int stitch_switch_doctor(struct stitch_switch *sw, struct stitch_doctor_issue **out, size_t *n,
                         size_t *n_checked, struct stitch_err *err);
void stitch_doctor_issues_free(struct stitch_doctor_issue *v, size_t n);

/*
 * Fault injection for the tests of crash recovery: after moving n files of
 * an install into place, or deleting n files of a removal, the process
 * kills itself with SIGKILL.  The
 * library never reads this from the environment; the command line does
 * (STITCH_FAULT=kill-after-moves:N), and tests/cli/t0011-faults.sh uses it.
 */
void stitch_switch_fault_after_moves(int n);

#endif
