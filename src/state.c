/*
 * The state database itself: the schema and its migrations, every statement
 * on it, opening and locking, transactions and savepoints, the row loop the
 * readers share (state_int.h); rows read into typed arrays are
 * state_rows.c's.  What is stored lives in state_pkgs.c, state_pins.c,
 * state_history.c and state_journal.c, which use both.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state_int.h"
#include "util.h"

/* 'STIT': tells a stitch state from any other sqlite file. */
#define STATE_APPLICATION_ID 0x53544954

/*
 * Migrations: migrations[i] takes the schema from version i to i + 1, in one
 * transaction with the new user_version.  Append only; never edit a step
 * that has shipped.
 */
static const char *const migrations[STITCH_STATE_SCHEMA] = {
    /* 0 -> 1 */
    "PRAGMA application_id = 1398032724;\n" /* STATE_APPLICATION_ID */
    "CREATE TABLE packages (\n"
    "  name TEXT PRIMARY KEY NOT NULL,\n"
    "  version TEXT NOT NULL,\n"
    "  source_sha256 TEXT,\n"
    "  build_hash TEXT,\n"
    "  interface_hash TEXT,\n"
    "  repo TEXT,\n"
    "  pinned INTEGER NOT NULL CHECK (pinned IN (0, 1)),\n"
    "  requested INTEGER NOT NULL CHECK (requested IN (0, 1)),\n"
    "  installed_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE depends (\n"
    "  package TEXT NOT NULL REFERENCES packages(name) ON DELETE CASCADE,\n"
    "  dep TEXT NOT NULL,\n"
    "  PRIMARY KEY (package, dep)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX depends_dep ON depends(dep);\n"
    "CREATE TABLE files (\n"
    "  path TEXT PRIMARY KEY NOT NULL,\n"
    "  name TEXT NOT NULL,\n" /* basename, for header lookups */
    "  package TEXT NOT NULL REFERENCES packages(name) ON DELETE CASCADE,\n"
    "  sha256 TEXT NOT NULL,\n"
    "  mode INTEGER NOT NULL,\n"
    "  size INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX files_package ON files(package);\n"
    "CREATE INDEX files_name ON files(name);\n"
    "CREATE TABLE symbols (\n"
    "  symbol TEXT NOT NULL,\n"
    "  package TEXT NOT NULL REFERENCES packages(name) ON DELETE CASCADE,\n"
    "  file TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,\n"
    "  PRIMARY KEY (symbol, package, file)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX symbols_package ON symbols(package);\n"
    "CREATE INDEX symbols_file ON symbols(file);\n"
    "CREATE TABLE pins (\n"
    "  name TEXT PRIMARY KEY NOT NULL,\n"
    "  version TEXT,\n"
    "  path TEXT NOT NULL,\n"
    "  tree_hash TEXT,\n"
    "  pinned_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE tree_stat (\n"
    "  pin TEXT NOT NULL REFERENCES pins(name) ON DELETE CASCADE,\n"
    "  relpath TEXT NOT NULL,\n"
    "  size INTEGER NOT NULL,\n"
    "  mtime_ns INTEGER NOT NULL,\n"
    "  ctime_ns INTEGER NOT NULL,\n"
    "  inode INTEGER NOT NULL,\n"
    "  mode INTEGER NOT NULL,\n"
    "  sha256 TEXT NOT NULL,\n"
    "  PRIMARY KEY (pin, relpath)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE history (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  time INTEGER NOT NULL,\n"
    "  command TEXT NOT NULL,\n"
    "  summary TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE history_changes (\n"
    "  history_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,\n"
    "  seq INTEGER NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  old_version TEXT,\n"
    "  new_version TEXT,\n"
    "  PRIMARY KEY (history_id, seq)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE journal (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  op TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL\n"
    ");\n",
    /* 1 -> 2: where the switch is, to notice it was moved or copied */
    "CREATE TABLE switch (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  path TEXT NOT NULL\n"
    ");\n",
    /*
     * 2 -> 3: the switch as each operation left it, to roll back to.  Rows
     * written before have snapshot 0 and no rows in the two tables.
     */
    "ALTER TABLE history ADD COLUMN snapshot INTEGER NOT NULL DEFAULT 0;\n"
    "CREATE TABLE history_packages (\n"
    "  history_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,\n"
    "  name TEXT NOT NULL,\n"
    "  version TEXT NOT NULL,\n"
    "  build_hash TEXT,\n"
    "  pinned INTEGER NOT NULL,\n"
    "  requested INTEGER NOT NULL,\n"
    "  PRIMARY KEY (history_id, name)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE history_pins (\n"
    "  history_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,\n"
    "  name TEXT NOT NULL,\n"
    "  version TEXT,\n"
    "  path TEXT NOT NULL,\n"
    "  tree_hash TEXT,\n"
    "  PRIMARY KEY (history_id, name)\n"
    ") WITHOUT ROWID;\n",
};

