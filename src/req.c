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
 * eval and print loop down the right spine, so their length is not
 * limited.
 */
#define MAX_DEPTH 64

/*
 * The classes of a byte, looked up once per byte because the resolver
 * parses thousands of requirements per solve.  C_VERSION is version.h's
 * [A-Za-z0-9_+.~-], C_NAME the same without '~' and C_ALNUM what a name
 * may start with (test_req checks them against stitch_version_valid and
 * stitch_name_valid).  C_TOKEN marks the bytes that can start or continue
 * some token of the grammar.  C_NODE marks the bytes that size a block
 * (below): each formula node consumes one of its own (a comparison its
 * '=', '<' or '>', a negation its '!', a join its '&' or '|'), and so does
 * each alternative after the first (its '|').
 */
enum {
	C_NODE = 1 << 0, /* bit 0: block_new adds it up as it is */
	C_SPACE = 1 << 1,
	C_VERSION = 1 << 2,
	C_NAME = 1 << 3,
	C_ALNUM = 1 << 4,
	C_TOKEN = 1 << 5,
};

#define C_ALNUM_CH (C_VERSION | C_NAME | C_ALNUM | C_TOKEN)
#define C_PUNCT_CH (C_VERSION | C_NAME | C_TOKEN)

static const unsigned char char_class[256] = {
    [' '] = C_SPACE,
    ['\t'] = C_SPACE,
    ['\n'] = C_SPACE,
    ['\r'] = C_SPACE,
    ['0' ... '9'] = C_ALNUM_CH,
    ['A' ... 'Z'] = C_ALNUM_CH,
    ['a' ... 'z'] = C_ALNUM_CH,
    ['_'] = C_PUNCT_CH,
    ['+'] = C_PUNCT_CH,
    ['.'] = C_PUNCT_CH,
    ['-'] = C_PUNCT_CH,
    ['~'] = C_VERSION | C_TOKEN,
    ['{'] = C_TOKEN,
    ['}'] = C_TOKEN,
    ['('] = C_TOKEN,
    [')'] = C_TOKEN,
    ['"'] = C_TOKEN,
    ['&'] = C_TOKEN | C_NODE,
    ['|'] = C_TOKEN | C_NODE,
    ['!'] = C_TOKEN | C_NODE,
    ['='] = C_TOKEN | C_NODE,
    ['<'] = C_TOKEN | C_NODE,
    ['>'] = C_TOKEN | C_NODE,
};

static bool is_space(char c)
{
	return char_class[(unsigned char)c] & C_SPACE;
}

static bool is_version_char(char c)
{
	return char_class[(unsigned char)c] & C_VERSION;
}

static bool is_name_char(char c)
{
	return char_class[(unsigned char)c] & C_NAME;
}

/* Can c start or continue some token of the grammar? */
static bool is_token_char(char c)
{
	return char_class[(unsigned char)c] & C_TOKEN;
}

/*
 * A parsed requirement is one block, which stitch_req_free frees at once:
 *
 *   struct stitch_req | alts ->  ...  <- nodes | a copy of s
 *
 * With n C_NODE bytes in s there are at most n + 1 alternatives and nodes
 * together, so room for n + 1 nodes holds them all when the alternatives
 * grow up from its front and the nodes down from its back.  Names and
 * versions point into the copy, each ended by a NUL written over the byte
 * after it (a delimiter, never part of another name or version).
 */
_Static_assert(sizeof(struct stitch_alt) <= sizeof(struct stitch_vformula) &&
                   sizeof(struct stitch_req) % _Alignof(struct stitch_alt) == 0 &&
                   sizeof(struct stitch_req) % _Alignof(struct stitch_vformula) == 0,
               "alternatives and nodes must fit and stay aligned in a block");

struct parser {
	const char *s;
	size_t pos;
	int depth;
	struct stitch_err *err;
	struct stitch_vformula *last_node; /* in the block, the last one taken */
	char *copy; /* the block's copy of s */
};

static const char *const op_text[] = {
    [STITCH_OP_EQ] = "=",  [STITCH_OP_NE] = "!=", [STITCH_OP_LT] = "<",
    [STITCH_OP_LE] = "<=", [STITCH_OP_GT] = ">",  [STITCH_OP_GE] = ">=",
};

static void skip_space(struct parser *p)
{
	while (is_space(p->s[p->pos]))
		p->pos++;
}

/*
 * Fill p->err for a syntax error at byte offset pos: the detail names the
 * input and the column, the cause shows the input with a caret under the
 * column (tabs copied so that the caret lines up); a long input is shown in
 * part (STITCH_REQ_SHOWN).  Returns STITCH_E_PARSE.
 */
