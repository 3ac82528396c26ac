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
};

/* Every statement, prepared once on first use and kept until close. */
enum stmt_id {
	S_PKG_DEL,
	S_PKG_INS,
	S_PKG_GET,
	S_PKG_LIST,
	S_PKG_REQ,
	S_DEP_INS,
	S_DEP_OF,
	S_DEP_RDEPS,
	S_FILE_INS,
	S_FILE_OF,
	S_FILE_OWNER,
	S_FILE_BYNAME,
	S_SYM_INS,
	S_SYM_FIND,
	S_PIN_DROPSTAT,
	S_PIN_PUT,
	S_PIN_DEL,
	S_PIN_GET,
	S_PIN_LIST,
	S_TS_GET,
	S_TS_PUT,
	S_TS_DEL,
	S_TS_CLEAR,
	S_HIST_INS,
	S_HIST_CHG_INS,
	S_HIST_LIST,
	S_HIST_CHG_LIST,
	S_JRN_PUT,
	S_JRN_GET,
	S_JRN_CLEAR,
	S__COUNT
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
    [S_HIST_INS] = "INSERT INTO history (time, command, summary) VALUES (?1, ?2, ?3)",
    [S_HIST_CHG_INS] = "INSERT INTO history_changes (history_id, seq, action, name, "
                       "old_version, new_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_HIST_LIST] = "SELECT id, time, command, summary FROM history ORDER BY id DESC LIMIT ?1",
    [S_HIST_CHG_LIST] = "SELECT action, name, old_version, new_version FROM history_changes "
                        "WHERE history_id = ?1 ORDER BY seq",
    [S_JRN_PUT] = "INSERT INTO journal (id, op, created_at) VALUES (1, ?1, ?2)",
    [S_JRN_GET] = "SELECT op FROM journal WHERE id = 1",
    [S_JRN_CLEAR] = "DELETE FROM journal",
};

static const char *const action_names[STITCH_CHANGE__COUNT] = {
    [STITCH_CHANGE_INSTALL] = "install",     [STITCH_CHANGE_UPGRADE] = "upgrade",
    [STITCH_CHANGE_DOWNGRADE] = "downgrade", [STITCH_CHANGE_REMOVE] = "remove",
    [STITCH_CHANGE_REBUILD] = "rebuild",
};

struct stitch_state {
	char *switch_dir;
	char *state_dir;
	char *db_path;
	sqlite3 *db;
	int lock_fd;
	bool readonly;
	bool lazy; /* the open transaction commits without syncing */
	sqlite3_stmt *stmt[S__COUNT];
};

const char *stitch_change_action_name(enum stitch_change_action a)
{
	if ((int)a < 0 || a >= STITCH_CHANGE__COUNT)
		return "unknown";
	return action_names[a];
}

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

/*
 * Report a failure of sqlite while doing `what` (a formatted phrase such as
 * "record package 'tcp'"), with sqlite's message as the cause.  Read the
 * message before anything else touches the connection.
 */
__attribute__((format(printf, 3, 4))) static int
db_fail(struct stitch_state *st, struct stitch_err *err, const char *fmt, ...)
{
	char what[512];
	char cause[STITCH_ERR_MSG_MAX];
	va_list ap;

	snprintf(cause, sizeof(cause), "%s", sqlite3_errmsg(st->db));
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	stitch_error(err, STITCH_E_STATE, "cannot %s in '%s'", what, st->db_path);
	return stitch_error_cause(err, "%s", cause);
}

/* The statement `id`, reset and unbound, ready for binding; NULL after db_fail. */
static sqlite3_stmt *stmt(struct stitch_state *st, enum stmt_id id, struct stitch_err *err)
{
	sqlite3_stmt *s = st->stmt[id];

	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
	    SQLITE_OK) {
		db_fail(st, err, "prepare a statement");
		return NULL;
	}
	st->stmt[id] = s;
	return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Run a statement that returns no rows; sqlite's result code. */
