/*
 * The switch's state: what is installed, which files each package owns,
 * which symbols its archives define, which pins exist with the stat cache of
 * their trees, every operation in history, and the journal of an install in
 * progress.  One sqlite3 database per switch, SW/.stitch/state.db.
 *
 * A switch is a directory SW that is the install prefix (SW/include, SW/lib,
 * SW/bin, ...) plus SW/.stitch/ holding state.db, lock, build/, logs/ and
 * staging/.  This module creates SW/.stitch and owns state.db and lock;
 * the other entries belong to their modules.
 *
 * Concurrency.  Opening takes flock() on SW/.stitch/lock: exclusive by
 * default, shared with STITCH_STATE_READONLY.  So two stitch processes that
 * change one switch take turns (the second waits), readers run together, and
 * a reader never sees a switch in the middle of a change that spans the
 * database and the file system.  The lock is held until stitch_state_close;
 * its descriptor is close-on-exec, so build commands never inherit it.
 *
 * Durability.  WAL mode with synchronous=FULL: every commit is on disk when
 * stitch_state_commit returns.  NORMAL would be enough to keep the database
 * consistent, but a commit could then be lost on power failure after the
 * caller has already moved files into the prefix on the strength of it
 * (the journal below), which would leave the switch between two states.  A
 * stitch operation commits a handful of times, so the extra fsync is cheap.
 *
 * Transactions.  Every function that writes runs inside a savepoint: outside
 * stitch_state_begin it is atomic on its own (and durable on return); inside
 * it joins the caller's transaction, and when it fails it undoes only its
 * own changes, leaving the transaction open and usable.  All the changes of
 * one operation belong in one begin/commit pair.
 *
 * Errors.  Functions return 0 or a STITCH_E_* code after filling err.  A
 * failure in sqlite is STITCH_E_STATE; the message names the operation and the
 * database path ("cannot record package 'tcp' in '/sw/.stitch/state.db'")
 * and the cause is sqlite's message.  Writing through a read-only handle is
 * STITCH_E_USAGE.
 *
 * Strings in the structs below are owned by the struct when the library
 * returns them (free with the matching _free/_release function) and only
 * borrowed when the caller passes them in.  Optional strings may be NULL.
 * Paths of files are relative to SW, '/'-separated, without a leading '/'.
 * Times are Unix seconds; a time of 0 passed in means "now".
 */
#ifndef STITCH_STATE_H
#define STITCH_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct stitch_state;

/* The schema version this code writes (PRAGMA user_version). */
#define STITCH_STATE_SCHEMA 3

enum {
	/* Create SW and SW/.stitch and an empty state when missing. */
	STITCH_STATE_CREATE = 1u << 0,
	/* Shared lock, read-only database handle. Not with CREATE. */
	STITCH_STATE_READONLY = 1u << 1,
	/* When the lock is held elsewhere, fail (STITCH_E_STATE) instead of waiting. */
	STITCH_STATE_NOWAIT = 1u << 2,
};

struct stitch_state_opts {
	unsigned flags; /* STITCH_STATE_* */
	/*
	 * Called once, before blocking, when another process holds the lock;
	 * may be NULL.  The library prints nothing: the caller says
	 * "waiting for another stitch process on this switch".
	 */
	void (*on_wait)(void *ctx, const char *switch_dir);
	void *ctx;
};

/*
 * Open the state of the switch at switch_dir, taking its lock (waiting for
 * it unless NOWAIT), and bring an older schema up to date, one migration
 * per transaction.  A READONLY open of an older schema briefly takes the
 * exclusive lock to migrate, then reopens shared.
 *
 * STITCH_E_NOTFOUND  no switch at switch_dir (without CREATE)
 * STITCH_E_STATE     NOWAIT and another process holds the lock; the state
 *                    was written by a newer stitch; the file is not a stitch
 *                    state; sqlite failed (migrations included)
 * STITCH_E_IO        directories or the lock file failed
 * STITCH_E_USAGE     CREATE together with READONLY
 */
int stitch_state_open_ex(struct stitch_state **out, const char *switch_dir,
                         const struct stitch_state_opts *opts, struct stitch_err *err);
/* The same with flags only: no wait callback. */
int stitch_state_open(struct stitch_state **out, const char *switch_dir, unsigned flags,
                      struct stitch_err *err);
/* Roll back an open transaction, close the database, release the lock. NULL is fine. */
void stitch_state_close(struct stitch_state *st);

