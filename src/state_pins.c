/*
 * Pins and the stat cache of their trees (state.h), on the database of
 * state.c.
 */
#include "state.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"
#include "util.h"

/* ---- pins ---- */

int stitch_state_pin_put(struct stitch_state *st, const struct stitch_pin *pin,
                         struct stitch_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!pin->name || !pin->path)
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot record a pin without a name and a path");
	if ((rc = state_sp_begin(st, "record a pin", err)))
		return rc;
	if (!(s = state_stmt(st, S_PIN_DROPSTAT, err)))
		return state_sp_end(st, STITCH_E_STATE, "record a pin", err);
	state_bind_text(s, 1, pin->name);
	state_bind_text(s, 2, pin->path);
	if (state_step_done(s) != SQLITE_OK)
		return state_sp_end(st, state_db_fail(st, err, "record pin '%s'", pin->name),
		                    "record a pin", err);
	if (!(s = state_stmt(st, S_PIN_PUT, err)))
		return state_sp_end(st, STITCH_E_STATE, "record a pin", err);
	state_bind_text(s, 1, pin->name);
	state_bind_text(s, 2, pin->version);
	state_bind_text(s, 3, pin->path);
	state_bind_text(s, 4, pin->tree_hash);
	sqlite3_bind_int64(s, 5, state_now_or(pin->pinned_at));
	if (state_step_done(s) != SQLITE_OK)
		rc = state_db_fail(st, err, "record pin '%s'", pin->name);
	return state_sp_end(st, rc, "record a pin", err);
}

int stitch_state_pin_remove(struct stitch_state *st, const char *name, struct stitch_err *err)
{
	return state_change_by_name(st, S_PIN_DEL, "pin", name, 0, "remove pin", err);
}

static const struct state_col pin_cols[] = {
    STATE_COL(STR, struct stitch_pin, name),      STATE_COL(STR, struct stitch_pin, version),
    STATE_COL(STR, struct stitch_pin, path),      STATE_COL(STR, struct stitch_pin, tree_hash),
    STATE_COL(I64, struct stitch_pin, pinned_at),
};

static void release_pins(void *v, size_t n)
{
	stitch_pins_free(v, n);
}

static const struct state_rows_kind pin_rows =
    STATE_ROWS_KIND(struct stitch_pin, pin_cols, release_pins);

int stitch_state_pin_get(struct stitch_state *st, const char *name, struct stitch_pin *out,
                         struct stitch_err *err)
{
	struct state_arg arg = {name, 0};
	struct stitch_pin *p;
	size_t n;
	int rc = state_query_rows(st, S_PIN_GET, &arg, 1, &pin_rows, &p, &n, "read pin", name, err);

	memset(out, 0, sizeof(*out));
	if (!rc && n == 0)
		rc = stitch_error(err, STITCH_E_NOTFOUND, "pin '%s' is not in switch '%s'", name,
		                  st->switch_dir);
	if (!rc) {
		*out = p[0]; /* the name is the key: one row at most */
		n = 0;
	}
	stitch_pins_free(p, n);
	return rc;
}

int stitch_state_pin_list(struct stitch_state *st, struct stitch_pin **out, size_t *n,
                          struct stitch_err *err)
{
	return state_query_rows(st, S_PIN_LIST, NULL, 0, &pin_rows, out, n, "list pins", NULL, err);
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

static const struct state_col tree_stat_cols[] = {
    STATE_COL(STR, struct stitch_tree_stat, relpath),
    STATE_COL(I64, struct stitch_tree_stat, size),
    STATE_COL(I64, struct stitch_tree_stat, mtime_ns),
    STATE_COL(I64, struct stitch_tree_stat, ctime_ns),
    STATE_COL(I64, struct stitch_tree_stat, inode),
    STATE_COL(U32, struct stitch_tree_stat, mode),
    STATE_COL(HASH, struct stitch_tree_stat, sha256),
};

static void release_tree_stats(void *v, size_t n)
{
	stitch_tree_stats_free(v, n);
}

static const struct state_rows_kind tree_stat_rows =
    STATE_ROWS_KIND(struct stitch_tree_stat, tree_stat_cols, release_tree_stats);

int stitch_state_tree_stat_get(struct stitch_state *st, const char *pin,
                               struct stitch_tree_stat **out, size_t *n, struct stitch_err *err)
{
	struct state_arg arg = {pin, 0};

	return state_query_rows(st, S_TS_GET, &arg, 1, &tree_stat_rows, out, n,
	                        "read the stat cache of pin", pin, err);
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

	if ((rc = state_sp_begin(st, what, err)))
		return rc;
	if ((rc = pin_exists(st, pin, err)))
		return state_sp_end(st, rc, what, err);
	if (!(s = state_stmt(st, S_TS_PUT, err)))
		return state_sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_text(s, 1, pin, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct stitch_tree_stat *t = &rows[i];
		/* The statement keeps binding 1 across rows; rebind the rest. */
		state_bind_text(s, 2, t->relpath);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)t->size);
		sqlite3_bind_int64(s, 4, t->mtime_ns);
		sqlite3_bind_int64(s, 5, t->ctime_ns);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)t->inode);
		sqlite3_bind_int64(s, 7, t->mode);
		sqlite3_bind_text(s, 8, t->sha256, -1, SQLITE_STATIC);
		if (state_step_done(s) != SQLITE_OK)
			rc = state_db_fail(st, err, "record the stat of '%s' in pin '%s'",
			                   t->relpath ? t->relpath : "(null)", pin);
	}
	sqlite3_clear_bindings(s);
	return state_sp_end(st, rc, what, err);
}

int stitch_state_tree_stat_delete(struct stitch_state *st, const char *pin,
                                  const char *const *relpaths, size_t n, struct stitch_err *err)
{
	const char *what = "update a stat cache";
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_sp_begin(st, what, err)))
		return rc;
	if (!(s = state_stmt(st, S_TS_DEL, err)))
		return state_sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_text(s, 1, pin, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n && !rc; i++) {
		state_bind_text(s, 2, relpaths[i]);
		if (state_step_done(s) != SQLITE_OK)
			rc = state_db_fail(st, err, "forget the stat of '%s' in pin '%s'",
			                   relpaths[i], pin);
	}
	sqlite3_clear_bindings(s);
	return state_sp_end(st, rc, what, err);
}

int stitch_state_tree_stat_clear(struct stitch_state *st, const char *pin, struct stitch_err *err)
{
	struct state_arg arg = {pin, 0};

	return state_exec(st, S_TS_CLEAR, &arg, 1, "clear the stat cache of pin", pin, err);
}

void stitch_tree_stats_free(struct stitch_tree_stat *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].relpath);
	free(rows);
}