#define PKG_COLS                                                                              \
	"name, version, source_sha256, build_hash, interface_hash, repo, pinned, requested, " \
	"installed_at"

static const char *const stmt_sql[S__COUNT] = {
    [S_PKG_DEL] = "DELETE FROM packages WHERE name = ?1",
    [S_PKG_INS] = "INSERT INTO packages (" PKG_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_PKG_GET] = "SELECT " PKG_COLS " FROM packages WHERE name = ?1",
    [S_PKG_LIST] = "SELECT " PKG_COLS " FROM packages ORDER BY name",
    [S_PKG_REQ] = "UPDATE packages SET requested = ?2 WHERE name = ?1",
    [S_DEP_INS] = "INSERT OR IGNORE INTO depends (package, dep) VALUES (?1, ?2)",
    [S_DEP_OF] = "SELECT dep FROM depends WHERE package = ?1 ORDER BY dep",
    [S_DEP_RDEPS] = "SELECT package FROM depends WHERE dep = ?1 ORDER BY package",
    [S_FILE_INS] = "INSERT INTO files (path, name, package, sha256, mode, size) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_FILE_OF] = "SELECT path, package, sha256, mode, size FROM files WHERE package = ?1 "
                  "ORDER BY path",
    [S_FILE_OWNER] = "SELECT package FROM files WHERE path = ?1",
    /* ?2 is "/" name: the path must end with it; 'include0' bounds 'include/...'. */
    [S_FILE_BYNAME] = "SELECT path, package, sha256, mode, size FROM files "
                      "WHERE name = ?1 AND path > 'include/' AND path < 'include0' "
                      "AND substr(path, -length(?2)) = ?2 ORDER BY path",
    [S_SYM_INS] = "INSERT OR IGNORE INTO symbols (symbol, package, file) VALUES (?1, ?2, ?3)",
    [S_SYM_FIND] = "SELECT symbol, package, file FROM symbols WHERE symbol = ?1 "
                   "ORDER BY package, file",
    [S_PIN_DROPSTAT] = "DELETE FROM tree_stat WHERE pin = ?1 AND EXISTS "
                       "(SELECT 1 FROM pins WHERE name = ?1 AND path <> ?2)",
    [S_PIN_PUT] = "INSERT INTO pins (name, version, path, tree_hash, pinned_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
                  "version = excluded.version, path = excluded.path, "
                  "tree_hash = excluded.tree_hash, pinned_at = excluded.pinned_at",
    [S_PIN_DEL] = "DELETE FROM pins WHERE name = ?1",
    [S_PIN_GET] = "SELECT name, version, path, tree_hash, pinned_at FROM pins WHERE name = ?1",
    [S_PIN_LIST] = "SELECT name, version, path, tree_hash, pinned_at FROM pins ORDER BY name",
    [S_TS_GET] = "SELECT relpath, size, mtime_ns, ctime_ns, inode, mode, sha256 FROM tree_stat "
                 "WHERE pin = ?1 ORDER BY relpath",
    [S_TS_PUT] = "INSERT INTO tree_stat (pin, relpath, size, mtime_ns, ctime_ns, inode, mode, "
                 "sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (pin, relpath) "
                 "DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
                 "ctime_ns = excluded.ctime_ns, inode = excluded.inode, mode = excluded.mode, "
                 "sha256 = excluded.sha256",
    [S_TS_DEL] = "DELETE FROM tree_stat WHERE pin = ?1 AND relpath = ?2",
    [S_TS_CLEAR] = "DELETE FROM tree_stat WHERE pin = ?1",
    [S_HIST_INS] = "INSERT INTO history (time, command, summary, snapshot) "
                   "VALUES (?1, ?2, ?3, 1)",
    [S_HIST_SNAP_PKGS] = "INSERT INTO history_packages (history_id, name, version, build_hash, "
                         "pinned, requested) SELECT ?1, name, version, build_hash, pinned, "
                         "requested FROM packages",
    [S_HIST_SNAP_PINS] = "INSERT INTO history_pins (history_id, name, version, path, tree_hash) "
                         "SELECT ?1, name, version, path, tree_hash FROM pins",
    [S_HIST_GET] = "SELECT id, time, command, summary, snapshot FROM history WHERE id = ?1",
    [S_HIST_PKGS] = "SELECT name, version, build_hash, pinned, requested FROM history_packages "
                    "WHERE history_id = ?1 ORDER BY name",
    [S_HIST_PINS] = "SELECT name, version, path, tree_hash FROM history_pins "
                    "WHERE history_id = ?1 ORDER BY name",
    [S_HIST_CHG_INS] = "INSERT INTO history_changes (history_id, seq, action, name, "
                       "old_version, new_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_HIST_LIST] = "SELECT id, time, command, summary, snapshot FROM history "
                    "ORDER BY id DESC LIMIT ?1",
    [S_HIST_CHG_LIST] = "SELECT action, name, old_version, new_version FROM history_changes "
                        "WHERE history_id = ?1 ORDER BY seq",
    [S_HIST_LAST] = "SELECT h.id, h.time, h.command, h.summary, c.action, c.name, "
                    "c.old_version, c.new_version FROM history_changes c JOIN history h "
                    "ON h.id = c.history_id WHERE c.name = ?1 "
                    "ORDER BY c.history_id DESC, c.seq DESC LIMIT 1",
    [S_JRN_PUT] = "INSERT INTO journal (id, op, created_at) VALUES (1, ?1, ?2)",
    [S_JRN_GET] = "SELECT op FROM journal WHERE id = 1",
    [S_JRN_CLEAR] = "DELETE FROM journal",
    [S_PATH_GET] = "SELECT path FROM switch WHERE id = 1",
    [S_PATH_SET] = "INSERT INTO switch (id, path) VALUES (1, ?1) "
                   "ON CONFLICT (id) DO UPDATE SET path = excluded.path",
    [S_FILE_REHASH] = "UPDATE files SET sha256 = ?2, size = ?3 WHERE path = ?1",
    [S_USER_VERSION] = "PRAGMA user_version",
    [S_APPLICATION_ID] = "PRAGMA application_id",
};

