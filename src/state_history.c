/*
 * The history of operations (state.h), on the database of state.c.
 */
#include "state.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"
#include "util.h"

static const char *const action_names[STITCH_CHANGE__COUNT] = {
    [STITCH_CHANGE_INSTALL] = "install",     [STITCH_CHANGE_UPGRADE] = "upgrade",
    [STITCH_CHANGE_DOWNGRADE] = "downgrade", [STITCH_CHANGE_REMOVE] = "remove",
    [STITCH_CHANGE_REBUILD] = "rebuild",     [STITCH_CHANGE_PIN] = "pin",
    [STITCH_CHANGE_UNPIN] = "unpin",
};

const char *stitch_change_action_name(enum stitch_change_action a)
{
	if ((int)a < 0 || a >= STITCH_CHANGE__COUNT)
		return "unknown";
	return action_names[a];
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
		if (!(s = state_stmt(st, S_HIST_CHG_INS, err)))
			return STITCH_E_STATE;
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		state_bind_text(s, 3, action_names[c->action]);
		state_bind_text(s, 4, c->name);
		state_bind_text(s, 5, c->old_version);
		state_bind_text(s, 6, c->new_version);
		if (state_step_done(s) != SQLITE_OK)
			return state_db_fail(st, err, "record history");
	}
	return 0;
}

/* The packages and pins the state holds now, as the entry's snapshot. */
static int put_snapshot(struct stitch_state *st, int64_t id, struct stitch_err *err)
{
	static const enum stmt_id ids[] = {S_HIST_SNAP_PKGS, S_HIST_SNAP_PINS};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sqlite3_stmt *s = state_stmt(st, ids[i], err);
		if (!s)
			return STITCH_E_STATE;
		sqlite3_bind_int64(s, 1, id);
		if (state_step_done(s) != SQLITE_OK)
			return state_db_fail(st, err, "record the snapshot of history entry %lld",
			                     (long long)id);
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

	if ((rc = state_sp_begin(st, what, err)))
		return rc;
	if (!(s = state_stmt(st, S_HIST_INS, err)))
		return state_sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_int64(s, 1, state_now_or(h->time));
	state_bind_text(s, 2, h->command ? h->command : "");
	state_bind_text(s, 3, h->summary ? h->summary : "");
	if (state_step_done(s) != SQLITE_OK)
		rc = state_db_fail(st, err, "%s", what);
	else
		rowid = sqlite3_last_insert_rowid(st->db);
	if (!rc)
		rc = put_changes(st, rowid, h, err);
	if (!rc)
		rc = put_snapshot(st, rowid, err);
	if ((rc = state_sp_end(st, rc, what, err)))
		return rc;
	if (id)
		*id = rowid;
	return 0;
}

struct changes {
	struct stitch_state *st;
	struct stitch_history *h;
	size_t cap;
};

/* The change in columns at..at+3 of row: action, name, old and new version. */
static int change_row_at(sqlite3_stmt *row, int at, struct changes *r, struct stitch_err *err)
{
	struct stitch_history *h = r->h;
	const char *a = (const char *)sqlite3_column_text(row, at);
	struct stitch_change *c;
	int k = 0;

	while (k < STITCH_CHANGE__COUNT && strcmp(action_names[k], a ? a : "") != 0)
		k++;
	if (k == STITCH_CHANGE__COUNT)
		return stitch_error(err, STITCH_E_PARSE,
		                    "unknown action '%s' in history entry %lld of '%s'", a ? a : "",
		                    (long long)h->id, r->st->db_path);
	XGROW(h->changes, r->cap, h->n_changes + 1);
	c = &h->changes[h->n_changes++];
	c->action = (enum stitch_change_action)k;
	c->name = state_col_str(row, at + 1);
	c->old_version = state_col_str(row, at + 2);
	c->new_version = state_col_str(row, at + 3);
	return 0;
}

static int change_row(sqlite3_stmt *row, void *data, struct stitch_err *err)
{
	return change_row_at(row, 0, data, err);
}

/*
 * An entry of S_HIST_LIST or S_HIST_GET; S_HIST_LAST has the first four
 * columns, then a change.
 */
static const struct state_col entry_cols[] = {
    STATE_COL(I64, struct stitch_history, id),
    STATE_COL(I64, struct stitch_history, time),
    STATE_COL(STR, struct stitch_history, command),
    STATE_COL(STR, struct stitch_history, summary),
    STATE_COL(BOOL, struct stitch_history, snapshot),
};

static void release_entries(void *v, size_t n)
{
	stitch_history_free(v, n);
}

static const struct state_rows_kind entry_rows =
    STATE_ROWS_KIND(struct stitch_history, entry_cols, release_entries);