const char *stitch_state_switch_dir(const struct stitch_state *st); /* SW */
const char *stitch_state_dir(const struct stitch_state *st); /* SW/.stitch */
const char *stitch_state_db_path(const struct stitch_state *st); /* SW/.stitch/state.db */

/*
 * One transaction per operation.  begin while one is open, or commit
 * without one, is STITCH_E_USAGE.  After a failed commit the transaction is
 * rolled back.  rollback without an open transaction does nothing, so error
 * paths may call it unconditionally.
 */
int stitch_state_begin(struct stitch_state *st, struct stitch_err *err);
int stitch_state_commit(struct stitch_state *st, struct stitch_err *err);
/*
 * Begin a transaction whose commit does not wait for the disk: for what may
 * be lost on power failure without harm (a stat cache, the history).  The
 * database stays consistent; the next durable commit makes it durable too.
 */
int stitch_state_begin_lazy(struct stitch_state *st, struct stitch_err *err);
int stitch_state_rollback(struct stitch_state *st, struct stitch_err *err);
bool stitch_state_in_transaction(const struct stitch_state *st);

/* ---- installed packages, their files and symbols ---- */

struct stitch_installed {
	char *name;
	char *version;
	char *source_sha256; /* sources' SHA-256, or the tree hash of a pin */
	char *build_hash;
	char *interface_hash;
	char *repo; /* repository it came from; NULL for a pin's own recipe */
	bool pinned;
	bool requested; /* the user asked for it, not only pulled in as a dependency */
	int64_t installed_at; /* 0 on input: now */
	/* Names of the packages it was built against (its resolved depends). */
	char **depends;
	size_t n_depends;
};

struct stitch_file {
	char *path; /* relative to SW */
	char *package; /* owner; filled on output, ignored on input */
	char sha256[65]; /* of the contents; for a symlink, of its target string */
	uint32_t mode; /* st_mode, type bits included */
	uint64_t size;
};

struct stitch_symbol {
	char *symbol;
	char *package; /* filled on output, ignored on input */
	char *file; /* the archive defining it, relative to SW; one of the package's files */
};

/*
 * Record pkg as installed with exactly these files and symbols, replacing
 * every row of a previous version of the same name.  A file already owned
 * by another package is STITCH_E_CONFLICT naming the owner; a symbol whose
 * file is not among files is STITCH_E_USAGE.  Nothing is recorded on error.
 */
int stitch_state_put_package(struct stitch_state *st, const struct stitch_installed *pkg,
                             const struct stitch_file *files, size_t n_files,
                             const struct stitch_symbol *syms, size_t n_syms,
                             struct stitch_err *err);
/* Forget a package with its files and symbols. STITCH_E_NOTFOUND if not installed. */
int stitch_state_remove_package(struct stitch_state *st, const char *name, struct stitch_err *err);
/* Mark a package as asked for by the user, or not. STITCH_E_NOTFOUND if not installed. */
int stitch_state_set_requested(struct stitch_state *st, const char *name, bool requested,
                               struct stitch_err *err);
/* Fill *out (release with stitch_installed_release). STITCH_E_NOTFOUND if not installed. */
int stitch_state_get_package(struct stitch_state *st, const char *name,
                             struct stitch_installed *out, struct stitch_err *err);
/* Every installed package, sorted by name. Free with stitch_installed_free. */
int stitch_state_list_packages(struct stitch_state *st, struct stitch_installed **out, size_t *n,
                               struct stitch_err *err);
/* Installed packages whose depends name `name`, sorted. Free with stitch_strings_free. */
int stitch_state_dependents_of(struct stitch_state *st, const char *name, char ***out, size_t *n,
                               struct stitch_err *err);

/* A package's files sorted by path (empty when not installed). Free with stitch_files_free. */
int stitch_state_files_of(struct stitch_state *st, const char *name, struct stitch_file **out,
                          size_t *n, struct stitch_err *err);
/*
 * Call fn for every installed file: the packages by name, each one's files
 * by path (f->package names the owner).  fn returns 0 to go on, or a code
 * (err filled) that stops the walk and is returned.  The file is borrowed
 * for the call.
 */
typedef int stitch_file_fn(const struct stitch_file *f, void *data, struct stitch_err *err);
int stitch_state_each_file(struct stitch_state *st, stitch_file_fn *fn, void *data,
                           struct stitch_err *err);
/* The package owning path, or *pkg = NULL when no package does. Free *pkg. */
int stitch_state_owner_of(struct stitch_state *st, const char *path, char **pkg,
                          struct stitch_err *err);
