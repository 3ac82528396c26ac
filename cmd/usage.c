/* Reading the command table's usage texts into a model: see usage.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "usage.h"
#include "util.h"

static enum usage_kind kind_of(const char *word, size_t len)
{
	static const struct {
		const char *prefix;
		enum usage_kind kind;
	} kinds[] = {{"PKG", KIND_PKG},   {"REQ", KIND_PKG},  {"DIR", KIND_FILE},
	             {"PATH", KIND_FILE}, {"OUT", KIND_FILE}, {"FILE", KIND_FILE}};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);
		if (len >= n && strncmp(word, kinds[i].prefix, n) == 0 &&
		    (len == n || !isalpha((unsigned char)word[n])))
			return kinds[i].kind;
	}
	return KIND_NONE;
}

static struct usage_opt *find_opt(struct usage_opts *o, const char *name, size_t len)
{
	for (size_t i = 0; i < o->n; i++)
		if (strlen(o->v[i].name) == len && strncmp(o->v[i].name, name, len) == 0)
			return &o->v[i];
	return NULL;
}

/* Add an option unless known; a value given where none was known is kept. */
static void add_opt(struct usage_opts *o, const char *name, size_t len, const char *value,
                    size_t vlen)
{
	struct usage_opt *have = find_opt(o, name, len);

	if (!have) {
		XGROW(o->v, o->cap, o->n + 1);
		have = &o->v[o->n++];
		*have = (struct usage_opt){xstrndup(name, len), NULL, KIND_NONE};
	}
	if (value && !have->value) {
		have->value = xstrndup(value, vlen);
		have->kind = kind_of(value, vlen);
	}
}

static void copy_opts(struct usage_opts *to, const struct usage_opts *from)
{
	for (size_t i = 0; i < from->n; i++) {
		const struct usage_opt *o = &from->v[i];
		add_opt(to, o->name, strlen(o->name), o->value, o->value ? strlen(o->value) : 0);
	}
}

void usage_opts_release(struct usage_opts *opts)
{
	for (size_t i = 0; i < opts->n; i++) {
		free(opts->v[i].name);
		free(opts->v[i].value);
	}
	free(opts->v);
	memset(opts, 0, sizeof(*opts));
}

static bool is_option(const char *w, size_t len)
{
	return len >= 2 && w[0] == '-' &&
	       (isalpha((unsigned char)w[1]) ||
	        (len >= 3 && w[1] == '-' && isalpha((unsigned char)w[2])));
}

/* A list term "-j, --jobs N": its options, each taking the value if any. */
static void term_opts(struct usage_opts *o, const char *term, size_t len)
{
	const char *names[4], *value = NULL, *end = term + len;
	size_t lens[4], n = 0, vlen = 0;

	for (const char *p = term; p < end;) {
		size_t w = 0;
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		while (p + w < end && p[w] != ' ' && p[w] != ',')
			w++;
		if (!w)
			break;
		if (is_option(p, w) && n < 4) {
			names[n] = p;
			lens[n++] = w;
		} else if (n && !value) {
			value = p;
			vlen = w;
		}
		p += w;
	}
	for (size_t i = 0; i < n; i++)
		add_opt(o, names[i], lens[i], value, vlen);
}

/* The next word of a synopsis line and its brackets stripped: "[--pin" -> "--pin". */
struct word {
	const char *p;
	size_t len;
	bool closes; /* a ']' followed it: no value comes after */
	bool repeats; /* "..." followed it */
};

static bool next_word(const char **s, const char *end, struct word *w)
{
	const char *p = *s, *q;

	while (p < end && *p == ' ')
		p++;
	if (p >= end)
		return false;
	q = p;
	while (q < end && *q != ' ')
		q++;
	*s = q;
	while (p < q && (*p == '[' || *p == '(' || *p == '|'))
		p++;
	w->p = p;
	w->len = 0;
	while (p + w->len < q && !strchr("[]()|", p[w->len]) && strncmp(p + w->len, "...", 3))
		w->len++;
	w->closes = memchr(p, ']', (size_t)(q - p)) != NULL;
	w->repeats = w->len + 3 <= (size_t)(q - p) && memmem(p, (size_t)(q - p), "...", 3);
	return true;
}

static struct usage_form *form_for(struct usage_model *m, const char *sub, size_t len)
{
	struct usage_form *f;

	for (size_t i = 0; i < m->n_forms; i++) {
		const char *s = m->forms[i].sub;
		if ((!s && !sub) || (s && sub && strlen(s) == len && strncmp(s, sub, len) == 0))
			return &m->forms[i];
	}
	XGROW(m->forms, m->cap_forms, m->n_forms + 1);
	f = &m->forms[m->n_forms++];
	memset(f, 0, sizeof(*f));
	f->sub = sub ? xstrndup(sub, len) : NULL;
	return f;
}

/* One form: "stitch repo add NAME PATH [--priority N] [--json]". */
static void read_form(struct usage_model *m, const char *s, size_t len)
{
	const char *end = s + len;
	struct usage_form *f = NULL;
	struct word w, prev = {0};
	bool first = true, operands_seen;

	next_word(&s, end, &w); /* "stitch" */
	next_word(&s, end, &w); /* the command */
	while (next_word(&s, end, &w)) {
		bool lower = w.len && islower((unsigned char)w.p[0]);
		if (first && lower) {
			f = form_for(m, w.p, w.len);
			first = false;
			prev = w;
			continue;
		}
		if (!f)
			f = form_for(m, NULL, 0);
		first = false;
		operands_seen = f->n_operands > 0;
		if (is_option(w.p, w.len)) {
			add_opt(&f->opts, w.p, w.len, NULL, 0);
		} else if (w.len && isupper((unsigned char)w.p[0])) {
			if (prev.len && is_option(prev.p, prev.len) && !prev.closes) {
				add_opt(&f->opts, prev.p, prev.len, w.p, w.len);
			} else if (!operands_seen || !f->repeats) {
				XGROW(f->operands, f->cap_operands, f->n_operands + 1);
				f->operands[f->n_operands++] = kind_of(w.p, w.len);
				f->repeats = w.repeats;
			}
		}
		prev = w;
	}
	if (!f)
		form_for(m, NULL, 0);
}