static int vfail_at(struct parser *p, size_t pos, const char *fmt, va_list ap)
{
	char detail[256];
	struct stitch_buf caret = STITCH_BUF_INIT;
	size_t len = strlen(p->s), from = 0, to = len;

	vsnprintf(detail, sizeof(detail), fmt, ap);
	if (len <= STITCH_REQ_SHOWN) {
		stitch_error(p->err, STITCH_E_PARSE, "invalid requirement '%s': column %zu: %s",
		             p->s, pos + 1, detail);
	} else {
		/* A long input is cut around the column, so the reason stays in. */
		stitch_error(p->err, STITCH_E_PARSE,
		             "invalid requirement '%.40s...' (%zu bytes): column %zu: %s", p->s,
		             len, pos + 1, detail);
		from = pos > STITCH_REQ_SHOWN / 2 ? pos - STITCH_REQ_SHOWN / 2 : 0;
		to = from + STITCH_REQ_SHOWN < len ? from + STITCH_REQ_SHOWN : len;
	}
	for (size_t i = from; i < pos && p->s[i]; i++)
		stitch_buf_addch(&caret, p->s[i] == '\t' ? '\t' : ' ');
	stitch_error_cause(p->err, "%.*s\n%s^", (int)(to - from), p->s + from, caret.buf);
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

/* Allocate the block for a parse of p->s (see above) and copy p->s into it. */
static struct stitch_req *block_new(struct parser *p)
{
	size_t len, n = 0;
	struct stitch_req *r;
	const char *c;

	for (c = p->s; *c; c++)
		n += char_class[(unsigned char)*c] & C_NODE;
	len = (size_t)(c - p->s);
	r = xmalloc(sizeof(*r) + (n + 1) * sizeof(struct stitch_vformula) + len + 1);
	r->n_alts = 0;
	r->alts = (struct stitch_alt *)(r + 1);
	p->last_node = (struct stitch_vformula *)(r + 1) + n + 1;
	p->copy = memcpy(p->last_node, p->s, len + 1);
	return r;
}

static struct stitch_vformula *node_new(struct parser *p, enum stitch_vf_kind kind)
{
	struct stitch_vformula *f = --p->last_node;

	*f = (struct stitch_vformula){.kind = kind};
	return f;
}

/* The block's copy of p->s[start, end), as a string. */
static char *copy_str(struct parser *p, size_t start, size_t end)
{
	p->copy[end] = '\0';
	return p->copy + start;
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
	p->pos += op_text[*op][1] ? 2 : 1; /* one byte or two, without a strlen */
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
	*out = copy_str(p, start, end);
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
		version = copy_str(p, start, p->pos);
	}
	*out = node_new(p, STITCH_VF_CMP);
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
				*out = node_new(p, STITCH_VF_NOT);
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

		if (rc)
			return rc;
		skip_space(p);
		if (p->s[p->pos] != sym) {
			*slot = sub;
			break;
		}
		p->pos++;
		*slot = node_new(p, sym == '&' ? STITCH_VF_AND : STITCH_VF_OR);
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
	if (p->s[p->pos] != close)
		return expected(p, "expected '&', '|' or '%c'", close);
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
	/* The loop took name bytes only: stitch_name_valid checks the first. */
	if (!(char_class[(unsigned char)p->s[start]] & C_ALNUM))
		return fail_at(p, start,
		               "package name '%.*s' does not start with a letter or a digit",
		               (int)(p->pos - start), p->s + start);
	alt->name = copy_str(p, start, p->pos);
	skip_space(p);
	if (p->s[p->pos] != '{')
		return 0;
	p->pos++;
	return parse_or(p, "{", '}', &alt->formula);
}

int stitch_req_parse(const char *s, struct stitch_req **out, struct stitch_err *err)
{
	struct parser p = {.s = s, .err = err};
	struct stitch_req *r;
	int rc;

	*out = NULL;
	skip_space(&p);
	if (!s[p.pos])
		return fail_at(&p, 0, "empty requirement");
	r = block_new(&p);
	for (;;) {
		struct stitch_alt *alt = &r->alts[r->n_alts++];

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
	free(r);
	return rc;
}

/* The alternatives, nodes and strings all live in r's block. */
void stitch_req_free(struct stitch_req *r)
{
	free(r);
}

bool stitch_op_holds(enum stitch_op op, int c)
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
			return stitch_op_holds(f->op, stitch_version_cmp(version, f->version));
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

/* The versions among n that comparison f matches, as bits. */
static uint64_t cmp_mask(const struct stitch_vformula *f, const char *const *versions,
                         const uint64_t *keys, int n)
{
	uint64_t all = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1, newer, upto;
	int lo, hi;

	stitch_version_cut(versions, keys, n, f->version, stitch_version_key(f->version), &lo, &hi);
	newer = lo == 64 ? ~(uint64_t)0 : ((uint64_t)1 << lo) - 1;
	upto = hi == 64 ? ~(uint64_t)0 : ((uint64_t)1 << hi) - 1;
	switch (f->op) {
	case STITCH_OP_EQ:
		return upto & ~newer;
	case STITCH_OP_NE:
		return all & ~(upto & ~newer);
	case STITCH_OP_LT:
		return all & ~upto;
	case STITCH_OP_LE:
		return all & ~newer;
	case STITCH_OP_GT:
		return newer;
	case STITCH_OP_GE:
		return upto;
	}
	return 0;
}

/*
 * A chain is walked down its right spine as "acc | (conj & rest)", so that
 * only left operands, which the parser nests at most 64 deep, recurse.
 */
uint64_t stitch_vformula_mask(const struct stitch_vformula *f, const char *const *versions,
                              const uint64_t *keys, int n)
{
	uint64_t all = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1, acc = 0, conj = all;

	for (; f; f = f->right) {
		switch (f->kind) {
		case STITCH_VF_CMP:
			return acc | (conj & cmp_mask(f, versions, keys, n));
		case STITCH_VF_NOT:
			return acc |
			       (conj & all & ~stitch_vformula_mask(f->left, versions, keys, n));
		case STITCH_VF_AND:
			conj &= stitch_vformula_mask(f->left, versions, keys, n);
			break;
		case STITCH_VF_OR:
			acc |= conj & stitch_vformula_mask(f->left, versions, keys, n);
			break;
		}
	}
	return acc | conj;
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
			} else if (f->left && f->left->kind == STITCH_VF_NOT) {
				/* "!!": one level of nesting each, as parsed. */
				stitch_buf_addch(out, '!');
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