/*
 * Files under include/ whose path ends in "/" name: "tcp.h" finds
 * include/tcp.h and include/net/tcp.h, "net/tcp.h" only the second.
 * Sorted by path.  Free with stitch_files_free.
 */
int stitch_state_find_file_by_name(struct stitch_state *st, const char *name,
                                   struct stitch_file **out, size_t *n, struct stitch_err *err);
/* Where a symbol is defined, sorted by package then file. Free with stitch_symbols_free. */
int stitch_state_find_symbol(struct stitch_state *st, const char *symbol,
                             struct stitch_symbol **out, size_t *n, struct stitch_err *err);

/*
 * A file's new content hash and size, when its content was rewritten in
 * place (the switch was relocated).  STITCH_E_NOTFOUND if no package owns it.
 */
int stitch_state_file_rehash(struct stitch_state *st, const char *path, const char *sha256,
                             uint64_t size, struct stitch_err *err);

void stitch_installed_release(struct stitch_installed *pkg);
void stitch_installed_free(struct stitch_installed *pkgs, size_t n);
void stitch_files_free(struct stitch_file *files, size_t n);
void stitch_symbols_free(struct stitch_symbol *syms, size_t n);
void stitch_strings_free(char **strings, size_t n);

/* ---- pins and the stat cache of their trees ---- */

struct stitch_pin {
	char *name;
	char *version; /* the version the pin provides */
	char *path; /* absolute path of the source tree */
	char *tree_hash; /* tree hash when pinned (to tell "changed since pinned") */
	int64_t pinned_at;
};

/*
 * Add or replace a pin.  Re-pinning a name to another path drops its stat
 * cache; re-pinning to the same path keeps it.
 */
int stitch_state_pin_put(struct stitch_state *st, const struct stitch_pin *pin,
                         struct stitch_err *err);
/* Remove a pin and its stat cache. STITCH_E_NOTFOUND if there is none. */
int stitch_state_pin_remove(struct stitch_state *st, const char *name, struct stitch_err *err);
/* STITCH_E_NOTFOUND if there is none. Release with stitch_pin_release. */
int stitch_state_pin_get(struct stitch_state *st, const char *name, struct stitch_pin *out,
                         struct stitch_err *err);
/* Every pin, sorted by name. Free with stitch_pins_free. */
int stitch_state_pin_list(struct stitch_state *st, struct stitch_pin **out, size_t *n,
                          struct stitch_err *err);
void stitch_pin_release(struct stitch_pin *pin);
void stitch_pins_free(struct stitch_pin *pins, size_t n);

/*
 * One file of a pinned tree as last scanned: its stat and its hash.  As in
 * git's index, a file whose size, mtime, ctime, inode and mode all match
 * needs no hashing.
 */
struct stitch_tree_stat {
	char *relpath; /* relative to the pin's path */
	uint64_t size;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint64_t inode;
	uint32_t mode;
	char sha256[65];
};

/*
 * The whole cache of one pin, sorted by relpath (byte order), in one query.
 * Empty when the pin has none.  Free with stitch_tree_stats_free.
 */
int stitch_state_tree_stat_get(struct stitch_state *st, const char *pin,
                               struct stitch_tree_stat **out, size_t *n, struct stitch_err *err);
/*
 * Insert or update rows of a pin's cache (one prepared statement reused;
 * call inside a transaction, or it is one on its own).  Write only what
 * changed: a no-op scan need not write at all.  STITCH_E_NOTFOUND when there
 * is no such pin.
 */
int stitch_state_tree_stat_put(struct stitch_state *st, const char *pin,
                               const struct stitch_tree_stat *rows, size_t n,
                               struct stitch_err *err);
/* Drop the rows of files that are gone. Unknown paths are ignored. */
int stitch_state_tree_stat_delete(struct stitch_state *st, const char *pin,
                                  const char *const *relpaths, size_t n, struct stitch_err *err);
/* Drop a pin's whole cache (a forced rescan). */
int stitch_state_tree_stat_clear(struct stitch_state *st, const char *pin, struct stitch_err *err);
void stitch_tree_stats_free(struct stitch_tree_stat *rows, size_t n);

/* ---- history ---- */