const char *stitch_state_switch_dir(const struct stitch_state *st)
{
	return st->switch_dir;
}

const char *stitch_state_dir(const struct stitch_state *st)
{
	return st->state_dir;
}

const char *stitch_state_db_path(const struct stitch_state *st)
{
	return st->db_path;
}

/* ---- errors and statements ---- */

int state_db_fail(struct stitch_state *st, struct stitch_err *err, const char *fmt, ...)
{
	char what[512];
	char cause[STITCH_ERR_MSG_MAX];
	va_list ap;

	/* An I/O error says which one only in its extended code (SQLITE_IOERR_*). */
	if ((sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_IOERR)
		snprintf(cause, sizeof(cause), "%s (sqlite error %d, errno %d)",
		         sqlite3_errmsg(st->db), sqlite3_extended_errcode(st->db),
		         sqlite3_system_errno(st->db));
	else
		snprintf(cause, sizeof(cause), "%s", sqlite3_errmsg(st->db));
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	stitch_error(err, STITCH_E_STATE, "cannot %s in '%s'", what, st->db_path);
	return stitch_error_cause(err, "%s", cause);
}

sqlite3_stmt *state_stmt(struct stitch_state *st, enum stmt_id id, struct stitch_err *err)
{
	sqlite3_stmt *s = st->stmt[id];

	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
	    SQLITE_OK) {
		state_db_fail(st, err, "prepare a statement");
		return NULL;
	}
	st->stmt[id] = s;
	return s;
}