static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static char *col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static void col_hash(sqlite3_stmt *s, int i, char out[65])
{
	const unsigned char *t = sqlite3_column_text(s, i);
	snprintf(out, 65, "%s", t ? (const char *)t : "");
}

static int64_t now_or(int64_t t)
{
	return t ? t : (int64_t)time(NULL);
}

static int need_writable(struct stitch_state *st, const char *what, struct stitch_err *err)
{
	if (!st->readonly)
		return 0;
	return stitch_error(err, STITCH_E_USAGE, "cannot %s in '%s': the state is open read-only",
	                    what, st->db_path);
}

/*
 * A savepoint around each writing call: its own transaction outside
 * stitch_state_begin, a nested one inside, undone alone when the call fails.
 */
static int sp_begin(struct stitch_state *st, const char *what, struct stitch_err *err)
{
	if (need_writable(st, what, err))
		return err ? err->code : STITCH_E_USAGE;
	if (sqlite3_exec(st->db, "SAVEPOINT stitch_call", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, err, "%s", what);
	return 0;
}

static int sp_end(struct stitch_state *st, int rc, const char *what, struct stitch_err *err)
{
	if (rc == 0) {
		if (sqlite3_exec(st->db, "RELEASE stitch_call", NULL, NULL, NULL) == SQLITE_OK)
			return 0;
		rc = db_fail(st, err, "%s", what);
	}
	sqlite3_exec(st->db, "ROLLBACK TO stitch_call; RELEASE stitch_call", NULL, NULL, NULL);
	return rc;
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

static int pragma_int(struct stitch_state *st, const char *sql, int *out, struct stitch_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "read the schema version");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return db_fail(st, err, "read the schema version");
	return 0;
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
			int rc =
			    db_fail(st, err, "migrate the schema from version %d to %d", v, v + 1);
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
		return db_fail(st, err, "configure the database");
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
	if ((rc = pragma_int(st, "PRAGMA user_version", &version, err)))
		return rc;
	if (version > STITCH_STATE_SCHEMA) {
		stitch_error(err, STITCH_E_STATE,
		             "switch state '%s' was written by a newer stitch (schema %d, this "
		             "stitch knows %d)",
		             st->db_path, version, STITCH_STATE_SCHEMA);
		return stitch_error_cause(err, "hint: use a newer stitch with this switch");
	}
	if ((rc = pragma_int(st, "PRAGMA application_id", &app, err)))
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
		rc = st->db ? db_fail(st, err, "open the database")
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

void stitch_state_close(struct stitch_state *st)
{
	if (!st)
		return;
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db) {
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
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
		return db_fail(st, err, "begin a transaction");
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
		rc = db_fail(st, err, "%s", what);
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

/* ---- installed packages ---- */

static int put_files(struct stitch_state *st, const char *pkg, const struct stitch_file *files,
                     size_t n, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_FILE_INS, err);

	for (size_t i = 0; s && i < n; i++) {
		const char *path = files[i].path, *slash;
		int rc;

		if (!path || !*path || path[0] == '/')
			return stitch_error(
			    err, STITCH_E_USAGE,
			    "cannot record package '%s': file path '%s' is not relative", pkg,
			    path ? path : "(null)");
		slash = strrchr(path, '/');
		sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, slash ? slash + 1 : path, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, pkg, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, files[i].sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, files[i].mode);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)files[i].size);
		rc = step_done(s);
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			char *owner = NULL;
			if (stitch_state_owner_of(st, path, &owner, err))
				return err ? err->code : STITCH_E_STATE;
			if (owner && strcmp(owner, pkg) != 0)
				rc = stitch_error(
				    err, STITCH_E_CONFLICT,
				    "cannot record package '%s': file '%s' is owned by '%s'", pkg,
				    path, owner);
			else
				rc = stitch_error(
				    err, STITCH_E_USAGE,
				    "cannot record package '%s': file '%s' is listed twice", pkg,
				    path);
			free(owner);
			return rc;
		}
		if (rc != SQLITE_OK)
			return db_fail(st, err, "record file '%s' of package '%s'", path, pkg);
	}
	return s ? 0 : STITCH_E_STATE;
}

