/*
 * Rows read into typed arrays: a table of columns a type (state_int.h),
 * on state.c's row loop.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "state_int.h"
#include "util.h"

void state_read_cols(sqlite3_stmt *row, void *elem, const struct state_col *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *field = (char *)elem + cols[i].off;
		int64_t v = 0;
		uint32_t u;
		bool b;
		switch (cols[i].type) {
		case STATE_COL_STR:
			*(char **)field = state_col_str(row, (int)i);
			break;
		case STATE_COL_HASH:
			state_col_hash(row, (int)i, field);
			break;
		case STATE_COL_I64:
			v = sqlite3_column_int64(row, (int)i);
			memcpy(field, &v, sizeof(v));
			break;
		case STATE_COL_U32:
			u = (uint32_t)sqlite3_column_int64(row, (int)i);
			memcpy(field, &u, sizeof(u));
			break;
		case STATE_COL_BOOL:
			b = sqlite3_column_int(row, (int)i) != 0;
			memcpy(field, &b, sizeof(b));
			break;
		}
	}
}

int state_rows_add(sqlite3_stmt *row, void *data, struct stitch_err *err)
{
	struct state_rows *r = data;
	size_t size = r->kind->size;
	void *elem;

	(void)err;
	if (r->n == r->cap)
		r->v = xgrow(r->v, &r->cap, r->n + 1, size);
	elem = (char *)r->v + r->n++ * size;
	memset(elem, 0, size);
	state_read_cols(row, elem, r->kind->cols, r->kind->n_cols);
	return 0;
}

int state_rows_end(struct state_rows *r, int rc)
{
	if (rc) {
		r->kind->release(r->v, r->n);
		r->v = NULL;
		r->n = 0;
	}
	return rc;
}

int state_query_rows(struct stitch_state *st, enum stmt_id id, const struct state_arg *args,
                     size_t n_args, const struct state_rows_kind *kind, void *out, size_t *n,
                     const char *what, const char *subject, struct stitch_err *err)
{
	struct state_rows r = STATE_ROWS_INIT(kind);
	int rc = state_query(st, id, args, n_args, state_rows_add, &r, what, subject, err);

	rc = state_rows_end(&r, rc);
	memcpy(out, &r.v, sizeof(r.v)); /* out is a T **: store the array as one */
	*n = r.n;
	return rc;
}