void state_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

int state_step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

char *state_col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

void state_col_hash(sqlite3_stmt *s, int i, char out[65])
{
	const unsigned char *t = sqlite3_column_text(s, i);
	snprintf(out, 65, "%s", t ? (const char *)t : "");
}

int64_t state_now_or(int64_t t)
{
	return t ? t : (int64_t)time(NULL);
}

/* Bind args to ?1, ?2, ...; those past the statement's parameters are left out. */
static void bind_args(sqlite3_stmt *s, const struct state_arg *args, size_t n_args)
{
	size_t n_params = (size_t)sqlite3_bind_parameter_count(s);

	for (size_t i = 0; i < n_args && i < n_params; i++) {
		if (args[i].text)
			sqlite3_bind_text(s, (int)i + 1, args[i].text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(s, (int)i + 1, args[i].num);
	}
}

int state_query(struct stitch_state *st, enum stmt_id id, const struct state_arg *args,
                size_t n_args, state_row_fn *on_row, void *data, const char *what,
                const char *subject, struct stitch_err *err)
{
	sqlite3_stmt *s = state_stmt(st, id, err);
	int rc, stop = 0;

	if (!s)
		return STITCH_E_STATE;
	bind_args(s, args, n_args);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && !(stop = on_row(s, data, err)))
		;
	if (stop)
		rc = stop;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else if (subject)
		rc = state_db_fail(st, err, "%s '%s'", what, subject);
	else
		rc = state_db_fail(st, err, "%s", what);
	sqlite3_reset(s);
	/* the arguments are borrowed: unbind them before they go */
	sqlite3_clear_bindings(s);
	return rc;
}

static int need_writable(struct stitch_state *st, const char *what, struct stitch_err *err)
{
	if (!st->readonly)
		return 0;
	return stitch_error(err, STITCH_E_USAGE, "cannot %s in '%s': the state is open read-only",
	                    what, st->db_path);
}

int state_sp_begin(struct stitch_state *st, const char *what, struct stitch_err *err)
{
	if (need_writable(st, what, err))
		return err ? err->code : STITCH_E_USAGE;
	if (sqlite3_exec(st->db, "SAVEPOINT stitch_call", NULL, NULL, NULL) != SQLITE_OK)
		return state_db_fail(st, err, "%s", what);
	return 0;
}

int state_sp_end(struct stitch_state *st, int rc, const char *what, struct stitch_err *err)
{
	if (rc == 0) {
		if (sqlite3_exec(st->db, "RELEASE stitch_call", NULL, NULL, NULL) == SQLITE_OK)
			return 0;
		rc = state_db_fail(st, err, "%s", what);
	}
	sqlite3_exec(st->db, "ROLLBACK TO stitch_call; RELEASE stitch_call", NULL, NULL, NULL);
	return rc;
}

/*
 * state_exec, and when kind is not NULL, STITCH_E_NOTFOUND naming kind and
 * args[0] when no row changed.
 */
static int exec_changing(struct stitch_state *st, enum stmt_id id, const struct state_arg *args,
                         size_t n_args, const char *what, const char *subject, const char *kind,
                         struct stitch_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_sp_begin(st, what, err)))
		return rc;
	if (!(s = state_stmt(st, id, err)))
		return state_sp_end(st, STITCH_E_STATE, what, err);
	bind_args(s, args, n_args);
	if (state_step_done(s) != SQLITE_OK)
		rc = subject ? state_db_fail(st, err, "%s '%s'", what, subject)
		             : state_db_fail(st, err, "%s", what);
	else if (kind && sqlite3_changes(st->db) == 0)
		rc = stitch_error(err, STITCH_E_NOTFOUND, "%s '%s' is not in switch '%s'", kind,
		                  args[0].text, st->switch_dir);
	sqlite3_clear_bindings(s);
	return state_sp_end(st, rc, what, err);
}