static int put_symbols(struct stitch_state *st, const char *pkg, const struct stitch_symbol *syms,
                       size_t n, struct stitch_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char *owner = NULL;
		sqlite3_stmt *s;
		bool ours;
		int rc;

		if (!syms[i].symbol || !syms[i].file)
			return stitch_error(
			    err, STITCH_E_USAGE,
			    "cannot record package '%s': symbol %zu has no name or file", pkg, i);
		if ((rc = stitch_state_owner_of(st, syms[i].file, &owner, err)))
			return rc;
		ours = owner && strcmp(owner, pkg) == 0;
		free(owner);
		if (!ours)
			return stitch_error(err, STITCH_E_USAGE,
			                    "cannot record package '%s': symbol '%s' is in '%s', "
			                    "which is not one of its files",
			                    pkg, syms[i].symbol, syms[i].file);
		if (!(s = stmt(st, S_SYM_INS, err)))
			return STITCH_E_STATE;
		sqlite3_bind_text(s, 1, syms[i].symbol, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, pkg, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, syms[i].file, -1, SQLITE_STATIC);
		if (step_done(s) != SQLITE_OK)
			return db_fail(st, err, "record symbol '%s' of package '%s'",
			               syms[i].symbol, pkg);
	}
	return 0;
}

static int put_row(struct stitch_state *st, const struct stitch_installed *p,
                   struct stitch_err *err)
{
	sqlite3_stmt *s;

	if (!(s = stmt(st, S_PKG_DEL, err)))
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	if (step_done(s) != SQLITE_OK)
		return db_fail(st, err, "replace package '%s'", p->name);
	if (!(s = stmt(st, S_PKG_INS, err)))
		return STITCH_E_STATE;
	bind_text(s, 1, p->name);
	bind_text(s, 2, p->version);
	bind_text(s, 3, p->source_sha256);
	bind_text(s, 4, p->build_hash);
	bind_text(s, 5, p->interface_hash);
	bind_text(s, 6, p->repo);
	sqlite3_bind_int(s, 7, p->pinned);
	sqlite3_bind_int(s, 8, p->requested);
	sqlite3_bind_int64(s, 9, now_or(p->installed_at));
	if (step_done(s) != SQLITE_OK)
		return db_fail(st, err, "record package '%s'", p->name);
	for (size_t i = 0; i < p->n_depends; i++) {
		if (!(s = stmt(st, S_DEP_INS, err)))
			return STITCH_E_STATE;
		bind_text(s, 1, p->name);
		bind_text(s, 2, p->depends[i]);
		if (step_done(s) != SQLITE_OK)
			return db_fail(st, err, "record the depends of package '%s'", p->name);
	}
	return 0;
}

int stitch_state_put_package(struct stitch_state *st, const struct stitch_installed *pkg,
                             const struct stitch_file *files, size_t n_files,
                             const struct stitch_symbol *syms, size_t n_syms,
                             struct stitch_err *err)
{
	int rc;

	if (!pkg->name || !pkg->version)
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot record a package without a name and a version");
	if ((rc = sp_begin(st, "record a package", err)))
		return rc;
	rc = put_row(st, pkg, err);
	if (!rc)
		rc = put_files(st, pkg->name, files, n_files, err);
	if (!rc)
		rc = put_symbols(st, pkg->name, syms, n_syms, err);
	return sp_end(st, rc, "record a package", err);
}

/* Run a one-row-changing statement keyed by name; NOTFOUND when no row changed. */
static int change_by_name(struct stitch_state *st, enum stmt_id id, const char *name, int arg,
                          const char *what, struct stitch_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = sp_begin(st, what, err)))
		return rc;
	if (!(s = stmt(st, id, err)))
		return sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int(s, 2, arg);
	if (step_done(s) != SQLITE_OK)
		rc = db_fail(st, err, "%s '%s'", what, name);
	else if (sqlite3_changes(st->db) == 0)
		rc = stitch_error(err, STITCH_E_NOTFOUND, "%s '%s' is not in switch '%s'",
		                  id == S_PIN_DEL ? "pin" : "package", name, st->switch_dir);
	return sp_end(st, rc, what, err);
}

