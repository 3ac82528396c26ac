#include "req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

/*
 * Parentheses and '!' nest by recursion; bound them so that hostile input
 * (an index fetched from the network, a fuzzer) cannot exhaust the stack.
 * Chains of '&' and '|' are built iteratively as right-leaning trees, and
 * eval, print and free loop down the right spine, so their length is not
 * limited.
 */
#define MAX_DEPTH 64

struct parser {
	const char *s;
	size_t pos;
	int depth;
	struct stitch_err *err;
};

static const char *const op_text[] = {
    [STITCH_OP_EQ] = "=",  [STITCH_OP_NE] = "!=", [STITCH_OP_LT] = "<",
    [STITCH_OP_LE] = "<=", [STITCH_OP_GT] = ">",  [STITCH_OP_GE] = ">=",
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_version_char(char c)
{
	return stitch_version_valid(&c, 1);
}

static bool is_name_char(char c)
{
	return c != '~' && is_version_char(c);
}

/* Can c start or continue some token of the grammar? */
static bool is_token_char(char c)
{
	return is_version_char(c) || (c && strchr("{}()&|!=<>\"", c));
}

static void skip_space(struct parser *p)
{
	while (is_space(p->s[p->pos]))
		p->pos++;
}

/*
 * Fill p->err for a syntax error at byte offset pos: the detail names the
 * input and the column, the cause shows the input with a caret under the
 * column (tabs copied so that the caret lines up).  Returns STITCH_E_PARSE.
 */
static int vfail_at(struct parser *p, size_t pos, const char *fmt, va_list ap)
{
	char detail[256];
	struct stitch_buf caret = STITCH_BUF_INIT;

	vsnprintf(detail, sizeof(detail), fmt, ap);
	stitch_error(p->err, STITCH_E_PARSE, "invalid requirement '%s': column %zu: %s", p->s,
	             pos + 1, detail);
	for (size_t i = 0; i < pos && p->s[i]; i++)
		stitch_buf_addch(&caret, p->s[i] == '\t' ? '\t' : ' ');
	stitch_error_cause(p->err, "%s\n%s^", p->s, caret.buf);
	stitch_buf_release(&caret);
	return STITCH_E_PARSE;
}

static int fail_at(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(p, pos, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Report that the text at p->pos is not what the grammar allows there.  A
 * byte that cannot appear anywhere in a requirement is named; otherwise the
 * message says what was expected.
 */
static int expected(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int expected(struct parser *p, const char *fmt, ...)
{
	unsigned char c = (unsigned char)p->s[p->pos];
	va_list ap;
	int rc;

	if (c && !is_token_char((char)c)) {
		if (c < 0x20 || c >= 0x7f)
			return fail_at(p, p->pos, "unexpected byte 0x%02x", c);
		return fail_at(p, p->pos, "unexpected character '%c'", c);
	}
	va_start(ap, fmt);
	rc = vfail_at(p, p->pos, fmt, ap);
	va_end(ap);
	return rc;
}

static struct stitch_vformula *node_new(enum stitch_vf_kind kind)
{
	struct stitch_vformula *f = xcalloc(1, sizeof(*f));
	f->kind = kind;
	return f;
}

static void vformula_free(struct stitch_vformula *f)
{
	while (f) {
		struct stitch_vformula *right = f->right;
		vformula_free(f->left);
		free(f->version);
		free(f);
		f = right;
	}
}

/* Read an operator at p->pos, or return false without moving. */
static bool parse_op(struct parser *p, enum stitch_op *op)
{
	const char *s = p->s + p->pos;

	if (s[0] == '!' && s[1] == '=')
		*op = STITCH_OP_NE;
	else if (s[0] == '<' && s[1] == '=')
		*op = STITCH_OP_LE;
	else if (s[0] == '>' && s[1] == '=')
		*op = STITCH_OP_GE;
	else if (s[0] == '<')
		*op = STITCH_OP_LT;
	else if (s[0] == '>')
		*op = STITCH_OP_GT;
	else if (s[0] == '=')
		*op = STITCH_OP_EQ;
	else
		return false;
	p->pos += strlen(op_text[*op]);
	return true;
}

static int parse_quoted_version(struct parser *p, enum stitch_op op, char **out)
{
	size_t open = p->pos, start = open + 1, end = start;

	while (p->s[end] && p->s[end] != '"')
		end++;
	if (!p->s[end])
		return fail_at(p, end, "expected '\"' to close the version opened at column %zu",
		               open + 1);
	if (end == start)
		return fail_at(p, end, "expected a version between the quotes after '%s'",
		               op_text[op]);
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)p->s[i];
		if (is_version_char((char)c))
			continue;
		if (c < 0x20 || c >= 0x7f)
			return fail_at(p, i, "unexpected byte 0x%02x in a version", c);
		return fail_at(p, i, "unexpected character '%c' in a version", c);
	}
	*out = xstrndup(p->s + start, end - start);
	p->pos = end + 1;
	return 0;
}

/* OP VERSION, with p->pos at the operator. */
static int parse_cmp(struct parser *p, struct stitch_vformula **out)
{
	enum stitch_op op;
	char *version = NULL;
	size_t start;

	if (!parse_op(p, &op))
		return expected(p, "expected an operator");
	skip_space(p);
	if (p->s[p->pos] == '"') {
		int rc = parse_quoted_version(p, op, &version);
		if (rc)
			return rc;
	} else {
		start = p->pos;
		while (is_version_char(p->s[p->pos]))
			p->pos++;
		if (p->pos == start)
			return expected(p, "expected a version after '%s'", op_text[op]);
		version = xstrndup(p->s + start, p->pos - start);
	}
	*out = node_new(STITCH_VF_CMP);
	(*out)->op = op;
	(*out)->version = version;
	return 0;
}

static int parse_or(struct parser *p, const char *after, char close, struct stitch_vformula **out);

/* vterm; `after` names the token before it, for messages. */
static int parse_term(struct parser *p, const char *after, struct stitch_vformula **out)
{
	char c;
	int rc;

	skip_space(p);
	c = p->s[p->pos];
	if (c == '(' || (c == '!' && p->s[p->pos + 1] != '=')) {
		if (p->depth >= MAX_DEPTH)
			return fail_at(p, p->pos, "version formula nested more than %d levels deep",
			               MAX_DEPTH);
		p->depth++;
		p->pos++;
		if (c == '(') {
			rc = parse_or(p, "(", ')', out);
		} else {
			struct stitch_vformula *operand = NULL;
			rc = parse_term(p, "!", &operand);
			if (!rc) {
				*out = node_new(STITCH_VF_NOT);
				(*out)->left = operand;
			}
		}
		p->depth--;
		return rc;
	}
	if (c == '=' || c == '!' || c == '<' || c == '>')
		return parse_cmp(p, out);
	if (c == '"' || is_version_char(c))
		return fail_at(p, p->pos,
		               "expected an operator (=, !=, <, <=, >, >=) before the version");
	return expected(p, "expected an operator (=, !=, <, <=, >, >=), '(' or '!' after '%s'",
	                after);
}

/*
 * A chain of `sub` joined by `sym` ('&' or '|'), built right-leaning:
 * a OP (b OP c).  Stops before the first token that is not `sym`.
 */
static int parse_chain(struct parser *p, const char *after, char sym, struct stitch_vformula **out)
{
	struct stitch_vformula *root = NULL, **slot = &root;

	for (;;) {
		struct stitch_vformula *sub = NULL;
		int rc = sym == '|' ? parse_chain(p, after, '&', &sub) : parse_term(p, after, &sub);

		if (rc) {
			vformula_free(root);
			return rc;
		}
		skip_space(p);
		if (p->s[p->pos] != sym) {
			*slot = sub;
			break;
		}
		p->pos++;
		*slot = node_new(sym == '&' ? STITCH_VF_AND : STITCH_VF_OR);
		(*slot)->left = sub;
		slot = &(*slot)->right;
		after = sym == '&' ? "&" : "|";
	}
	*out = root;
	return 0;
}

/*
 * vformula followed by `close`, which is consumed.  `after` names the token
 * before the formula, for messages.
 */
static int parse_or(struct parser *p, const char *after, char close, struct stitch_vformula **out)
{
	struct stitch_vformula *f = NULL;
	int rc = parse_chain(p, after, '|', &f);

	if (rc)
		return rc;
	skip_space(p);
	if (p->s[p->pos] != close) {
		vformula_free(f);
		return expected(p, "expected '&', '|' or '%c'", close);
	}
	p->pos++;
	*out = f;
	return 0;
}

/* NAME [ '{' vformula '}' ], with p->pos at the name. */
static int parse_alt(struct parser *p, bool after_bar, struct stitch_alt *alt)
{
	size_t start = p->pos;

	while (is_name_char(p->s[p->pos]))
		p->pos++;
	if (p->pos == start)
		return expected(p, after_bar ? "expected a package name after '|'"
		                             : "expected a package name");
	if (!stitch_name_valid(p->s + start, p->pos - start))
		return fail_at(p, start,
		               "package name '%.*s' does not start with a letter or a digit",
		               (int)(p->pos - start), p->s + start);
	alt->name = xstrndup(p->s + start, p->pos - start);
	skip_space(p);
	if (p->s[p->pos] != '{')
		return 0;
	p->pos++;
	return parse_or(p, "{", '}', &alt->formula);
}

int stitch_req_parse(const char *s, struct stitch_req **out, struct stitch_err *err)
{
	struct parser p = {s, 0, 0, err};
	struct stitch_req *r = xcalloc(1, sizeof(*r));
	size_t cap = 0;
	int rc;

	*out = NULL;
	skip_space(&p);
	if (!s[p.pos]) {
		free(r);
		return fail_at(&p, 0, "empty requirement");
	}
	for (;;) {
		struct stitch_alt *alt;

		XGROW(r->alts, cap, r->n_alts + 1);
		alt = &r->alts[r->n_alts++];
		alt->name = NULL;
		alt->formula = NULL;
		rc = parse_alt(&p, r->n_alts > 1, alt);
		if (rc)
			goto fail;
		skip_space(&p);
		if (!s[p.pos])
			break;
		if (s[p.pos] != '|') {
			rc = expected(&p, alt->formula
			                      ? "expected '|' or the end of the requirement"
			                      : "expected '{', '|' or the end of the requirement");
			goto fail;
		}
		p.pos++;
		skip_space(&p);
	}
	*out = r;
	return 0;
fail:
	stitch_req_free(r);
	return rc;
}

void stitch_req_free(struct stitch_req *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_alts; i++) {
		free(r->alts[i].name);
		vformula_free(r->alts[i].formula);
	}
	free(r->alts);
	free(r);
}

static bool cmp_holds(enum stitch_op op, int c)
{
	switch (op) {
	case STITCH_OP_EQ:
		return c == 0;
	case STITCH_OP_NE:
		return c != 0;
	case STITCH_OP_LT:
		return c < 0;
	case STITCH_OP_LE:
		return c <= 0;
	case STITCH_OP_GT:
		return c > 0;
	case STITCH_OP_GE:
		return c >= 0;
	}
	return false;
}

bool stitch_vformula_eval(const struct stitch_vformula *f, const char *version)
{
	while (f) {
		switch (f->kind) {
		case STITCH_VF_CMP:
			return cmp_holds(f->op, stitch_version_cmp(version, f->version));
		case STITCH_VF_NOT:
			return !stitch_vformula_eval(f->left, version);
		case STITCH_VF_AND:
			if (!stitch_vformula_eval(f->left, version))
				return false;
			break;
		case STITCH_VF_OR:
			if (stitch_vformula_eval(f->left, version))
				return true;
			break;
		}
		f = f->right;
	}
	return true;
}

bool stitch_req_matches(const struct stitch_req *r, const char *name, const char *version)
{
	for (size_t i = 0; i < r->n_alts; i++)
		if (strcmp(r->alts[i].name, name) == 0 &&
		    stitch_vformula_eval(r->alts[i].formula, version))
			return true;
	return false;
}

/* An operand of '&' needs parentheses when it is an '|'. */
static void print_and_operand(const struct stitch_vformula *f, struct stitch_buf *out)
{
	if (f && f->kind == STITCH_VF_OR) {
		stitch_buf_addch(out, '(');
		stitch_vformula_print(f, out);
		stitch_buf_addch(out, ')');
	} else {
		stitch_vformula_print(f, out);
	}
}

void stitch_vformula_print(const struct stitch_vformula *f, struct stitch_buf *out)
{
	while (f) {
		switch (f->kind) {
		case STITCH_VF_CMP:
			stitch_buf_addf(out, "%s %s", op_text[f->op], f->version);
			return;
		case STITCH_VF_NOT:
			if (f->left && f->left->kind == STITCH_VF_CMP) {
				stitch_buf_adds(out, "! ");
				stitch_vformula_print(f->left, out);
			} else {
				stitch_buf_adds(out, "!(");
				stitch_vformula_print(f->left, out);
				stitch_buf_addch(out, ')');
			}
			return;
		case STITCH_VF_AND:
			print_and_operand(f->left, out);
			stitch_buf_adds(out, " & ");
			if (f->right && f->right->kind == STITCH_VF_OR) {
				print_and_operand(f->right, out);
				return;
			}
			break;
		case STITCH_VF_OR:
			stitch_vformula_print(f->left, out);
			stitch_buf_adds(out, " | ");
			break;
		}
		f = f->right;
	}
}

void stitch_req_print(const struct stitch_req *r, struct stitch_buf *out)
{
	for (size_t i = 0; i < r->n_alts; i++) {
		if (i)
			stitch_buf_adds(out, " | ");
		stitch_buf_adds(out, r->alts[i].name);
		if (r->alts[i].formula) {
			stitch_buf_adds(out, " {");
			stitch_vformula_print(r->alts[i].formula, out);
			stitch_buf_addch(out, '}');
		}
	}
}