int state_exec(struct stitch_state *st, enum stmt_id id, const struct state_arg *args,
               size_t n_args, const char *what, const char *subject, struct stitch_err *err)
{
	return exec_changing(st, id, args, n_args, what, subject, NULL, err);
}

int state_change_by_name(struct stitch_state *st, enum stmt_id id, const char *kind,
                         const char *name, int arg, const char *what, struct stitch_err *err)
{
	struct state_arg args[2] = {{name, 0}, {NULL, arg}};

	return exec_changing(st, id, args, 2, what, name, kind, err);
}

/* ---- opening, locking, migrating ---- */

static int mkdir_p(const char *path, struct stitch_err *err)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			rc = stitch_error(err, STITCH_E_IO, "cannot create directory '%s'", p);
			stitch_error_cause(err, "%s", strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int take_lock(struct stitch_state *st, const struct stitch_state_opts *o,
                     struct stitch_err *err)
{
	char *path = xasprintf("%s/lock", st->state_dir);
	int op = o->flags & STITCH_STATE_READONLY ? LOCK_SH : LOCK_EX;
	int rc = 0;

	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (st->lock_fd < 0 && (o->flags & STITCH_STATE_READONLY))
		st->lock_fd = open(path, O_RDONLY | O_CLOEXEC); /* a read-only file system */
	if (st->lock_fd < 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot open lock file '%s'", path);
		stitch_error_cause(err, "%s", strerror(errno));
		goto out;
	}
	if (flock(st->lock_fd, op | LOCK_NB) == 0)
		goto out;
	if (errno == EWOULDBLOCK && (o->flags & STITCH_STATE_NOWAIT)) {
		rc =
		    stitch_error(err, STITCH_E_STATE,
		                 "switch '%s' is in use by another stitch process", st->switch_dir);
		goto out;
	}
	if (errno == EWOULDBLOCK) {
		int r;
		if (o->on_wait)
			o->on_wait(o->ctx, st->switch_dir);
		while ((r = flock(st->lock_fd, op)) != 0 && errno == EINTR)
			;
		if (r == 0)
			goto out;
	}
	rc = stitch_error(err, STITCH_E_IO, "cannot lock '%s'", path);
	stitch_error_cause(err, "%s", strerror(errno));
out:
	free(path);
	return rc;
}

struct int_result {
	int value;
	bool found;
};

static int int_row(sqlite3_stmt *row, void *data, struct stitch_err *err)
{
	struct int_result *r = data;

	(void)err;
	r->value = sqlite3_column_int(row, 0);
	r->found = true;
	return 0;
}

/* The value of a pragma that returns one integer. */
static int pragma_int(struct stitch_state *st, enum stmt_id id, int *out, struct stitch_err *err)
{
	struct int_result r = {0, false};
	int rc = state_query(st, id, NULL, 0, int_row, &r, "read the schema version", NULL, err);

	if (!rc && !r.found)
		rc = state_db_fail(st, err, "read the schema version");
	*out = r.value;
	return rc;
}

static int migrate(struct stitch_state *st, int from, struct stitch_err *err)
{
	for (int v = from; v < STITCH_STATE_SCHEMA; v++) {
		char set[64];

		snprintf(set, sizeof(set), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(st->db, set, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			int rc = state_db_fail(st, err, "migrate the schema from version %d to %d",
			                       v, v + 1);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

static int configure(struct stitch_state *st, struct stitch_err *err)
{
	static const char rw[] = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
	                         "PRAGMA foreign_keys = ON";
	static const char ro[] = "PRAGMA foreign_keys = ON";

	sqlite3_busy_timeout(st->db, 10000);
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_exec(st->db, st->readonly ? ro : rw, NULL, NULL, NULL) != SQLITE_OK)
		return state_db_fail(st, err, "configure the database");
	if (!st->readonly) {
		/*
		 * Keep the WAL between commands and leave checkpoints to sqlite's
		 * automatic ones: every command would otherwise pay a checkpoint
		 * (two syncs) on close and a directory sync to recreate the WAL.
		 * Commits are on disk either way: synchronous=FULL syncs the WAL.
		 */
		int one = 1;
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
	}
	return 0;
}

/* Check the schema; migrate when writable. *stale: read-only and older. */
static int check_schema(struct stitch_state *st, bool *stale, struct stitch_err *err)
{
	int version, app;
	int rc;

	*stale = false;
	if ((rc = pragma_int(st, S_USER_VERSION, &version, err)))
		return rc;
	if (version > STITCH_STATE_SCHEMA) {
		stitch_error(err, STITCH_E_STATE,
		             "switch state '%s' was written by a newer stitch (schema %d, this "
		             "stitch knows %d)",
		             st->db_path, version, STITCH_STATE_SCHEMA);
		return stitch_error_cause(err, "hint: use a newer stitch with this switch");
	}
	if ((rc = pragma_int(st, S_APPLICATION_ID, &app, err)))
		return rc;
	if (version > 0 && app != STATE_APPLICATION_ID) {
		return stitch_error(err, STITCH_E_STATE, "'%s' is not a stitch switch state",
		                    st->db_path);
	}
	if (version == STITCH_STATE_SCHEMA)
		return 0;
	if (st->readonly) {
		*stale = true;
		return 0;
	}
	return migrate(st, version, err);
}

static int open_once(struct stitch_state **out, const char *switch_dir,
                     const struct stitch_state_opts *o, bool *stale, struct stitch_err *err)
{
	struct stitch_state *st = xcalloc(1, sizeof(*st));
	struct stat sb;
	int flags;
	int rc;

	*out = NULL;
	st->lock_fd = -1;
	st->readonly = o->flags & STITCH_STATE_READONLY;
	st->switch_dir = xstrdup(switch_dir);
	st->state_dir = xasprintf("%s/.stitch", switch_dir);
	st->db_path = xasprintf("%s/state.db", st->state_dir);
	if (o->flags & STITCH_STATE_CREATE) {
		if ((rc = mkdir_p(st->state_dir, err)))
			goto fail;
	} else if (stat(st->db_path, &sb) != 0) {
		rc = stitch_error(err, STITCH_E_NOTFOUND, "no switch at '%s'", switch_dir);
		stitch_error_cause(err, "'%s': %s", st->db_path, strerror(errno));
		goto fail;
	}
	if ((rc = take_lock(st, o, err)))
		goto fail;
	flags = st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(st->db_path, &st->db, flags, NULL) != SQLITE_OK) {
		rc = st->db ? state_db_fail(st, err, "open the database")
		            : stitch_error(err, STITCH_E_IO, "cannot open '%s'", st->db_path);
		goto fail;
	}
	if ((rc = configure(st, err)) || (rc = check_schema(st, stale, err)))
		goto fail;
	*out = st;
	return 0;
fail:
	stitch_state_close(st);
	return rc;
}

int stitch_state_open_ex(struct stitch_state **out, const char *switch_dir,
                         const struct stitch_state_opts *opts, struct stitch_err *err)
{
	struct stitch_state_opts o = opts ? *opts : (struct stitch_state_opts){0, NULL, NULL};
	struct stitch_state *st;
	bool stale;
	int rc;

	*out = NULL;
	if ((o.flags & STITCH_STATE_CREATE) && (o.flags & STITCH_STATE_READONLY))
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot create switch '%s' through a read-only open",
		                    switch_dir);
	if ((rc = open_once(&st, switch_dir, &o, &stale, err)))
		return rc;
	if (!stale) {
		*out = st;
		return 0;
	}
	/* A reader found an older schema: migrate under the exclusive lock, then read. */
	stitch_state_close(st);
	o.flags &= ~(unsigned)STITCH_STATE_READONLY;
	if ((rc = open_once(&st, switch_dir, &o, &stale, err)))
		return rc;
	stitch_state_close(st);
	o.flags |= STITCH_STATE_READONLY;
	if ((rc = open_once(&st, switch_dir, &o, &stale, err)))
		return rc;
	if (stale) {
		stitch_state_close(st);
		return stitch_error(err, STITCH_E_STATE, "cannot migrate switch state '%s'",
		                    switch_dir);
	}
	*out = st;
	return 0;
}

int stitch_state_open(struct stitch_state **out, const char *switch_dir, unsigned flags,
                      struct stitch_err *err)
{
	struct stitch_state_opts o = {flags, NULL, NULL};
	return stitch_state_open_ex(out, switch_dir, &o, err);
}

/*
 * Every command is a new process, and the first connection to a WAL
 * database rebuilds its index by reading and checksumming every frame of
 * the WAL.  sqlite's own checkpoint waits for 1000 pages (4 MB), which
 * every later command, a no-op build included, would read at start.  So a
 * writable connection folds the WAL into the database and truncates it on
 * close once it holds more than STATE_WAL_FOLD bytes: a few syncs every
 * few dozen commits instead of megabytes read by every command.  Another
 * process reading keeps it from truncating; then it is left for later.
 */
#define STATE_WAL_FOLD (256 * 1024)

static void fold_wal(struct stitch_state *st)
{
	struct stat sb;
	char *wal;

	if (st->readonly)
		return;
	wal = xasprintf("%s-wal", st->db_path);
	if (stat(wal, &sb) == 0 && sb.st_size > STATE_WAL_FOLD) {
		sqlite3_busy_timeout(st->db, 0);
		sqlite3_wal_checkpoint_v2(st->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	free(wal);
}

void stitch_state_close(struct stitch_state *st)
{
	if (!st)
		return;
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db) {
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		fold_wal(st);
		sqlite3_close(st->db);
	}
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the flock */
	free(st->switch_dir);
	free(st->state_dir);
	free(st->db_path);
	free(st);
}

/* ---- transactions ---- */

bool stitch_state_in_transaction(const struct stitch_state *st)
{
	return !sqlite3_get_autocommit(st->db);
}

int stitch_state_begin(struct stitch_state *st, struct stitch_err *err)
{
	if (need_writable(st, "begin a transaction", err))
		return err ? err->code : STITCH_E_USAGE;
	if (stitch_state_in_transaction(st))
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot begin a transaction in '%s': one is already open",
		                    st->db_path);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return state_db_fail(st, err, "begin a transaction");
	return 0;
}

static int end_tx(struct stitch_state *st, const char *sql, const char *what,
                  struct stitch_err *err)
{
	int rc;

	if (!stitch_state_in_transaction(st))
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot %s in '%s': no transaction is open", what, st->db_path);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK) {
		rc = 0;
	} else {
		rc = state_db_fail(st, err, "%s", what);
		if (stitch_state_in_transaction(st))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (st->lazy) {
		sqlite3_exec(st->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
		st->lazy = false;
	}
	return rc;
}

int stitch_state_commit(struct stitch_state *st, struct stitch_err *err)
{
	return end_tx(st, "COMMIT", "commit", err);
}

int stitch_state_begin_lazy(struct stitch_state *st, struct stitch_err *err)
{
	int rc;

	/*
	 * In WAL mode, NORMAL leaves the sync to the next durable commit or
	 * checkpoint.  The pager reads the setting when the transaction
	 * starts, so it is set before BEGIN.
	 */
	if (!st->readonly && !stitch_state_in_transaction(st))
		sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	rc = stitch_state_begin(st, err);
	if (rc == 0)
		st->lazy = true;
	else if (!st->readonly && !stitch_state_in_transaction(st))
		sqlite3_exec(st->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	return rc;
}

int stitch_state_rollback(struct stitch_state *st, struct stitch_err *err)
{
	if (!stitch_state_in_transaction(st))
		return 0;
	return end_tx(st, "ROLLBACK", "roll back", err);
}