int stitch_state_remove_package(struct stitch_state *st, const char *name, struct stitch_err *err)
{
	return change_by_name(st, S_PKG_DEL, name, 0, "remove package", err);
}

int stitch_state_set_requested(struct stitch_state *st, const char *name, bool requested,
                               struct stitch_err *err)
{
	return change_by_name(st, S_PKG_REQ, name, requested, "mark package", err);
}

/* Collect the first text column of every row of s into a string array. */
static int collect_strings(struct stitch_state *st, sqlite3_stmt *s, char ***out, size_t *n,
                           const char *what, struct stitch_err *err)
{
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(*out, cap, *n + 1);
		(*out)[(*n)++] = col_str(s, 0);
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	rc = db_fail(st, err, "%s", what);
	sqlite3_reset(s);
	stitch_strings_free(*out, *n);
	*out = NULL;
	*n = 0;
	return rc;
}

static void read_pkg(sqlite3_stmt *s, struct stitch_installed *p)
{
	memset(p, 0, sizeof(*p));
	p->name = col_str(s, 0);
	p->version = col_str(s, 1);
	p->source_sha256 = col_str(s, 2);
	p->build_hash = col_str(s, 3);
	p->interface_hash = col_str(s, 4);
	p->repo = col_str(s, 5);
	p->pinned = sqlite3_column_int(s, 6) != 0;
	p->requested = sqlite3_column_int(s, 7) != 0;
	p->installed_at = sqlite3_column_int64(s, 8);
}

static int load_depends(struct stitch_state *st, struct stitch_installed *p, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_DEP_OF, err);

	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	return collect_strings(st, s, &p->depends, &p->n_depends, "read the depends of a package",
	                       err);
}

int stitch_state_get_package(struct stitch_state *st, const char *name,
                             struct stitch_installed *out, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_PKG_GET, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return stitch_error(err, STITCH_E_NOTFOUND,
		                    "package '%s' is not installed in switch '%s'", name,
		                    st->switch_dir);
	}
	if (rc != SQLITE_ROW) {
		rc = db_fail(st, err, "read package '%s'", name);
		sqlite3_reset(s);
		return rc;
	}
	read_pkg(s, out);
	sqlite3_reset(s);
	if ((rc = load_depends(st, out, err)))
		stitch_installed_release(out);
	return rc;
}

int stitch_state_list_packages(struct stitch_state *st, struct stitch_installed **out, size_t *n,
                               struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_PKG_LIST, err);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return STITCH_E_STATE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(*out, cap, *n + 1);
		read_pkg(s, &(*out)[(*n)++]);
	}
	if (rc != SQLITE_DONE)
		rc = db_fail(st, err, "list packages");
	else
		rc = 0;
	sqlite3_reset(s);
	for (size_t i = 0; !rc && i < *n; i++)
		rc = load_depends(st, &(*out)[i], err);
	if (rc) {
		stitch_installed_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int stitch_state_dependents_of(struct stitch_state *st, const char *name, char ***out, size_t *n,
                               struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_DEP_RDEPS, err);

	*out = NULL;
	*n = 0;
	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return collect_strings(st, s, out, n, "read the dependents of a package", err);
}

/* ---- files and symbols ---- */

static int collect_files(struct stitch_state *st, sqlite3_stmt *s, struct stitch_file **out,
                         size_t *n, const char *what, struct stitch_err *err)
{
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct stitch_file *f;
		XGROW(*out, cap, *n + 1);
		f = &(*out)[(*n)++];
		f->path = col_str(s, 0);
		f->package = col_str(s, 1);
		col_hash(s, 2, f->sha256);
		f->mode = (uint32_t)sqlite3_column_int64(s, 3);
		f->size = (uint64_t)sqlite3_column_int64(s, 4);
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	rc = db_fail(st, err, "%s", what);
	sqlite3_reset(s);
	stitch_files_free(*out, *n);
	*out = NULL;
	*n = 0;
	return rc;
}

