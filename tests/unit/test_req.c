/* Unit tests for src/req.c: parsing, printing, evaluation and errors. */
#include <stdint.h>
#include <stdlib.h>

#include "req.h"
#include "test.h"
#include "version.h"

/* Parse s and return its canonical form (a static buffer), or NULL. */
static const char *canon(const char *s)
{
	static char out[4096];
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_req *r = NULL;
	struct stitch_buf b = STITCH_BUF_INIT;

	if (stitch_req_parse(s, &r, &err)) {
		printf("# parsing '%s': %s\n", s, err.msg);
		return NULL;
	}
	stitch_req_print(r, &b);
	snprintf(out, sizeof(out), "%s", b.buf);
	stitch_buf_release(&b);
	stitch_req_free(r);
	return out;
}

/* s parses, prints as want, and want is a fixed point. */
static void check_canon(const char *s, const char *want, int line)
{
	const char *got = canon(s);

	if (!got || strcmp(got, want) != 0) {
		printf("# %s:%d: '%s' printed as '%s', expected '%s'\n", __FILE__, line, s,
		       got ? got : "(error)", want);
		test_failed_checks++;
		return;
	}
	got = canon(want);
	if (!got || strcmp(got, want) != 0) {
		printf("# %s:%d: '%s' is not a fixed point: '%s'\n", __FILE__, line, want,
		       got ? got : "(error)");
		test_failed_checks++;
	}
}

#define CANON(s, want) check_canon((s), (want), __LINE__)

static struct stitch_req *parse_ok(const char *s)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_req *r = NULL;

	if (stitch_req_parse(s, &r, &err)) {
		printf("# parsing '%s' failed: %s\n", s, err.msg);
		test_failed_checks++;
		return NULL;
	}
	return r;
}

static void test_spec_examples(void)
{
	CANON("platform", "platform");
	CANON("ipv4 {>= 1.0 & < 2.0}", "ipv4 {>= 1.0 & < 2.0}");
	CANON("http {>= \"2.0~rc1\"}", "http {>= 2.0~rc1}");
	CANON("mbedtls {(>= 2.16 & < 3) | >= 3.4} | openssl {>= 3}",
	      "mbedtls {>= 2.16 & < 3 | >= 3.4} | openssl {>= 3}");
	CANON("platform-unix | platform-spt", "platform-unix | platform-spt");
	CANON("tcp-legacy", "tcp-legacy");
}

static void test_structure(void)
{
	struct stitch_req *r = parse_ok("mbedtls {(>= 2.16 & < 3) | >= 3.4} | openssl {>= 3}");
	const struct stitch_vformula *f;

	if (!r)
		return;
	CHECK_INT(r->n_alts, 2);
	CHECK_STR(r->alts[0].name, "mbedtls");
	CHECK_STR(r->alts[1].name, "openssl");
	f = r->alts[0].formula;
	CHECK_INT(f->kind, STITCH_VF_OR);
	CHECK_INT(f->left->kind, STITCH_VF_AND);
	CHECK_INT(f->left->left->kind, STITCH_VF_CMP);
	CHECK_INT(f->left->left->op, STITCH_OP_GE);
	CHECK_STR(f->left->left->version, "2.16");
	CHECK_INT(f->left->right->op, STITCH_OP_LT);
	CHECK_STR(f->left->right->version, "3");
	CHECK_INT(f->right->kind, STITCH_VF_CMP);
	CHECK_STR(f->right->version, "3.4");
	CHECK_INT(r->alts[1].formula->kind, STITCH_VF_CMP);
	stitch_req_free(r);

	r = parse_ok("platform");
	if (r) {
		CHECK_INT(r->n_alts, 1);
		CHECK(r->alts[0].formula == NULL);
		stitch_req_free(r);
	}

	/* quotes are not part of the version */
	r = parse_ok("http {>= \"2.0~rc1\"}");
	if (r) {
		CHECK_STR(r->alts[0].formula->version, "2.0~rc1");
		stitch_req_free(r);
	}
}