int stitch_state_history_list(struct stitch_state *st, size_t limit, struct stitch_history **out,
                              size_t *n, struct stitch_err *err)
{
	struct state_arg arg = {NULL, limit ? (int64_t)limit : -1};
	struct state_rows r = STATE_ROWS_INIT(&entry_rows);
	int rc =
	    state_query(st, S_HIST_LIST, &arg, 1, state_rows_add, &r, "read history", NULL, err);
	struct stitch_history *h = r.v;

	for (size_t i = 0; !rc && i < r.n; i++) {
		struct changes c = {st, &h[i], 0};

		arg.num = h[i].id;
		rc = state_query(st, S_HIST_CHG_LIST, &arg, 1, change_row, &c, "read history", NULL,
		                 err);
	}
	rc = state_rows_end(&r, rc);
	*out = r.v;
	*n = r.n;
	return rc;
}

void stitch_history_release(struct stitch_history *h)
{
	for (size_t j = 0; j < h->n_changes; j++) {
		free(h->changes[j].name);
		free(h->changes[j].old_version);
		free(h->changes[j].new_version);
	}
	free(h->changes);
	free(h->command);
	free(h->summary);
	memset(h, 0, sizeof(*h));
}

/* One entry with the one change of the row: columns 0-3 the entry, 4-7 the change. */
static int last_row(sqlite3_stmt *row, void *data, struct stitch_err *err)
{
	struct changes *r = data;

	state_read_cols(row, r->h, entry_cols, 4);
	return change_row_at(row, 4, r, err);
}

int stitch_state_history_last(struct stitch_state *st, const char *name, struct stitch_history *out,
                              struct stitch_err *err)
{
	struct state_arg arg = {name, 0};
	struct changes c = {st, out, 0};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = state_query(st, S_HIST_LAST, &arg, 1, last_row, &c, "read history", name, err);
	if (rc == 0 && out->n_changes == 0)
		rc = stitch_error(err, STITCH_E_NOTFOUND, "the history of '%s' never names '%s'",
		                  st->switch_dir, name);
	if (rc)
		stitch_history_release(out);
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

/* ---- snapshots ---- */

static const struct state_col snap_pkg_cols[] = {
    STATE_COL(STR, struct stitch_snap_pkg, name),
    STATE_COL(STR, struct stitch_snap_pkg, version),
    STATE_COL(STR, struct stitch_snap_pkg, build_hash),
    STATE_COL(BOOL, struct stitch_snap_pkg, pinned),
    STATE_COL(BOOL, struct stitch_snap_pkg, requested),
};

static void free_snap_pkgs(void *v, size_t n)
{
	struct stitch_snap_pkg *p = v;

	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].version);
		free(p[i].build_hash);
	}
	free(p);
}

/* A pin of a snapshot: the columns of a pin but the time it was pinned. */
static const struct state_col snap_pin_cols[] = {
    STATE_COL(STR, struct stitch_pin, name),
    STATE_COL(STR, struct stitch_pin, version),
    STATE_COL(STR, struct stitch_pin, path),
    STATE_COL(STR, struct stitch_pin, tree_hash),
};

static void free_snap_pins(void *v, size_t n)
{
	stitch_pins_free(v, n);
}

static const struct state_rows_kind snap_pkg_rows =
    STATE_ROWS_KIND(struct stitch_snap_pkg, snap_pkg_cols, free_snap_pkgs);
static const struct state_rows_kind snap_pin_rows =
    STATE_ROWS_KIND(struct stitch_pin, snap_pin_cols, free_snap_pins);

int stitch_state_history_snapshot(struct stitch_state *st, int64_t id, struct stitch_snapshot *out,
                                  struct stitch_err *err)
{
	struct state_arg arg = {NULL, id};
	struct stitch_history *h = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = state_query_rows(st, S_HIST_GET, &arg, 1, &entry_rows, &h, &n, "read history", NULL,
	                      err);
	if (rc == 0 && n == 0)
		rc =
		    stitch_error(err, STITCH_E_NOTFOUND, "no operation %lld in the history of '%s'",
		                 (long long)id, st->switch_dir);
	if (rc) {
		stitch_history_free(h, n);
		return rc;
	}
	out->entry = h[0];
	free(h);
	{
		struct changes c = {st, &out->entry, 0};
		rc = state_query(st, S_HIST_CHG_LIST, &arg, 1, change_row, &c, "read history", NULL,
		                 err);
	}
	if (rc == 0)
		rc = state_query_rows(st, S_HIST_PKGS, &arg, 1, &snap_pkg_rows, &out->pkgs,
		                      &out->n_pkgs, "read history", NULL, err);
	if (rc == 0)
		rc = state_query_rows(st, S_HIST_PINS, &arg, 1, &snap_pin_rows, &out->pins,
		                      &out->n_pins, "read history", NULL, err);
	if (rc)
		stitch_snapshot_release(out);
	return rc;
}

void stitch_snapshot_release(struct stitch_snapshot *snap)
{
	stitch_history_release(&snap->entry);
	free_snap_pkgs(snap->pkgs, snap->n_pkgs);
	stitch_pins_free(snap->pins, snap->n_pins);
	memset(snap, 0, sizeof(*snap));
}