int stitch_state_files_of(struct stitch_state *st, const char *name, struct stitch_file **out,
                          size_t *n, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_FILE_OF, err);

	*out = NULL;
	*n = 0;
	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return collect_files(st, s, out, n, "list the files of a package", err);
}

int stitch_state_find_file_by_name(struct stitch_state *st, const char *name,
                                   struct stitch_file **out, size_t *n, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_FILE_BYNAME, err);
	const char *base = strrchr(name, '/');
	char *suffix = xasprintf("/%s", name);
	int rc;

	*out = NULL;
	*n = 0;
	if (!s) {
		free(suffix);
		return STITCH_E_STATE;
	}
	sqlite3_bind_text(s, 1, base ? base + 1 : name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, suffix, -1, SQLITE_STATIC);
	rc = collect_files(st, s, out, n, "look up a file by name", err);
	sqlite3_clear_bindings(s);
	free(suffix);
	return rc;
}

int stitch_state_owner_of(struct stitch_state *st, const char *path, char **pkg,
                          struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_FILE_OWNER, err);
	int rc;

	*pkg = NULL;
	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*pkg = col_str(s, 0);
	else if (rc != SQLITE_DONE)
		rc = db_fail(st, err, "look up the owner of '%s'", path);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rc;
}

int stitch_state_find_symbol(struct stitch_state *st, const char *symbol,
                             struct stitch_symbol **out, size_t *n, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_SYM_FIND, err);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct stitch_symbol *y;
		XGROW(*out, cap, *n + 1);
		y = &(*out)[(*n)++];
		y->symbol = col_str(s, 0);
		y->package = col_str(s, 1);
		y->file = col_str(s, 2);
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	rc = db_fail(st, err, "look up symbol '%s'", symbol);
	sqlite3_reset(s);
	stitch_symbols_free(*out, *n);
	*out = NULL;
	*n = 0;
	return rc;
}

void stitch_installed_release(struct stitch_installed *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->version);
	free(p->source_sha256);
	free(p->build_hash);
	free(p->interface_hash);
	free(p->repo);
	stitch_strings_free(p->depends, p->n_depends);
	memset(p, 0, sizeof(*p));
}

void stitch_installed_free(struct stitch_installed *pkgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		stitch_installed_release(&pkgs[i]);
	free(pkgs);
}

void stitch_files_free(struct stitch_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].package);
	}
	free(files);
}

void stitch_symbols_free(struct stitch_symbol *syms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(syms[i].symbol);
		free(syms[i].package);
		free(syms[i].file);
	}
	free(syms);
}

void stitch_strings_free(char **strings, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
}

/* ---- pins ---- */

int stitch_state_pin_put(struct stitch_state *st, const struct stitch_pin *pin,
                         struct stitch_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!pin->name || !pin->path)
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot record a pin without a name and a path");
	if ((rc = sp_begin(st, "record a pin", err)))
		return rc;
	if (!(s = stmt(st, S_PIN_DROPSTAT, err)))
		return sp_end(st, STITCH_E_STATE, "record a pin", err);
	bind_text(s, 1, pin->name);
	bind_text(s, 2, pin->path);
	if (step_done(s) != SQLITE_OK)
		return sp_end(st, db_fail(st, err, "record pin '%s'", pin->name), "record a pin",
		              err);
	if (!(s = stmt(st, S_PIN_PUT, err)))
		return sp_end(st, STITCH_E_STATE, "record a pin", err);
	bind_text(s, 1, pin->name);
	bind_text(s, 2, pin->version);
	bind_text(s, 3, pin->path);
	bind_text(s, 4, pin->tree_hash);
	sqlite3_bind_int64(s, 5, now_or(pin->pinned_at));
	if (step_done(s) != SQLITE_OK)
		rc = db_fail(st, err, "record pin '%s'", pin->name);
	return sp_end(st, rc, "record a pin", err);
}

