/*
 * Private to the state module.  state.c provides the database: the schema,
 * the statements, the savepoints and the row loop; state_rows.c reads rows
 * into typed arrays on that loop.  state_pkgs.c, state_pins.c,
 * state_history.c and state_journal.c use both and never each other, and
 * neither state.c nor state_rows.c calls them.
 */
#ifndef STITCH_STATE_INT_H
#define STITCH_STATE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "state.h"

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
	S_HIST_SNAP_PKGS,
	S_HIST_SNAP_PINS,
	S_HIST_GET,
	S_HIST_PKGS,
	S_HIST_PINS,
	S_HIST_CHG_INS,
	S_HIST_LIST,
	S_HIST_CHG_LIST,
	S_HIST_LAST,
	S_JRN_PUT,
	S_JRN_GET,
	S_JRN_CLEAR,
	S_PATH_GET,
	S_PATH_SET,
	S_FILE_REHASH,
	S_USER_VERSION,
	S_APPLICATION_ID,
	S__COUNT
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

/*
 * Report a failure of sqlite while doing `what` (a formatted phrase such as
 * "record package 'tcp'"): STITCH_E_STATE, with sqlite's message as the
 * cause.  Call it before anything else touches the connection.
 */
int state_db_fail(struct stitch_state *st, struct stitch_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The statement `id`, reset and unbound, ready for binding; NULL after state_db_fail. */
sqlite3_stmt *state_stmt(struct stitch_state *st, enum stmt_id id, struct stitch_err *err);
/* Bind v, or NULL when v is NULL; the string is borrowed until the statement is reset. */
void state_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Run a statement that returns no rows and reset it; sqlite's result code. */
int state_step_done(sqlite3_stmt *s);
/* Column i as a malloc'd string, NULL for NULL. */
char *state_col_str(sqlite3_stmt *s, int i);
/* Column i as a hex hash into out ("" for NULL; longer values are cut). */
void state_col_hash(sqlite3_stmt *s, int i, char out[65]);
/* t, or the current time when t is 0. */
int64_t state_now_or(int64_t t);

/* A parameter of a query: text when text is not NULL, else num. */
struct state_arg {
	const char *text;
	int64_t num;
};

/* Called for each row of a query; returns 0 to go on, or a code (err filled) to stop. */
typedef int state_row_fn(sqlite3_stmt *row, void *data, struct stitch_err *err);

/*
 * Run statement id with args bound to ?1, ?2, ... (borrowed for the call)
 * and call on_row for every row, in order; the statement is reset and
 * unbound after.  Returns 0, what on_row returned when it stopped, or
 * STITCH_E_STATE from sqlite, reported as "cannot <what> '<subject>' in
 * '<db>'" (without the subject when it is NULL).  On error the rows
 * already given to on_row stay with data, for the caller to free.
 */
int state_query(struct stitch_state *st, enum stmt_id id, const struct state_arg *args,
                size_t n_args, state_row_fn *on_row, void *data, const char *what,
                const char *subject, struct stitch_err *err);

/* What a column holds, and how it is stored in its field. */
enum state_col_type {
	STATE_COL_STR, /* char *, malloc'd (NULL for NULL) */
	STATE_COL_I64, /* int64_t or uint64_t, as stored */
	STATE_COL_U32, /* uint32_t */
	STATE_COL_BOOL, /* bool: the column is not 0 */
	STATE_COL_HASH, /* char[65], as state_col_hash */
};

/* Column i of a row goes to the field at offset off of an element. */
struct state_col {
	enum state_col_type type;
	size_t off;
};

#define STATE_COL(type, T, field)                    \
	{                                            \
		STATE_COL_##type, offsetof(T, field) \
	}

/* Fill the fields of elem from columns 0 to n - 1 of row, as cols[0..n) say. */
void state_read_cols(sqlite3_stmt *row, void *elem, const struct state_col *cols, size_t n);

/*
 * Rows of one type: the size of an element, its columns (the row's first
 * n_cols, in order), and a function freeing n elements with their array
 * (the type's _free function).
 */
struct state_rows_kind {
	size_t size;
	const struct state_col *cols;
	size_t n_cols;
	void (*release)(void *v, size_t n);
};

/* The kind of rows of type T read as cols (an array) and freed by release. */
#define STATE_ROWS_KIND(T, cols, release)                                  \
	{                                                                  \
		sizeof(T), cols, sizeof(cols) / sizeof((cols)[0]), release \
	}

/* Rows being collected: pass state_rows_add as on_row and this as data. */
struct state_rows {
	const struct state_rows_kind *kind;
	void *v; /* n elements, room for cap */
	size_t n, cap;
};

#define STATE_ROWS_INIT(kind)    \
	{                        \
		kind, NULL, 0, 0 \
	}

int state_rows_add(sqlite3_stmt *row, void *data, struct stitch_err *err);
/* Returns rc; when it is not 0 the rows are released and r is left empty. */
int state_rows_end(struct state_rows *r, int rc);
/*
 * state_query collecting every row as kind: the array goes to *out (out is
 * a T ** for elements of type T) and its length to *n; on error *out is
 * NULL and *n 0.
 */
int state_query_rows(struct stitch_state *st, enum stmt_id id, const struct state_arg *args,
                     size_t n_args, const struct state_rows_kind *kind, void *out, size_t *n,
                     const char *what, const char *subject, struct stitch_err *err);

/*
 * A savepoint around each writing call: its own transaction outside
 * stitch_state_begin, a nested one inside.  sp_begin fails with
 * STITCH_E_USAGE on a read-only state; sp_end(rc) releases the savepoint
 * when rc is 0, else rolls back to it, and returns the call's result.
 */
int state_sp_begin(struct stitch_state *st, const char *what, struct stitch_err *err);
int state_sp_end(struct stitch_state *st, int rc, const char *what, struct stitch_err *err);

/*
 * Run statement id, which returns no rows, with args bound to ?1, ?2, ...
 * (borrowed for the call) in its own savepoint; a failure of sqlite is
 * reported as state_query reports it.
 */
int state_exec(struct stitch_state *st, enum stmt_id id, const struct state_arg *args,
               size_t n_args, const char *what, const char *subject, struct stitch_err *err);

/*
 * Run statement id, which changes the row keyed by name (?1) and takes arg
 * as ?2 if it has one, in its own savepoint (state_exec).  STITCH_E_NOTFOUND, naming
 * `kind` ("pin", "package"), when no row changed.
 */
int state_change_by_name(struct stitch_state *st, enum stmt_id id, const char *kind,
                         const char *name, int arg, const char *what, struct stitch_err *err);

#endif
