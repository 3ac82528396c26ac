/*
 * Where a value is in a JSON text, for messages about values that parsed
 * but break the index format.  jansson records no positions per value, so
 * the text is scanned again, on demand: only a document with a problem pays
 * for it, and the scan keeps no stack (iterative, so a deeply nested
 * document costs no recursion).  The text has already been parsed by
 * jansson, so it is valid JSON; the scan still never reads past its end.
 */
#include <stdint.h>
#include <string.h>

#include "index_flat.h"

struct scan {
	const char *p, *end;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* At a '"': past the closing quote. */
static void skip_string(struct scan *s)
{
	for (s->p++; s->p < s->end; s->p++) {
		if (*s->p == '\\')
			s->p++;
		else if (*s->p == '"') {
			s->p++;
			return;
		}
	}
}

static void skip_value(struct scan *s)
{
	size_t depth = 0;

	do {
		if (s->p >= s->end)
			return;
		switch (*s->p) {
		case '"':
			skip_string(s);
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		default:
			if (depth == 0) {
				while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
					s->p++;
				return;
			}
		}
		s->p++;
	} while (depth > 0);
}

static unsigned hex4(const char *p)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static void add_utf8(struct stitch_buf *b, unsigned c)
{
	if (c < 0x80) {
		stitch_buf_addch(b, (char)c);
	} else if (c < 0x800) {
		stitch_buf_addch(b, (char)(0xc0 | c >> 6));
		stitch_buf_addch(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		stitch_buf_addch(b, (char)(0xe0 | c >> 12));
		stitch_buf_addch(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		stitch_buf_addch(b, (char)(0x80 | (c & 0x3f)));
	} else {
		stitch_buf_addch(b, (char)(0xf0 | c >> 18));
		stitch_buf_addch(b, (char)(0x80 | ((c >> 12) & 0x3f)));
		stitch_buf_addch(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		stitch_buf_addch(b, (char)(0x80 | (c & 0x3f)));
	}
}

/* One escape after a backslash at s->p; s->p ends on its last character. */
static void unescape(struct scan *s, struct stitch_buf *out)
{
	static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
	const char *m;
	unsigned c;

	s->p++;
	if (s->p >= s->end)
		return;
	if (*s->p != 'u') {
		m = strchr(from, *s->p);
		stitch_buf_addch(out, m && *s->p ? to[m - from] : *s->p);
		return;
	}
	if (s->end - s->p < 5)
		return;
	c = hex4(s->p + 1);
	s->p += 4;
	if (c >= 0xd800 && c < 0xdc00 && s->end - s->p >= 7 && s->p[1] == '\\' && s->p[2] == 'u') {
		c = 0x10000 + ((c - 0xd800) << 10) + (hex4(s->p + 3) - 0xdc00);
		s->p += 6;
	}
	add_utf8(out, c);
}

/* At a '"': the decoded string in out, s->p past the closing quote. */
static void read_string(struct scan *s, struct stitch_buf *out)
{
	stitch_buf_reset(out);
	for (s->p++; s->p < s->end; s->p++) {
		if (*s->p == '\\')
			unescape(s, out);
		else if (*s->p == '"') {
			s->p++;
			return;
		} else
			stitch_buf_addch(out, *s->p);
	}
}

/* From an object's '{' to the value of key; 0 if it has none. */
static int enter_key(struct scan *s, const char *key, struct stitch_buf *tmp)
{
	s->p++;
	for (;;) {
		skip_ws(s);
		if (s->p >= s->end || *s->p != '"')
			return 0;
		read_string(s, tmp);
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return 0;
		s->p++;
		skip_ws(s);
		if (strcmp(tmp->buf, key) == 0 && strlen(key) == tmp->len)
			return 1;
		skip_value(s);
		skip_ws(s);
		if (s->p >= s->end || *s->p != ',')
			return 0;
		s->p++;
	}
}

/* From an array's '[' to its item i; 0 if it is shorter. */
static int enter_item(struct scan *s, size_t i)
{
	s->p++;
	for (size_t k = 0;; k++) {
		skip_ws(s);
		if (s->p >= s->end || *s->p == ']')
			return 0;
		if (k == i)
			return 1;
		skip_value(s);
		skip_ws(s);
		if (s->p >= s->end || *s->p != ',')
			return 0;
		s->p++;
	}
}

size_t json_locate_at(const char *text, size_t len, size_t start, const struct json_step *path,
                      size_t n)
{
	struct stitch_buf tmp = STITCH_BUF_INIT;
	struct scan s = {text + start, text + len};
	size_t found;

	skip_ws(&s);
	found = (size_t)(s.p - text);
	for (size_t i = 0; i < n && s.p < s.end; i++) {
		int ok;
		if (path[i].key)
			ok = *s.p == '{' && enter_key(&s, path[i].key, &tmp);
		else
			ok = *s.p == '[' && enter_item(&s, path[i].index);
		if (!ok)
			break;
		found = (size_t)(s.p - text);
	}
	stitch_buf_release(&tmp);
	return found;
}

size_t json_locate(const char *text, size_t len, const struct json_step *path, size_t n)
{
	return json_locate_at(text, len, 0, path, n);
}

size_t json_next_member(const char *text, size_t len, size_t from, const char *key, size_t *after)
{
	struct stitch_buf tmp = STITCH_BUF_INIT;
	struct scan s = {text + from, text + len};
	size_t found = SIZE_MAX;

	for (;;) {
		skip_ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			skip_ws(&s);
		}
		if (s.p >= s.end || *s.p != '"')
			break;
		read_string(&s, &tmp);
		skip_ws(&s);
		if (s.p >= s.end || *s.p != ':')
			break;
		s.p++;
		skip_ws(&s);
		if (strcmp(tmp.buf, key) == 0 && strlen(key) == tmp.len) {
			found = (size_t)(s.p - text);
			skip_value(&s);
			*after = (size_t)(s.p - text);
			break;
		}
		skip_value(&s);
	}
	stitch_buf_release(&tmp);
	return found;
}

void json_line_col(const char *text, size_t off, int *line, int *col)
{
	struct json_lc lc = {0, 1, 1};

	json_line_col_from(text, off, &lc);
	*line = lc.line;
	*col = lc.col;
}

void json_line_col_from(const char *text, size_t off, struct json_lc *lc)
{
	size_t i = lc->off;
	int l = lc->line, c = lc->col;

	if (off < i) {
		i = 0;
		l = c = 1;
	}
	for (; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			c++;
		}
	}
	lc->off = off;
	lc->line = l;
	lc->col = c;
}