int stitch_state_pin_remove(struct stitch_state *st, const char *name, struct stitch_err *err)
{
	return change_by_name(st, S_PIN_DEL, name, 0, "remove pin", err);
}

static void read_pin(sqlite3_stmt *s, struct stitch_pin *p)
{
	p->name = col_str(s, 0);
	p->version = col_str(s, 1);
	p->path = col_str(s, 2);
	p->tree_hash = col_str(s, 3);
	p->pinned_at = sqlite3_column_int64(s, 4);
}

int stitch_state_pin_get(struct stitch_state *st, const char *name, struct stitch_pin *out,
                         struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_PIN_GET, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		read_pin(s, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = stitch_error(err, STITCH_E_NOTFOUND, "pin '%s' is not in switch '%s'", name,
		                  st->switch_dir);
	} else {
		rc = db_fail(st, err, "read pin '%s'", name);
	}
	sqlite3_reset(s);
	return rc;
}

int stitch_state_pin_list(struct stitch_state *st, struct stitch_pin **out, size_t *n,
                          struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_PIN_LIST, err);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return STITCH_E_STATE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		XGROW(*out, cap, *n + 1);
		read_pin(s, &(*out)[(*n)++]);
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	rc = db_fail(st, err, "list pins");
	sqlite3_reset(s);
	stitch_pins_free(*out, *n);
	*out = NULL;
	*n = 0;
	return rc;
}

void stitch_pin_release(struct stitch_pin *pin)
{
	if (!pin)
		return;
	free(pin->name);
	free(pin->version);
	free(pin->path);
	free(pin->tree_hash);
	memset(pin, 0, sizeof(*pin));
}

void stitch_pins_free(struct stitch_pin *pins, size_t n)
{
	for (size_t i = 0; i < n; i++)
		stitch_pin_release(&pins[i]);
	free(pins);
}

/* ---- stat cache of pinned trees ---- */

int stitch_state_tree_stat_get(struct stitch_state *st, const char *pin,
                               struct stitch_tree_stat **out, size_t *n, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_TS_GET, err);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, pin, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct stitch_tree_stat *t;
		XGROW(*out, cap, *n + 1);
		t = &(*out)[(*n)++];
		t->relpath = col_str(s, 0);
		t->size = (uint64_t)sqlite3_column_int64(s, 1);
		t->mtime_ns = sqlite3_column_int64(s, 2);
		t->ctime_ns = sqlite3_column_int64(s, 3);
		t->inode = (uint64_t)sqlite3_column_int64(s, 4);
		t->mode = (uint32_t)sqlite3_column_int64(s, 5);
		col_hash(s, 6, t->sha256);
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	rc = db_fail(st, err, "read the stat cache of pin '%s'", pin);
	sqlite3_reset(s);
	stitch_tree_stats_free(*out, *n);
	*out = NULL;
	*n = 0;
	return rc;
}

static int pin_exists(struct stitch_state *st, const char *pin, struct stitch_err *err)
{
	struct stitch_pin p;
	int rc = stitch_state_pin_get(st, pin, &p, err);

	stitch_pin_release(&p);
	return rc;
}

int stitch_state_tree_stat_put(struct stitch_state *st, const char *pin,
                               const struct stitch_tree_stat *rows, size_t n,
                               struct stitch_err *err)
{
	const char *what = "update a stat cache";
	sqlite3_stmt *s;
	int rc;