void usage_synopsis(const char *text, void (*line)(void *data, const char *s, size_t len),
                    void *data)
{
	struct stitch_buf form = STITCH_BUF_INIT;

	for (const char *p = text; *p && *p != '\n';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *s = p;
		while (s < p + n && *s == ' ')
			s++;
		if (strncmp(s, "usage: ", 7) == 0)
			s += 7;
		if (strncmp(s, "stitch", 6) == 0 && form.len) {
			line(data, form.buf, form.len);
			stitch_buf_reset(&form);
		}
		if (form.len)
			stitch_buf_addch(&form, ' ');
		stitch_buf_add(&form, s, (size_t)(p + n - s));
		p += n + (nl ? 1 : 0);
	}
	if (form.len)
		line(data, form.buf, form.len);
	stitch_buf_release(&form);
}

static void on_form(void *data, const char *s, size_t len)
{
	read_form(data, s, len);
}

static void on_entry(void *data, const char *term, size_t tlen, const char *desc)
{
	(void)desc;
	term_opts(data, term, tlen);
}

void usage_walk(const char *text, bool skip_synopsis, const struct usage_walker *w)
{
	const char *p = text;
	struct stitch_buf desc = STITCH_BUF_INIT;
	const char *term = NULL;
	size_t tlen = 0;
	bool gap = false, any = false;

	if (skip_synopsis) {
		while (*p && *p != '\n')
			p += strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0);
	}
	while (*p) {
		size_t n = strcspn(p, "\n");
		size_t ind = strspn(p, " ");
		if (term && (n == 0 || ind != n) && (ind <= 2 || n == 0)) {
			if (w->entry)
				w->entry(w->data, term, tlen, desc.buf);
			term = NULL;
		}
		if (n == 0 || ind == n) {
			gap = any;
		} else if (term) {
			stitch_buf_addch(&desc, ' ');
			stitch_buf_add(&desc, p + ind, n - ind);
		} else {
			if (gap && w->para)
				w->para(w->data);
			gap = false;
			any = true;
			if (ind == 2 && memmem(p + 2, n - 2, "  ", 2)) {
				const char *t = p + 2, *sp = memmem(t, n - 2, "  ", 2);
				term = t;
				tlen = (size_t)(sp - t);
				stitch_buf_reset(&desc);
				sp += strspn(sp, " ");
				stitch_buf_add(&desc, sp, (size_t)(p + n - sp));
			} else if (w->text) {
				w->text(w->data, p + ind, n - ind);
			}
		}
		p += n + (p[n] ? 1 : 0);
	}
	if (term && w->entry)
		w->entry(w->data, term, tlen, desc.buf);
	stitch_buf_release(&desc);
}

void usage_global_opts(struct usage_opts *opts, const char *text)
{
	struct usage_walker w = {.entry = on_entry, .data = opts};

	memset(opts, 0, sizeof(*opts));
	usage_walk(text, true, &w);
}

void usage_model_read(struct usage_model *m, const struct cmd_entry *cmd)
{
	struct usage_opts listed = {0};
	struct usage_walker w = {.entry = on_entry, .data = &listed};

	memset(m, 0, sizeof(*m));
	m->cmd = cmd;
	/* The lists first: what they say about values wins over a synopsis. */
	usage_walk(cmd->usage, true, &w);
	for (size_t i = 0; i < listed.n; i++)
		add_opt(&m->opts, listed.v[i].name, strlen(listed.v[i].name), listed.v[i].value,
		        listed.v[i].value ? strlen(listed.v[i].value) : 0);
	usage_synopsis(cmd->usage, on_form, m);
	for (size_t i = 0; i < m->n_forms; i++) {
		struct usage_form *f = &m->forms[i];
		/* A form's options take the values the lists give them. */
		for (size_t k = 0; k < f->opts.n; k++) {
			struct usage_opt *o = &f->opts.v[k], *l;
			l = find_opt(&listed, o->name, strlen(o->name));
			if (l && !l->value && o->value) {
				free(o->value);
				o->value = NULL;
				o->kind = KIND_NONE;
			} else if (l && l->value && !o->value) {
				o->value = xstrdup(l->value);
				o->kind = l->kind;
			}
		}
		copy_opts(&m->opts, &f->opts);
		add_opt(&f->opts, "--help", 6, NULL, 0);
	}
	add_opt(&m->opts, "--help", 6, NULL, 0);
	usage_opts_release(&listed);
}

void usage_model_release(struct usage_model *m)
{
	for (size_t i = 0; i < m->n_forms; i++) {
		free(m->forms[i].sub);
		free(m->forms[i].operands);
		usage_opts_release(&m->forms[i].opts);
	}
	free(m->forms);
	usage_opts_release(&m->opts);
	memset(m, 0, sizeof(*m));
}

size_t usage_visible_commands(const struct cmd_entry **out, size_t max)
{
	size_t n, k = 0;
	const struct cmd_entry *all = cmd_commands(&n, NULL);

	for (size_t i = 0; i < n && k < max; i++)
		if (!(all[i].flags & CMD_HIDDEN))
			out[k++] = &all[i];
	return k;
}
