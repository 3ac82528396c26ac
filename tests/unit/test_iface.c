/*
 * Unit tests for src/iface.c: which header edits the compiler sees.  Each
 * case is two texts of one header; SAME when they count alike in the
 * interface hash, DIFF when dependents must rebuild.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iface.h"
#include "test.h"
#include "util.h"

static char dir[] = "/tmp/stitch-test-iface.XXXXXX";

/* The header text of content, as the interface counts it; NULL when cc cannot read it. */
static char *text_of(const char *content)
{
	char *path = xasprintf("%s/h.h", dir);
	struct stitch_buf b = STITCH_BUF_INIT;
	char *out = NULL;

	CHECK(stitch_write_file(path, content, strlen(content), false) == 0);
	if (stitch_iface_header_text(path, &b) == 0)
		out = stitch_buf_detach(&b, NULL);
	stitch_buf_release(&b);
	free(path);
	return out;
}

static void check_pair(const char *a, const char *b, bool same, int line)
{
	char *ta = text_of(a), *tb = text_of(b);

	if (!ta || !tb || (strcmp(ta, tb) == 0) != same) {
		printf("# line %d: expected %s:\n#   %s\n#   %s\n", line, same ? "SAME" : "DIFF",
		       ta ? ta : "(unreadable)", tb ? tb : "(unreadable)");
		test_failed_checks++;
	}
	free(ta);
	free(tb);
}

#define SAME(a, b) check_pair((a), (b), true, __LINE__)
#define DIFF(a, b) check_pair((a), (b), false, __LINE__)

static void test_comments(void)
{
	SAME("int f(void);\n", "/* f */\nint f(void);\n");
	SAME("int f(void);\n", "int f(void); // f\n");
	SAME("#define A 1\n", "#define A 1 /* one */\n");
	SAME("#define A 1 /* one */\n", "#define A 1 /* uno */\n");
	SAME("int a/**/b;\n", "int a b;\n");
	SAME("/* a\n * long\n * comment */\nint x;\n", "int x;\n");
	DIFF("int ab;\n", "int a/**/b;\n");
	DIFF("#define S \"/* x */\"\n", "#define S \"\"\n");
}

static void test_whitespace(void)
{
	SAME("int f(void);\n", "  int \t f(void);   \n");
	SAME("int x;\nint y;\n", "int x;\n\n\n\tint y;\n");
	SAME("#define A 1\n", "#  define   A\t1\n");
	DIFF("#define F(x) x\n", "#define F (x) x\n");
	DIFF("char *s = \"a b\";\n", "char *s = \"a  b\";\n");
	DIFF("char c = ' ';\n", "char c = '\t';\n");
	/* A backslash-newline joins lines before tokens are made. */
	DIFF("#define A a\\\nb\n", "#define A a\\\n  b\n");
	DIFF("#define A a\\\n\nint x;\n", "#define A a\\\nint x;\n");
	/* Many blank lines are one line marker to the preprocessor: still a blank line. */
	SAME("#define A a\\\n\nint x;\n", "#define A a\\\n\n\n\n\n\n\n\n\n\n\n\n\nint x;\n");
}

static void test_meaning(void)
{
	DIFF("#define MTU 1500\n", "#define MTU 9000\n");
	DIFF("int f(void);\n", "long f(void);\n");
	DIFF("int f(void);\n", "int f(void);\nint g(void);\n");
	DIFF("#include <a.h>\n", "#include <b.h>\n");
	DIFF("int x;\n", "#pragma once\nint x;\n");
	SAME("#pragma once\nint x;\n", "#pragma   once /* guard */\nint x;\n");
	DIFF("#if A\nint x;\n#endif\n", "#if B\nint x;\n#endif\n");
}

static void put(const char *path, const char *text)
{
	CHECK(stitch_write_file(path, text, strlen(text), false) == 0);
}

/* A header counts alike wherever it lies (a switch, a staging tree). */
static void test_file_hash(void)
{
	char *a = xasprintf("%s/a.h", dir), *b = xasprintf("%s/b.h", dir);
	struct stitch_file f = {"include/x.h", NULL, "", S_IFREG | 0644, 20};
	char ha[65], hb[65];

	put(a, "int x; /* one */\n");
	put(b, "int   x;\n");
	stitch_iface_file_hash(a, &f, "/sw", ha);
	stitch_iface_file_hash(b, &f, "/sw", hb);
	CHECK_STR(ha, hb);
	/* A text naming the switch counts with a placeholder: the same in every switch. */
	put(a, "int x; /* /sw/a */\n#define P \"/sw/lib\"\n");
	put(b, "int x;\n#define P \"/other/lib\"\n");
	stitch_iface_file_hash(a, &f, "/sw", ha);
	stitch_iface_file_hash(b, &f, "/other", hb);
	CHECK_STR(ha, hb);
	free(a);
	free(b);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("not ok - cannot make a temporary directory\n");
		return 1;
	}
	RUN(test_comments);
	RUN(test_whitespace);
	RUN(test_meaning);
	RUN(test_file_hash);
	stitch_rm_rf(dir);
	return test_summary();
}
