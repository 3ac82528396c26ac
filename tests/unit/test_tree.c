/* Unit tests for src/tree.c: where a symbolic link in a tree leads. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "tree.h"
#include "util.h"

static char root[] = "/tmp/stitch-test-tree.XXXXXX";

static void make_link(const char *target, const char *rel)
{
	char *path = xasprintf("%s/%s", root, rel);

	CHECK(symlink(target, path) == 0);
	free(path);
}

static void make_dir(const char *rel)
{
	char *path = xasprintf("%s/%s", root, rel);

	CHECK(mkdir(path, 0755) == 0);
	free(path);
}

#define ESCAPES(rel, target) CHECK(stitch_tree_link_escapes(root, (rel), (target)))
#define STAYS(rel, target) CHECK(!stitch_tree_link_escapes(root, (rel), (target)))

static void test_plain_targets(void)
{
	STAYS("x", "y");
	STAYS("a/x", "../y");
	STAYS("a/x", "b/../../y");
	STAYS("a/b/x", "./../../y/./z");
	STAYS(".", "a/b");
	ESCAPES("x", "../y");
	ESCAPES("a/x", "../../y");
	ESCAPES("a/x", "b/../../../y");
	ESCAPES("x", "/etc/passwd");
	ESCAPES("a/x", "..//../y");
}

/* Links met on the way are followed as the kernel would. */
static void test_through_links(void)
{
	STAYS("a/x", "self/../y"); /* a/self -> . */
	STAYS("a/x", "up/y"); /* a/up -> .. */
	ESCAPES("x", "a/up/../y");
	ESCAPES("a/b/x", "../self/../../y");
	ESCAPES("x", "out/y"); /* out -> /etc */
	ESCAPES("a/x", "loop1/z"); /* a/loop1 -> loop2 -> loop1 */
}

int main(void)
{
	if (!mkdtemp(root)) {
		printf("not ok - cannot make a temporary directory\n");
		return 1;
	}
	make_dir("a");
	make_dir("a/b");
	make_link(".", "a/self");
	make_link("..", "a/up");
	make_link("/etc", "out");
	make_link("loop2", "a/loop1");
	make_link("loop1", "a/loop2");
	RUN(test_plain_targets);
	RUN(test_through_links);
	stitch_rm_rf(root);
	return test_summary();
}