enum stitch_change_action {
	STITCH_CHANGE_INSTALL,
	STITCH_CHANGE_UPGRADE,
	STITCH_CHANGE_DOWNGRADE,
	STITCH_CHANGE_REMOVE,
	STITCH_CHANGE_REBUILD, /* same version, new build hash */
	STITCH_CHANGE_PIN, /* a pin added: new_version is the version it provides */
	STITCH_CHANGE_UNPIN, /* a pin removed: old_version is the one it provided */
	STITCH_CHANGE__COUNT
};

/*
 * "install", "upgrade", "downgrade", "remove", "rebuild", "pin", "unpin"
 * (stored as such).
 */
const char *stitch_change_action_name(enum stitch_change_action a);

struct stitch_change {
	enum stitch_change_action action;
	char *name;
	char *old_version; /* NULL for install */
	char *new_version; /* NULL for remove */
};

struct stitch_history {
	int64_t id; /* assigned by append; increases with every entry */
	int64_t time; /* 0 on input: now */
	char *command; /* the command line as the user typed it */
	char *summary; /* one line, e.g. "installed 3 packages" */
	struct stitch_change *changes;
	size_t n_changes;
	/*
	 * Filled on output: the entry has a snapshot of the switch as the
	 * operation left it (false for entries written before stitch kept one).
	 */
	bool snapshot;
};

/*
 * Append one entry with its changes, and a snapshot of the packages and
 * pins the state holds now (so append once the operation's changes are
 * recorded, in the same transaction when there is one); *id (may be NULL)
 * receives its id.
 */
int stitch_state_history_append(struct stitch_state *st, const struct stitch_history *h,
                                int64_t *id, struct stitch_err *err);
/* The newest `limit` entries (0: all), newest first. Free with stitch_history_free. */
int stitch_state_history_list(struct stitch_state *st, size_t limit, struct stitch_history **out,
                              size_t *n, struct stitch_err *err);
/*
 * The newest change naming `name`, in *out as an entry with that one change
 * (release with stitch_history_release): to tell a package that was removed
 * from one that never was.  STITCH_E_NOTFOUND when no entry names it.
 */
int stitch_state_history_last(struct stitch_state *st, const char *name, struct stitch_history *out,
                              struct stitch_err *err);
void stitch_history_release(struct stitch_history *h);
void stitch_history_free(struct stitch_history *h, size_t n);

/* One package of a snapshot: what was installed, and how it was built. */
struct stitch_snap_pkg {
	char *name;
	char *version;
	char *build_hash; /* may be NULL */
	bool pinned; /* built from a pin's tree */
	bool requested;
};

/* The switch as one operation left it: its packages and its pins, by name. */
struct stitch_snapshot {
	struct stitch_history entry; /* the operation, with its changes */
	struct stitch_snap_pkg *pkgs;
	size_t n_pkgs;
	struct stitch_pin *pins;
	size_t n_pins;
};

/*
 * The entry `id` with its snapshot (release with stitch_snapshot_release).
 * STITCH_E_NOTFOUND when there is no entry `id`; an entry written before
 * snapshots were kept is returned with entry.snapshot false and no rows.
 */
int stitch_state_history_snapshot(struct stitch_state *st, int64_t id, struct stitch_snapshot *out,
                                  struct stitch_err *err);
void stitch_snapshot_release(struct stitch_snapshot *snap);

/* ---- journal of an operation that moves files ---- */

/*
 * At most one pending operation, as opaque text (JSON by convention).  The
 * record is durable when the enclosing transaction commits, or at once when
 * there is none, so writing it outside a transaction before moving files
 * lets the next process that takes the lock find it and roll the operation
 * forward.  journal_put while one is pending is STITCH_E_EXISTS: finish or
 * clear that one first.  journal_get sets *op_json to NULL when nothing is
 * pending (free it otherwise).  journal_clear with nothing pending is fine.
 */
int stitch_state_journal_put(struct stitch_state *st, const char *op_json, struct stitch_err *err);
int stitch_state_journal_get(struct stitch_state *st, char **op_json, struct stitch_err *err);
int stitch_state_journal_clear(struct stitch_state *st, struct stitch_err *err);

/* ---- where the switch is ---- */

/*
 * The absolute path the switch was at when last opened for writing, to
 * notice a switch that was moved or copied: text files in it name that path.
 * path_get sets *path to NULL when none is recorded (a switch made by an
 * older stitch); free it otherwise.
 */
int stitch_state_path_get(struct stitch_state *st, char **path, struct stitch_err *err);
int stitch_state_path_set(struct stitch_state *st, const char *path, struct stitch_err *err);

#endif