static void test_ops(void)
{
	static const struct {
		const char *in;
		enum stitch_op op;
	} cases[] = {
	    {"a {= 1}", STITCH_OP_EQ},  {"a {!= 1}", STITCH_OP_NE}, {"a {< 1}", STITCH_OP_LT},
	    {"a {<= 1}", STITCH_OP_LE}, {"a {> 1}", STITCH_OP_GT},  {"a {>= 1}", STITCH_OP_GE},
	    {"a{=1}", STITCH_OP_EQ},    {"a{!=1}", STITCH_OP_NE},   {"a{<1}", STITCH_OP_LT},
	    {"a{<=1}", STITCH_OP_LE},   {"a{>1}", STITCH_OP_GT},    {"a{>=1}", STITCH_OP_GE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stitch_req *r = parse_ok(cases[i].in);
		if (!r)
			continue;
		CHECK_INT(r->alts[0].formula->kind, STITCH_VF_CMP);
		CHECK_INT(r->alts[0].formula->op, cases[i].op);
		stitch_req_free(r);
	}
	CANON("a{=1}", "a {= 1}");
	CANON("a{!=1}", "a {!= 1}");
	CANON("a{<1}", "a {< 1}");
	CANON("a{<=1}", "a {<= 1}");
	CANON("a{>1}", "a {> 1}");
	CANON("a{>=1}", "a {>= 1}");
}

static void test_precedence(void)
{
	struct stitch_req *r = parse_ok("a {>= 1 | >= 2 & < 3}");
	const struct stitch_vformula *f;

	if (r) {
		f = r->alts[0].formula;
		CHECK_INT(f->kind, STITCH_VF_OR);
		CHECK_INT(f->left->kind, STITCH_VF_CMP);
		CHECK_INT(f->right->kind, STITCH_VF_AND);
		stitch_req_free(r);
	}
	r = parse_ok("a {>= 2 & < 3 | >= 1}");
	if (r) {
		f = r->alts[0].formula;
		CHECK_INT(f->kind, STITCH_VF_OR);
		CHECK_INT(f->left->kind, STITCH_VF_AND);
		CHECK_INT(f->right->kind, STITCH_VF_CMP);
		stitch_req_free(r);
	}
	/* parentheses are kept exactly where precedence needs them */
	CANON("a {>= 1 | >= 2 & < 3}", "a {>= 1 | >= 2 & < 3}");
	CANON("a {>= 1 | (>= 2 & < 3)}", "a {>= 1 | >= 2 & < 3}");
	CANON("a {(>= 1 | >= 2) & < 3}", "a {(>= 1 | >= 2) & < 3}");
	CANON("a {< 3 & (>= 1 | >= 2)}", "a {< 3 & (>= 1 | >= 2)}");
	CANON("a {((>= 1))}", "a {>= 1}");
	CANON("a {(>= 1 & < 2) & (< 3 & > 0)}", "a {>= 1 & < 2 & < 3 & > 0}");
	CANON("a {(= 1 | = 2) | (= 3 | = 4)}", "a {= 1 | = 2 | = 3 | = 4}");
	CANON("a {(= 1 | = 2) & (= 3 | = 4) | = 5}", "a {(= 1 | = 2) & (= 3 | = 4) | = 5}");
	CANON("a {= 1 & (= 2 & (= 3 | = 4))}", "a {= 1 & = 2 & (= 3 | = 4)}");
}

static void test_not(void)
{
	struct stitch_req *r = parse_ok("a {! = 1}");

	if (r) {
		CHECK_INT(r->alts[0].formula->kind, STITCH_VF_NOT);
		CHECK_INT(r->alts[0].formula->left->op, STITCH_OP_EQ);
		stitch_req_free(r);
	}
	r = parse_ok("a {!!= 1}");
	if (r) {
		CHECK_INT(r->alts[0].formula->kind, STITCH_VF_NOT);
		CHECK_INT(r->alts[0].formula->left->op, STITCH_OP_NE);
		stitch_req_free(r);
	}
	CANON("a {!= 1}", "a {!= 1}");
	CANON("a {! = 1}", "a {! = 1}");
	CANON("a {!(= 1)}", "a {! = 1}");
	CANON("a {!<2}", "a {! < 2}");
	CANON("a {! <= 2}", "a {! <= 2}");
	CANON("a {!!= 1}", "a {! != 1}");
	CANON("a {!(>= 1 & < 2)}", "a {!(>= 1 & < 2)}");
	CANON("a {!(>= 1 | < 2)}", "a {!(>= 1 | < 2)}");
	CANON("a {!!(= 1)}", "a {!! = 1}");
	CANON("a {! ! = 1}", "a {!! = 1}");
	CANON("a {!!!< 1}", "a {!!! < 1}");
	CANON("a {!(!(>= 1 & < 2))}", "a {!!(>= 1 & < 2)}");
	CANON("a {! < 2 & ! > 3}", "a {! < 2 & ! > 3}");
	CANON("a {!(< 2) | !(> 3)}", "a {! < 2 | ! > 3}");
	CANON("a {!(< 2 | > 3) & = 1}", "a {!(< 2 | > 3) & = 1}");
}

static void test_whitespace_and_quotes(void)
{
	CANON("  ipv4{>=1.0&<2.0}  ", "ipv4 {>= 1.0 & < 2.0}");
	CANON("ipv4\t{\t>=\t1.0\n&\r\n<2.0 }\n", "ipv4 {>= 1.0 & < 2.0}");
	CANON("a|b", "a | b");
	CANON("a   |   b {  = 1 }|c", "a | b {= 1} | c");
	CANON("a {>= \"1.0\" & < \"2.0\"}", "a {>= 1.0 & < 2.0}");
	CANON("a {>=\"1.0\"}", "a {>= 1.0}");
	CANON("a{(>=1|<0)&!=0.5}", "a {(>= 1 | < 0) & != 0.5}");
	CANON("c++ {= 1.0+x-1_2~a}", "c++ {= 1.0+x-1_2~a}");
	CANON("0pkg.x_y+z-w", "0pkg.x_y+z-w");
}

static void test_long_chain(void)
{
	/* '&' and '|' chains do not recurse per element */
	struct stitch_buf in = STITCH_BUF_INIT, out = STITCH_BUF_INIT;
	struct stitch_req *r;

	stitch_buf_adds(&in, "a {>= 0");
	for (int i = 0; i < 20000; i++)
		stitch_buf_addf(&in, i % 3 ? " & != %d.%d" : " | = %d.%d", i, i);
	stitch_buf_adds(&in, "}");
	r = parse_ok(in.buf);
	if (r) {
		stitch_req_print(r, &out);
		CHECK_STR(out.buf, in.buf);
		CHECK(stitch_vformula_eval(r->alts[0].formula, "5"));
		CHECK(stitch_vformula_eval(r->alts[0].formula, "3.3"));
		stitch_req_free(r);
	}
	stitch_buf_release(&in);
	stitch_buf_release(&out);

	/* many alternatives */
	for (int i = 0; i < 3000; i++)
		stitch_buf_addf(&in, "%sp%d {= %d}", i ? " | " : "", i, i);
	r = parse_ok(in.buf);
	if (r) {
		CHECK_INT(r->n_alts, 3000);
		stitch_req_print(r, &out);
		CHECK_STR(out.buf, in.buf);
		CHECK(stitch_req_matches(r, "p2999", "2999"));
		CHECK(!stitch_req_matches(r, "p2999", "2998"));
		stitch_req_free(r);
	}
	stitch_buf_release(&in);
	stitch_buf_release(&out);
}

static void test_eval_table(void)
{
	static const struct {
		const char *formula;
		const char *version;
		bool want;
	} cases[] = {
	    {"= 1.0", "1.0", true},
	    {"= 1.0", "1.00", true},
	    {"= 1.0", "1.0.0", false},
	    {"= 1.0", "1.0~rc1", false},
	    {"!= 1.0", "1.0", false},
	    {"!= 1.0", "1.1", true},
	    {"< 2.0", "1.9", true},
	    {"< 2.0", "2.0", false},
	    {"< 2.0", "2.0~rc1", true},
	    {"< 2.0", "10", false},
	    {"<= 2.0", "2.0", true},
	    {"<= 2.0", "2.0.1", false},
	    {"> 1", "1.0", true},
	    {"> 1", "1", false},
	    {"> 1", "1~", false},
	    {">= 1", "1", true},
	    {">= 1", "0.99", false},
	    {">= 1", "01", true},
	    {">= 1.0 & < 2.0", "1.0", true},
	    {">= 1.0 & < 2.0", "1.5.3", true},
	    {">= 1.0 & < 2.0", "2.0", false},
	    {">= 1.0 & < 2.0", "0.9", false},
	    {">= 1.0 & < 2.0", "2.0~beta", true},
	    {"(>= 2.16 & < 3) | >= 3.4", "2.16", true},
	    {"(>= 2.16 & < 3) | >= 3.4", "2.9", false},
	    {"(>= 2.16 & < 3) | >= 3.4", "3.0", false},
	    {"(>= 2.16 & < 3) | >= 3.4", "3.3.9", false},
	    {"(>= 2.16 & < 3) | >= 3.4", "3.4", true},
	    {"(>= 2.16 & < 3) | >= 3.4", "2.99", true},
	    {">= 1 | >= 2 & < 3", "5", true}, /* >= 1 | (>= 2 & < 3) */
	    {"(>= 1 | >= 2) & < 3", "5", false},
	    {"(>= 1 | >= 2) & < 3", "2", true},
	    {"! = 1", "1", false},
	    {"! = 1", "2", true},
	    {"!(>= 1 & < 2)", "1.5", false},
	    {"!(>= 1 & < 2)", "2", true},
	    {"!(>= 1 & < 2)", "0", true},
	    {"!!(= 1)", "1", true},
	    {"! < 2 & ! > 3", "2.5", true},
	    {"! < 2 & ! > 3", "1", false},
	    {"! < 2 & ! > 3", "4", false},
	    {"= a | = b | = c", "b", true},
	    {"= a | = b | = c", "d", false},
	    {"> a & > b & > c", "d", true},
	    {"> a & > b & > c", "c", false},
	    {"= 123456789012345678901234567890", "0123456789012345678901234567890", true},
	    {"> 18446744073709551615", "18446744073709551616", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[256];
		struct stitch_req *r;

		snprintf(buf, sizeof(buf), "p {%s}", cases[i].formula);
		r = parse_ok(buf);
		if (!r)
			continue;
		if (stitch_vformula_eval(r->alts[0].formula, cases[i].version) != cases[i].want) {
			printf("# %s:%d: '%s' on version '%s' should be %s\n", __FILE__, __LINE__,
			       cases[i].formula, cases[i].version,
			       cases[i].want ? "true" : "false");
			test_failed_checks++;
		}
		CHECK(stitch_req_matches(r, "p", cases[i].version) == cases[i].want);
		CHECK(!stitch_req_matches(r, "q", cases[i].version));
		stitch_req_free(r);
	}
	CHECK(stitch_vformula_eval(NULL, "1.0"));
	CHECK(stitch_vformula_eval(NULL, "~"));
}

static void test_matches(void)
{
	struct stitch_req *r = parse_ok("mbedtls {(>= 2.16 & < 3) | >= 3.4} | openssl {>= 3} | "
	                                "platform");

	if (!r)
		return;
	CHECK(stitch_req_matches(r, "mbedtls", "2.16.1"));
	CHECK(!stitch_req_matches(r, "mbedtls", "3.0"));
	CHECK(stitch_req_matches(r, "openssl", "3.0"));
	CHECK(!stitch_req_matches(r, "openssl", "1.1.1"));
	CHECK(stitch_req_matches(r, "platform", "0"));
	CHECK(stitch_req_matches(r, "platform", "~"));
	CHECK(!stitch_req_matches(r, "Platform", "1"));
	CHECK(!stitch_req_matches(r, "platfor", "1"));
	CHECK(!stitch_req_matches(r, "platforms", "1"));
	CHECK(!stitch_req_matches(r, "gnutls", "3.0"));
	stitch_req_free(r);

	/* the same name twice: either alternative may match */
	r = parse_ok("a {< 1} | a {> 2}");
	if (r) {
		CHECK(stitch_req_matches(r, "a", "0.5"));
		CHECK(!stitch_req_matches(r, "a", "1.5"));
		CHECK(stitch_req_matches(r, "a", "3"));
		stitch_req_free(r);
	}
}

/* --- syntax errors --- */

static void check_error(const char *in, size_t col, const char *detail, int line)
{
	struct stitch_err err = STITCH_ERR_INIT;
	static struct stitch_req sentinel;
	struct stitch_req *r = &sentinel; /* must be reset to NULL */
	char want_msg[STITCH_ERR_MSG_MAX], want_cause[STITCH_ERR_MSG_MAX];
	int rc = stitch_req_parse(in, &r, &err);

	snprintf(want_msg, sizeof(want_msg), "invalid requirement '%s': column %zu: %s", in, col,
	         detail);
	snprintf(want_cause, sizeof(want_cause), "%s\n%*s^", in, (int)col - 1, "");
	if (rc != STITCH_E_PARSE || err.code != STITCH_E_PARSE || r != NULL) {
		printf("# %s:%d: '%s' parsed (rc %d)\n", __FILE__, line, in, rc);
		test_failed_checks++;
		stitch_req_free(rc ? NULL : r);
		return;
	}
	if (strcmp(err.msg, want_msg) != 0) {
		printf("# %s:%d: message\n#   got  %s\n#   want %s\n", __FILE__, line, err.msg,
		       want_msg);
		test_failed_checks++;
	}
	if (strcmp(err.cause, want_cause) != 0) {
		printf("# %s:%d: cause\n#   got  %s\n#   want %s\n", __FILE__, line, err.cause,
		       want_cause);
		test_failed_checks++;
	}
}

#define ERR(in, col, detail) check_error((in), (col), (detail), __LINE__)

#define EXPECT_TERM "expected an operator (=, !=, <, <=, >, >=), '(' or '!' after "

static void test_errors(void)
{
	ERR("", 1, "empty requirement");
	ERR("   ", 1, "empty requirement");
	ERR("ipv4 {>= }", 10, "expected a version after '>='");
	ERR("ipv4 {>= 1.0", 13, "expected '&', '|' or '}'");
	ERR("ipv4 {>= 1.0 # x}", 14, "unexpected character '#'");
	ERR("ipv4 {>= 1.0}#", 14, "unexpected character '#'");
	ERR("#", 1, "unexpected character '#'");
	ERR("{>= 1}", 1, "expected a package name");
	ERR("a |", 4, "expected a package name after '|'");
	ERR("a | | b", 5, "expected a package name after '|'");
	ERR("a {>= 1} |", 11, "expected a package name after '|'");
	ERR("| a", 1, "expected a package name");
	ERR("-a", 1, "package name '-a' does not start with a letter or a digit");
	ERR("a | _b", 5, "package name '_b' does not start with a letter or a digit");
	ERR("a {}", 4, EXPECT_TERM "'{'");
	ERR("a {", 4, EXPECT_TERM "'{'");
	ERR("a |b{", 6, EXPECT_TERM "'{'");
	ERR("a {1.0}", 4, "expected an operator (=, !=, <, <=, >, >=) before the version");
	ERR("a {\"1.0\"}", 4, "expected an operator (=, !=, <, <=, >, >=) before the version");
	ERR("a {>= 1 &}", 10, EXPECT_TERM "'&'");
	ERR("a {>= 1 | }", 11, EXPECT_TERM "'|'");
	ERR("a {>= 1 & & < 2}", 11, EXPECT_TERM "'&'");
	ERR("a {()}", 5, EXPECT_TERM "'('");
	ERR("a {!}", 5, EXPECT_TERM "'!'");
	ERR("a {! }", 6, EXPECT_TERM "'!'");
	ERR("a {(>= 1}", 9, "expected '&', '|' or ')'");
	ERR("a {(>= 1", 9, "expected '&', '|' or ')'");
	ERR("a {>= 1)}", 8, "expected '&', '|' or '}'");
	ERR("a {>= 1 (}", 9, "expected '&', '|' or '}'");
	ERR("a {>= 1 >= 2}", 9, "expected '&', '|' or '}'");
	ERR("a {>= 1.0 rc}", 11, "expected '&', '|' or '}'");
	ERR("a {>= \"1.0}", 12, "expected '\"' to close the version opened at column 7");
	ERR("a {>= \"\"}", 8, "expected a version between the quotes after '>='");
	ERR("a {>= \"1 0\"}", 9, "unexpected character ' ' in a version");
	ERR("a {>= \"1}0\"}", 9, "unexpected character '}' in a version");
	ERR("a {>= \"1\x7f\"}", 9, "unexpected byte 0x7f in a version");
	ERR("a b", 3, "expected '{', '|' or the end of the requirement");
	ERR("a~1", 2, "expected '{', '|' or the end of the requirement");
	ERR("a {>= 1} b", 10, "expected '|' or the end of the requirement");
	ERR("a {>= 1} {", 10, "expected '|' or the end of the requirement");
	ERR("a {>= 1}}", 9, "expected '|' or the end of the requirement");
	ERR("a {== 1}", 5, "expected a version after '='");
	ERR("a {=> 1}", 5, "expected a version after '='");
	ERR("a {<}", 5, "expected a version after '<'");
	ERR("a {<", 5, "expected a version after '<'");
	ERR("a {>= ~1 & <= }", 15, "expected a version after '<='");
	ERR("a {!= |}", 7, "expected a version after '!='");
	ERR("a\x01", 2, "unexpected byte 0x01");
	ERR("a {>= 1.0\xc3\xa9}", 10, "unexpected byte 0xc3");
	ERR("caf\xc3\xa9", 4, "unexpected byte 0xc3");
	ERR("a {>= 1, < 2}", 8, "unexpected character ','");
	ERR("a {>= 1 && < 2}", 10, EXPECT_TERM "'&'");
	ERR("a {~1}", 4, "expected an operator (=, !=, <, <=, >, >=) before the version");
	ERR("a {>= 1} | b {= 2", 18, "expected '&', '|' or '}'");
}

/*
 * req.c classifies bytes with a table of its own; it must agree with
 * version.h on which bytes make names and versions.
 */
static bool parses_to_name(const char *in)
{
	struct stitch_req *r = NULL;
	bool ok = stitch_req_parse(in, &r, NULL) == 0 && r->n_alts == 1 &&
	          strcmp(r->alts[0].name, in) == 0;

	stitch_req_free(r);
	return ok;
}

static bool parses_to_version(const char *in, const char *version)
{
	struct stitch_req *r = NULL;
	bool ok = stitch_req_parse(in, &r, NULL) == 0 && r->alts[0].formula &&
	          strcmp(r->alts[0].formula->version, version) == 0;

	stitch_req_free(r);
	return ok;
}

static void test_byte_classes(void)
{
	int bad = 0;

	for (int c = 1; c < 256; c++) {
		char first[] = {(char)c, '\0'}, inner[] = {'x', (char)c, 'y', '\0'};
		char plain[32], quoted[32];

		snprintf(plain, sizeof(plain), "x {= %c}", c);
		snprintf(quoted, sizeof(quoted), "x {= \"%c\"}", c);
		if (parses_to_name(first) != stitch_name_valid(first, 1) ||
		    parses_to_name(inner) != stitch_name_valid(inner, 3) ||
		    parses_to_version(plain, first) != stitch_version_valid(first, 1) ||
		    parses_to_version(quoted, first) != stitch_version_valid(first, 1)) {
			if (bad++ < 5)
				printf("# byte 0x%02x is classified unlike version.h\n", c);
		}
	}
	CHECK_INT(bad, 0);
}

/* A requirement made mostly of operators and alternatives still fits its block. */
static void test_dense(void)
{
	CANON("a{!!!=1|!(<2|>3)&!=4}|b|c{=1|=2|=3}|d{!>1}",
	      "a {!! != 1 | !(< 2 | > 3) & != 4} | b | c {= 1 | = 2 | = 3} | d {! > 1}");
	CANON("a|b|c|d|e|f|g|h|i|j", "a | b | c | d | e | f | g | h | i | j");
}

static void test_error_caret_tabs(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_req *r = NULL;

	/* a tab before the column is copied so the caret lines up */
	CHECK_INT(stitch_req_parse("a\t{>= }", &r, &err), STITCH_E_PARSE);
	CHECK_STR(err.msg, "invalid requirement 'a\t{>= }': column 7: "
	                   "expected a version after '>='");
	CHECK_STR(err.cause, "a\t{>= }\n \t    ^");
	CHECK(r == NULL);
	/* a NULL err is allowed */
	CHECK_INT(stitch_req_parse("a {", &r, NULL), STITCH_E_PARSE);
	CHECK(r == NULL);
}

static void test_depth_limit(void)
{
	struct stitch_buf in = STITCH_BUF_INIT;
	struct stitch_req *r;
	char want[128];

	stitch_buf_adds(&in, "a {");
	for (int i = 0; i < 64; i++)
		stitch_buf_adds(&in, i % 2 ? "(" : "!(");
	stitch_buf_adds(&in, ">= 1");
	for (int i = 0; i < 64; i++)
		stitch_buf_adds(&in, ")");
	stitch_buf_adds(&in, "}");
	/* 32 '!' and 64 '(' is 96 levels: the 65th, at offset 67, is too deep */
	snprintf(want, sizeof(want), "version formula nested more than 64 levels deep");
	{
		struct stitch_err err = STITCH_ERR_INIT;
		CHECK_INT(stitch_req_parse(in.buf, &r, &err), STITCH_E_PARSE);
		CHECK(strstr(err.msg, want) != NULL);
		CHECK(strstr(err.msg, "column 68:") != NULL);
	}
	stitch_buf_reset(&in);
	stitch_buf_adds(&in, "a {");
	for (int i = 0; i < 64; i++)
		stitch_buf_adds(&in, "(");
	stitch_buf_adds(&in, ">= 1");
	for (int i = 0; i < 64; i++)
		stitch_buf_adds(&in, ")");
	stitch_buf_adds(&in, "}");
	r = parse_ok(in.buf); /* exactly 64 levels */
	stitch_req_free(r);
	stitch_buf_reset(&in);
	stitch_buf_adds(&in, "a {");
	for (int i = 0; i < 65; i++)
		stitch_buf_adds(&in, "(");
	ERR(in.buf, 68, "version formula nested more than 64 levels deep");
	stitch_buf_release(&in);
}

/* 64 '!' in a row parse, and print as they came: printing nests no deeper. */
static void test_negations_round_trip(void)
{
	struct stitch_buf in = STITCH_BUF_INIT, out = STITCH_BUF_INIT, again = STITCH_BUF_INIT;
	struct stitch_req *r, *r2;

	stitch_buf_adds(&in, "a {");
	for (int i = 0; i < 64; i++)
		stitch_buf_addch(&in, '!');
	stitch_buf_adds(&in, " < 1}");
	r = parse_ok(in.buf);
	if (!r)
		return;
	stitch_req_print(r, &out);
	CHECK_STR(out.buf, in.buf);
	r2 = parse_ok(out.buf);
	if (r2) {
		stitch_req_print(r2, &again);
		CHECK_STR(again.buf, out.buf);
		stitch_req_free(r2);
	}
	stitch_req_free(r);
	stitch_buf_release(&in);
	stitch_buf_release(&out);
	stitch_buf_release(&again);
}

/* --- properties over random trees --- */

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned rnd(unsigned n)
{
	return (unsigned)(rng() % n);
}

static const char *const versions[] = {
    "0",
    "1",
    "1.0",
    "1.0~rc1",
    "1.0a",
    "1.0+x",
    "1.0.1",
    "1.00.2",
    "1.10",
    "2",
    "2.0~",
    "3.4",
    "10",
    "~",
    "a",
    "1.0~~",
    "123456789012345678901234567890",
};
#define N_VERSIONS (sizeof(versions) / sizeof(versions[0]))

static struct stitch_vformula *random_tree(int depth)
{
	struct stitch_vformula *f = xcalloc(1, sizeof(*f));
	unsigned k = depth <= 0 ? 0 : rnd(6);

	switch (k) {
	case 0:
	case 1:
		f->kind = STITCH_VF_CMP;
		f->op = (enum stitch_op)rnd(6);
		f->version = xstrdup(versions[rnd(N_VERSIONS)]);
		break;
	case 2:
		f->kind = STITCH_VF_NOT;
		f->left = random_tree(depth - 1);
		break;
	default:
		f->kind = k == 4 ? STITCH_VF_OR : STITCH_VF_AND;
		f->left = random_tree(depth - 1);
		f->right = random_tree(depth - 1);
		break;
	}
	return f;
}

static void free_tree(struct stitch_vformula *f)
{
	if (!f)
		return;
	free_tree(f->left);
	free_tree(f->right);
	free(f->version);
	free(f);
}

static void test_prop_random_trees(void)
{
	int bad = 0;

	for (int n = 0; n < 3000; n++) {
		struct stitch_alt alts[3];
		struct stitch_req orig = {1 + rnd(3), alts};
		struct stitch_buf s1 = STITCH_BUF_INIT, s2 = STITCH_BUF_INIT;
		struct stitch_err err = STITCH_ERR_INIT;
		struct stitch_req *r = NULL;

		for (size_t i = 0; i < orig.n_alts; i++) {
			alts[i].name = xasprintf("p%u", rnd(3));
			alts[i].formula = rnd(5) ? random_tree(1 + (int)rnd(6)) : NULL;
		}
		stitch_req_print(&orig, &s1);
		if (stitch_req_parse(s1.buf, &r, &err)) {
			if (bad++ < 5)
				printf("# '%s' does not parse: %s\n", s1.buf, err.msg);
		} else {
			stitch_req_print(r, &s2);
			if (strcmp(s1.buf, s2.buf) != 0 && bad++ < 5)
				printf("# not a fixed point:\n#   %s\n#   %s\n", s1.buf, s2.buf);
			for (size_t i = 0; i < orig.n_alts; i++)
				for (size_t v = 0; v < N_VERSIONS; v++)
					if (stitch_vformula_eval(orig.alts[i].formula,
					                         versions[v]) !=
					        stitch_vformula_eval(r->alts[i].formula,
					                             versions[v]) &&
					    bad++ < 5)
						printf("# '%s' evaluates differently on '%s'\n",
						       s1.buf, versions[v]);
			for (int k = 0; k < 5; k++) {
				const char *name = alts[rnd((unsigned)orig.n_alts)].name;
				const char *v = versions[rnd(N_VERSIONS)];
				if (stitch_req_matches(&orig, name, v) !=
				    stitch_req_matches(r, name, v))
					bad++;
			}
		}
		stitch_req_free(r);
		for (size_t i = 0; i < orig.n_alts; i++) {
			free(alts[i].name);
			free_tree(alts[i].formula);
		}
		stitch_buf_release(&s1);
		stitch_buf_release(&s2);
	}
	CHECK_INT(bad, 0);
}

static int newest_first(const void *a, const void *b)
{
	return stitch_version_cmp(*(const char *const *)b, *(const char *const *)a);
}

/*
 * stitch_vformula_mask agrees with stitch_vformula_eval on every version of
 * random sorted sets, with and without sort keys.
 */
static void test_prop_mask(void)
{
	static const char *const more[] = {"1.2",        "1.2.0",  "1.2.3", "0.9",
	                                   "2022.11.01", "9999.1", "3.4.0", "1.1"};
	const char *all[N_VERSIONS + 8];
	int n_all = 0, bad = 0;

	for (size_t i = 0; i < N_VERSIONS + 8; i++)
		all[n_all++] = i < N_VERSIONS ? versions[i] : more[i - N_VERSIONS];
	for (int n = 0; n < 3000; n++) {
		const char *vs[64];
		uint64_t keys[64];
		int k = 0;
		for (int i = 0; i < n_all; i++)
			if (rnd(3))
				vs[k++] = all[i];
		qsort(vs, (size_t)k, sizeof(vs[0]), newest_first);
		int m = 0;
		for (int i = 0; i < k; i++)
			if (m == 0 || stitch_version_cmp(vs[m - 1], vs[i]) != 0)
				vs[m++] = vs[i];
		for (int i = 0; i < m; i++)
			keys[i] = n % 2 ? stitch_version_key(vs[i]) : 0;
		struct stitch_vformula *f = rnd(8) ? random_tree(1 + (int)rnd(5)) : NULL;
		uint64_t mask = stitch_vformula_mask(f, vs, keys, m);
		for (int i = 0; i < 64; i++) {
			bool want = i < m && stitch_vformula_eval(f, vs[i]);
			if (((mask >> i) & 1) != want && bad++ < 5)
				printf("# mask bit %d ('%s') is %d\n", i, i < m ? vs[i] : "-",
				       (int)((mask >> i) & 1));
		}
		free_tree(f);
	}
	CHECK_INT(bad, 0);
}

/*
 * Mutate canonical strings at random: every result either parses to a
 * fixed point or fails with a column inside the input (or just past it)
 * and a matching caret line.
 */
static void test_prop_mutations(void)
{
	static const char *const seeds[] = {
	    "mbedtls {>= 2.16 & < 3 | >= 3.4} | openssl {>= 3}",
	    "ipv4 {>= 1.0 & < 2.0}",
	    "a {!(>= 1 & < 2) | ! = 3}",
	    "http {>= \"2.0~rc1\"}",
	};
	static const char alphabet[] = "a1.~{}()&|!=<>\" #\t";
	int bad = 0, ok = 0;

	for (int n = 0; n < 20000; n++) {
		char in[128];
		struct stitch_err err = STITCH_ERR_INIT;
		struct stitch_req *r = NULL;
		size_t len;

		snprintf(in, sizeof(in), "%s", seeds[rnd(4)]);
		for (unsigned m = 1 + rnd(3); m > 0; m--) {
			len = strlen(in);
			size_t at = rnd((unsigned)len + 1);
			switch (rnd(3)) {
			case 0: /* delete */
				if (at < len)
					memmove(in + at, in + at + 1, len - at);
				break;
			case 1: /* replace */
				if (at < len)
					in[at] = alphabet[rnd(sizeof(alphabet) - 1)];
				break;
			default: /* insert */
				if (len + 2 < sizeof(in)) {
					memmove(in + at + 1, in + at, len - at + 1);
					in[at] = alphabet[rnd(sizeof(alphabet) - 1)];
				}
				break;
			}
		}
		len = strlen(in);
		if (stitch_req_parse(in, &r, &err) == 0) {
			const char *c1 = canon(in);
			char first[4096];
			snprintf(first, sizeof(first), "%s", c1 ? c1 : "");
			const char *c2 = canon(first);
			if ((!c1 || !c2 || strcmp(first, c2) != 0) && bad++ < 5)
				printf("# '%s' -> '%s' is not a fixed point\n", in, first);
			ok++;
			stitch_req_free(r);
			continue;
		}
		/* the message is "invalid requirement '<in>': column N: ..." */
		const char *colp = err.msg + strlen("invalid requirement '") + len;
		size_t col =
		    strncmp(colp, "': column ", 10) == 0 ? strtoul(colp + 10, NULL, 10) : 0;
		const char *nl = strchr(err.cause, '\n');
		if (col < 1 || col > len + 1 || !nl || strncmp(err.cause, in, len) != 0 ||
		    (size_t)(nl - err.cause) != len || strlen(nl + 1) != col || nl[col] != '^') {
			if (bad++ < 5)
				printf("# bad error for '%s': %s\n", in, err.msg);
		}
	}
	CHECK_INT(bad, 0);
	CHECK(ok > 100);
}

int main(void)
{
	RUN(test_spec_examples);
	RUN(test_structure);
	RUN(test_ops);
	RUN(test_precedence);
	RUN(test_not);
	RUN(test_whitespace_and_quotes);
	RUN(test_long_chain);
	RUN(test_eval_table);
	RUN(test_matches);
	RUN(test_errors);
	RUN(test_error_caret_tabs);
	RUN(test_byte_classes);
	RUN(test_dense);
	RUN(test_depth_limit);
	RUN(test_negations_round_trip);
	RUN(test_prop_random_trees);
	RUN(test_prop_mutations);
	RUN(test_prop_mask);
	return test_summary();
}
