/*
 * Requirement strings (index format, section 4).
 *
 *   requirement := alternative ( '|' alternative )*
 *   alternative := NAME [ '{' vformula '}' ]
 *   vformula    := vterm ( ( '&' | '|' ) vterm )*     '&' binds tighter than '|'
 *   vterm       := OP VERSION | '(' vformula ')' | '!' vterm
 *   OP          := '=' | '!=' | '<' | '<=' | '>' | '>='
 *   VERSION     := a version, optionally in double quotes
 */
#ifndef STITCH_REQ_H
#define STITCH_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "util.h"

/*
 * A parse error quotes the whole requirement when it is at most this many
 * bytes long; a longer one is quoted by its first 40 bytes and its length,
 * and the caret line shows this many bytes around the column.
 */
#define STITCH_REQ_SHOWN 200

enum stitch_vf_kind { STITCH_VF_CMP, STITCH_VF_AND, STITCH_VF_OR, STITCH_VF_NOT };
enum stitch_op {
	STITCH_OP_EQ,
	STITCH_OP_NE,
	STITCH_OP_LT,
	STITCH_OP_LE,
	STITCH_OP_GT,
	STITCH_OP_GE
};

/*
 * A version formula: a tree.  In a parsed requirement its nodes and strings
 * belong to the requirement and are freed with it, never one by one.
 */
struct stitch_vformula {
	enum stitch_vf_kind kind;
	enum stitch_op op; /* STITCH_VF_CMP only */
	char *version; /* STITCH_VF_CMP only, unquoted */
	struct stitch_vformula *left; /* AND, OR, NOT (NOT uses left only) */
	struct stitch_vformula *right; /* AND, OR */
};

struct stitch_alt {
	char *name;
	struct stitch_vformula *formula; /* NULL: any version */
};

struct stitch_req {
	size_t n_alts; /* >= 1 */
	struct stitch_alt *alts;
};

/*
 * Parse s into a new requirement (*out, freed with stitch_req_free, which
 * frees its alternatives, names, formulas and versions too: they share one
 * allocation).
 * On a syntax error returns STITCH_E_PARSE; err->msg reads
 *   invalid requirement 'ipv4 {>= }': column 10: expected a version after '>='
 * and err->cause holds two lines, the input and a caret under the column:
 *   ipv4 {>= }
 *            ^
 * Columns count bytes from 1.  Names and versions are validated with
 * version.h.  Nesting of '(' and '!' is limited to 64 levels so hostile
 * input cannot exhaust the stack; '&' and '|' chains have no limit.
 */
int stitch_req_parse(const char *s, struct stitch_req **out, struct stitch_err *err);
void stitch_req_free(struct stitch_req *r);

/* Does a version that compares c (<0, 0, >0) to the bound satisfy op? */
bool stitch_op_holds(enum stitch_op op, int c);

/* Does version satisfy f?  A NULL formula accepts every version. */
bool stitch_vformula_eval(const struct stitch_vformula *f, const char *version);

/*
 * The versions f matches among n (at most 64) distinct versions sorted
 * newest first, as bits (bit i: versions[i]): stitch_vformula_eval for all
 * of them at once.  keys[i] is stitch_version_key(versions[i]).  A NULL
 * formula matches them all.
 */
uint64_t stitch_vformula_mask(const struct stitch_vformula *f, const char *const *versions,
                              const uint64_t *keys, int n);

/* Is (name, version) matched by one of r's alternatives? */
bool stitch_req_matches(const struct stitch_req *r, const char *name, const char *version);

/*
 * Append the canonical form of r to out: alternatives joined by " | ",
 * formulas as "name {>= 1.0 & < 2.0}", one space around binary operators,
 * one after a comparison operator, no quotes, parentheses only where
 * precedence needs them and around the operand of '!' when it is not a
 * comparison or another '!' ("!(>= 1 & < 2)", "!= 1" is a comparison,
 * "! < 2" negates one, "!! < 2" negates that: each '!' one level deep, as
 * parsed).
 * Printing is a fixed point: parse(print(r)) prints the same string again.
 */
void stitch_req_print(const struct stitch_req *r, struct stitch_buf *out);
void stitch_vformula_print(const struct stitch_vformula *f, struct stitch_buf *out);

#endif
