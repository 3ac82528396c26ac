/*
 * Relocating a moved or copied switch (switch_move.h).
 */
#include "switch_move.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* Installed text files larger than this are not looked into. */
#define MOVE_MAX_FILE (16u << 20)

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/*
 * The content of the text file at full with from replaced by to, into out:
 * false when it does not name from, is binary or cannot be read.
 */
static bool rewritten(const char *full, const char *from, const char *to, struct stitch_buf *out)
{
	struct stitch_buf in = STITCH_BUF_INIT;
	bool names;

	if (stitch_read_file(full, &in, MOVE_MAX_FILE) != 0) {
		stitch_buf_release(&in);
		return false;
	}
	names = memmem(in.buf, in.len, from, strlen(from)) && !memchr(in.buf, '\0', in.len);
	if (names)
		stitch_replace_all(in.buf, in.len, from, to, out);
	stitch_buf_release(&in);
	return names;
}

struct plan {
	const struct stitch_switch *sw;
	const char *from;
	json_t *out;
};

/* A file that names the old place: its path, and the sha256 and size it will have. */
static int plan_file(const struct stitch_file *f, void *data, struct stitch_err *err)
{
	struct plan *pl = data;
	struct stitch_buf b = STITCH_BUF_INIT;
	char *full = xasprintf("%s/%s", pl->sw->dir, f->path), sum[65];

	(void)err;
	if (S_ISREG(f->mode) && f->size <= MOVE_MAX_FILE &&
	    rewritten(full, pl->from, pl->sw->dir, &b)) {
		stitch_sha256_hex(b.buf, b.len, sum);
		json_array_append_new(pl->out, json_pack("{s:s, s:s, s:I}", "path", f->path,
		                                         "sha256", sum, "size", (json_int_t)b.len));
	}
	stitch_buf_release(&b);
	free(full);
	return 0;
}

static int plan_files(struct stitch_switch *sw, const char *from, json_t *out,
                      struct stitch_err *err)
{
	struct plan pl = {sw, from, out};

	return stitch_state_each_file(sw->st, plan_file, &pl, err);
}

/* The parent directory of an absolute path ("/" for "/x"). */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash != path ? xstrndup(path, (size_t)(slash - path)) : xstrdup("/");
}

/*
 * Pins whose tree lay in the switch's parent directory (a project's own
 * checkouts beside its _stitch/) move with it, when the tree is there at
 * the new place too.
 */
static int plan_pins(struct stitch_switch *sw, const char *from, json_t *out,
                     struct stitch_err *err)
{
	struct stitch_pin *pins = NULL;
	size_t n = 0;
	char *old_parent = parent_of(from), *new_parent = parent_of(sw->dir);
	size_t len = strlen(old_parent);
	int rc = stitch_state_pin_list(sw->st, &pins, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *p = pins[i].path;
		struct stat st;
		char *moved;
		if (strncmp(p, old_parent, len) != 0 || p[len] != '/' || len == 1)
			continue;
		moved = xasprintf("%s%s", new_parent, p + len);
		if (stat(moved, &st) == 0 && S_ISDIR(st.st_mode))
			json_array_append_new(
			    out, json_pack("{s:s, s:s}", "name", pins[i].name, "path", moved));
		free(moved);
	}
	stitch_pins_free(pins, n);
	free(old_parent);
	free(new_parent);
	return rc;
}

json_t *stitch_switch_move_plan(struct stitch_switch *sw, const char *from, struct stitch_err *err)
{
	json_t *files = json_array(), *pins = json_array();

	if (plan_files(sw, from, files, err) != 0 || plan_pins(sw, from, pins, err) != 0) {
		json_decref(files);
		json_decref(pins);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o}", "op", "relocate", "from", from, "to", sw->dir,
	                 "files", files, "pins", pins);
}

static int rewrite_one(struct stitch_switch *sw, json_t *rec, json_t *f, bool *done,
                       struct stitch_err *err)
{
	const char *rel = jstr(f, "path"), *from = jstr(rec, "from"), *to = jstr(rec, "to");
	char *full = xasprintf("%s/%s", sw->dir, rel), sum[65];
	struct stitch_buf b = STITCH_BUF_INIT;
	struct stat st;
	int rc = 0;

	*done = false;
	if (!rel || !from || !to || strstr(rel, "..") || rel[0] == '/') {
		rc = stitch_error(err, STITCH_E_STATE,
		                  "the relocation in the journal of '%s' is malformed", sw->dir);
	} else if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
		/* gone or replaced since it was installed: doctor reports it */
	} else if (stitch_sha256_file(full, sum) == 0 && !strcmp(sum, jstr(f, "sha256"))) {
		/* rewritten before a crash: nothing to do */
	} else if (rewritten(full, from, to, &b)) {
		if (stitch_write_file(full, b.buf, b.len, true) != 0 ||
		    chmod(full, st.st_mode & 07777) != 0)
			rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", full,
			                  strerror(errno));
		else
			*done = true;
	}
	stitch_buf_release(&b);
	free(full);
	return rc;
}

int stitch_switch_move_apply(struct stitch_switch *sw, json_t *rec, void (*after_each)(int n),
                             struct stitch_err *err)
{
	json_t *f;
	size_t i;
	int rc = 0, n = 0;

	json_array_foreach(json_object_get(rec, "files"), i, f)
	{
		bool done;
		if ((rc = rewrite_one(sw, rec, f, &done, err)) != 0)
			return rc;
		if (done && after_each)
			after_each(++n);
	}
	return 0;
}

int stitch_switch_move_record(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	json_t *f;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(rec, "files"), i, f)
	{
		rc = stitch_state_file_rehash(
		    sw->st, jstr(f, "path"), jstr(f, "sha256"),
		    (uint64_t)json_integer_value(json_object_get(f, "size")), err);
		if (rc == STITCH_E_NOTFOUND)
			rc = 0;
		if (rc)
			return rc;
	}
	json_array_foreach(json_object_get(rec, "pins"), i, f)
	{
		struct stitch_pin pin;
		char *old;
		if (stitch_state_pin_get(sw->st, jstr(f, "name"), &pin, NULL) != 0)
			continue;
		old = pin.path;
		pin.path = (char *)jstr(f, "path");
		rc = stitch_state_pin_put(sw->st, &pin, err);
		pin.path = old;
		stitch_pin_release(&pin);
		if (rc)
			return rc;
	}
	return stitch_state_path_set(sw->st, jstr(rec, "to"), err);
}