	if ((rc = sp_begin(st, what, err)))
		return rc;
	if ((rc = pin_exists(st, pin, err)))
		return sp_end(st, rc, what, err);
	if (!(s = stmt(st, S_TS_PUT, err)))
		return sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_text(s, 1, pin, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct stitch_tree_stat *t = &rows[i];
		/* The statement keeps binding 1 across rows; rebind the rest. */
		bind_text(s, 2, t->relpath);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)t->size);
		sqlite3_bind_int64(s, 4, t->mtime_ns);
		sqlite3_bind_int64(s, 5, t->ctime_ns);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)t->inode);
		sqlite3_bind_int64(s, 7, t->mode);
		sqlite3_bind_text(s, 8, t->sha256, -1, SQLITE_STATIC);
		if (step_done(s) != SQLITE_OK)
			rc = db_fail(st, err, "record the stat of '%s' in pin '%s'",
			             t->relpath ? t->relpath : "(null)", pin);
	}
	sqlite3_clear_bindings(s);
	return sp_end(st, rc, what, err);
}

int stitch_state_tree_stat_delete(struct stitch_state *st, const char *pin,
                                  const char *const *relpaths, size_t n, struct stitch_err *err)
{
	const char *what = "update a stat cache";
	sqlite3_stmt *s;
	int rc;

	if ((rc = sp_begin(st, what, err)))
		return rc;
	if (!(s = stmt(st, S_TS_DEL, err)))
		return sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_text(s, 1, pin, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n && !rc; i++) {
		bind_text(s, 2, relpaths[i]);
		if (step_done(s) != SQLITE_OK)
			rc = db_fail(st, err, "forget the stat of '%s' in pin '%s'", relpaths[i],
			             pin);
	}
	sqlite3_clear_bindings(s);
	return sp_end(st, rc, what, err);
}

int stitch_state_tree_stat_clear(struct stitch_state *st, const char *pin, struct stitch_err *err)
{
	const char *what = "clear a stat cache";
	sqlite3_stmt *s;
	int rc;

	if ((rc = sp_begin(st, what, err)))
		return rc;
	if (!(s = stmt(st, S_TS_CLEAR, err)))
		return sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_text(s, 1, pin, -1, SQLITE_STATIC);
	if (step_done(s) != SQLITE_OK)
		rc = db_fail(st, err, "clear the stat cache of pin '%s'", pin);
	return sp_end(st, rc, what, err);
}

void stitch_tree_stats_free(struct stitch_tree_stat *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].relpath);
	free(rows);
}

/* ---- history ---- */

static int put_changes(struct stitch_state *st, int64_t id, const struct stitch_history *h,
                       struct stitch_err *err)
{
	for (size_t i = 0; i < h->n_changes; i++) {
		const struct stitch_change *c = &h->changes[i];
		sqlite3_stmt *s;

		if ((int)c->action < 0 || c->action >= STITCH_CHANGE__COUNT || !c->name)
			return stitch_error(err, STITCH_E_USAGE,
			                    "cannot record history: change %zu is malformed", i);
		if (!(s = stmt(st, S_HIST_CHG_INS, err)))
			return STITCH_E_STATE;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		bind_text(s, 3, action_names[c->action]);
		bind_text(s, 4, c->name);
		bind_text(s, 5, c->old_version);
		bind_text(s, 6, c->new_version);
		if (step_done(s) != SQLITE_OK)
			return db_fail(st, err, "record history");
	}
	return 0;
}

int stitch_state_history_append(struct stitch_state *st, const struct stitch_history *h,
                                int64_t *id, struct stitch_err *err)
{
	const char *what = "record history";
	sqlite3_stmt *s;
	int64_t rowid = 0;
	int rc;

	if ((rc = sp_begin(st, what, err)))
		return rc;
	if (!(s = stmt(st, S_HIST_INS, err)))
		return sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_int64(s, 1, now_or(h->time));
	bind_text(s, 2, h->command ? h->command : "");
	bind_text(s, 3, h->summary ? h->summary : "");
	if (step_done(s) != SQLITE_OK)
		rc = db_fail(st, err, "%s", what);
	else
		rowid = sqlite3_last_insert_rowid(st->db);
	if (!rc)
		rc = put_changes(st, rowid, h, err);
	if ((rc = sp_end(st, rc, what, err)))
		return rc;
	if (id)
		*id = rowid;
	return 0;
}

static int load_changes(struct stitch_state *st, struct stitch_history *h, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_HIST_CHG_LIST, err);
	size_t cap = 0;
	int rc;

	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_int64(s, 1, h->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(s, 0);
		struct stitch_change *c;
		int k = 0;

		while (k < STITCH_CHANGE__COUNT && strcmp(action_names[k], a ? a : "") != 0)
			k++;
		if (k == STITCH_CHANGE__COUNT) {
			sqlite3_reset(s);
			return stitch_error(err, STITCH_E_PARSE,
			                    "unknown action '%s' in history entry %lld of '%s'",
			                    a ? a : "", (long long)h->id, st->db_path);
		}
		XGROW(h->changes, cap, h->n_changes + 1);
		c = &h->changes[h->n_changes++];
		c->action = (enum stitch_change_action)k;
		c->name = col_str(s, 1);
		c->old_version = col_str(s, 2);
		c->new_version = col_str(s, 3);
	}
	if (rc != SQLITE_DONE)
		rc = db_fail(st, err, "read history");
	else
		rc = 0;
	sqlite3_reset(s);
	return rc;
}

int stitch_state_history_list(struct stitch_state *st, size_t limit, struct stitch_history **out,
                              size_t *n, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_HIST_LIST, err);
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return STITCH_E_STATE;
	sqlite3_bind_int64(s, 1, limit ? (sqlite3_int64)limit : -1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct stitch_history *h;
		XGROW(*out, cap, *n + 1);
		h = &(*out)[(*n)++];
		memset(h, 0, sizeof(*h));
		h->id = sqlite3_column_int64(s, 0);
		h->time = sqlite3_column_int64(s, 1);
		h->command = col_str(s, 2);
		h->summary = col_str(s, 3);
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(st, err, "read history");
	sqlite3_reset(s);
	for (size_t i = 0; !rc && i < *n; i++)
		rc = load_changes(st, &(*out)[i], err);
	if (rc) {
		stitch_history_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void stitch_history_free(struct stitch_history *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < h[i].n_changes; j++) {
			free(h[i].changes[j].name);
			free(h[i].changes[j].old_version);
			free(h[i].changes[j].new_version);
		}
		free(h[i].changes);
		free(h[i].command);
		free(h[i].summary);
	}
	free(h);
}

/* ---- journal ---- */

int stitch_state_journal_put(struct stitch_state *st, const char *op_json, struct stitch_err *err)
{
	const char *what = "write the journal";
	sqlite3_stmt *s;
	int rc;

	if ((rc = sp_begin(st, what, err)))
		return rc;
	if (!(s = stmt(st, S_JRN_PUT, err)))
		return sp_end(st, STITCH_E_STATE, what, err);
	bind_text(s, 1, op_json);
	sqlite3_bind_int64(s, 2, now_or(0));
	rc = step_done(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = stitch_error(
		    err, STITCH_E_EXISTS,
		    "cannot write the journal in '%s': an operation is already pending",
		    st->db_path);
	else if (rc != SQLITE_OK)
		rc = db_fail(st, err, "%s", what);
	return sp_end(st, rc, what, err);
}

int stitch_state_journal_get(struct stitch_state *st, char **op_json, struct stitch_err *err)
{
	sqlite3_stmt *s = stmt(st, S_JRN_GET, err);
	int rc;

	*op_json = NULL;
	if (!s)
		return STITCH_E_STATE;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*op_json = col_str(s, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(st, err, "read the journal");
	sqlite3_reset(s);
	return rc;
}

int stitch_state_journal_clear(struct stitch_state *st, struct stitch_err *err)
{
	const char *what = "clear the journal";
	sqlite3_stmt *s;
	int rc;

	if ((rc = sp_begin(st, what, err)))
		return rc;
	if (!(s = stmt(st, S_JRN_CLEAR, err)))
		return sp_end(st, STITCH_E_STATE, what, err);
	if (step_done(s) != SQLITE_OK)
		rc = db_fail(st, err, "%s", what);
	return sp_end(st, rc, what, err);
}
