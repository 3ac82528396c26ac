/*
 * Unit tests of "did you mean": the edit distance (insertions, deletions,
 * substitutions and adjacent swaps), the length-relative threshold, and
 * the suggestion of a package name from a loaded index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suggest.h"
#include "test.h"
#include "util.h"

static void test_distance(void)
{
	CHECK_INT(stitch_edit_distance("", ""), 0);
	CHECK_INT(stitch_edit_distance("tcp", "tcp"), 0);
	CHECK_INT(stitch_edit_distance("", "tcp"), 3);
	CHECK_INT(stitch_edit_distance("tcp", ""), 3);
	/* One swap of neighbours costs 1, not 2 as in plain Levenshtein. */
	CHECK_INT(stitch_edit_distance("tpc", "tcp"), 1);
	CHECK_INT(stitch_edit_distance("instal", "install"), 1);
	CHECK_INT(stitch_edit_distance("isntall", "install"), 1);
	CHECK_INT(stitch_edit_distance("kitten", "sitting"), 3);
	CHECK_INT(stitch_edit_distance("http", "htp"), 1);
	CHECK_INT(stitch_edit_distance("ipv4", "ipv6"), 1);
	/* Optimal string alignment: a swapped pair is not edited again. */
	CHECK_INT(stitch_edit_distance("ca", "abc"), 3);
	/* Symmetric. */
	CHECK_INT(stitch_edit_distance("sitting", "kitten"), 3);
	CHECK_INT(stitch_edit_distance("abc", "ca"), 3);
}

static const char *suggest(const char *word, const char *const *cands)
{
	struct stitch_suggest s;

	stitch_suggest_init(&s, word);
	for (size_t i = 0; cands[i]; i++)
		stitch_suggest_consider(&s, cands[i]);
	return s.best;
}

static void test_threshold(void)
{
	static const char *const cmds[] = {"build", "install", "remove",  "search", "show",
	                                   "solve", "source",  "upgrade", NULL};
	static const char *const pkgs[] = {"arp", "ethernet", "http", "ipv4", "tcp", NULL};

	CHECK_STR(suggest("instal", cmds), "install");
	CHECK_STR(suggest("isntall", cmds), "install");
	CHECK_STR(suggest("upgarde", cmds), "upgrade");
	CHECK_STR(suggest("tpc", pkgs), "tcp");
	CHECK_STR(suggest("htp", pkgs), "http");
	CHECK_STR(suggest("TCP", pkgs), "tcp");
	CHECK_STR(suggest("etherent", pkgs), "ethernet");
	/* Short words allow one edit: "udp" is two from "tcp". */
	CHECK(suggest("xyz", pkgs) == NULL);
	CHECK(suggest("udp", pkgs) == NULL);
	CHECK(suggest("frobnicate", cmds) == NULL);
	/* Two edits on six bytes are allowed, three are not. */
	CHECK_STR(suggest("remvoe", cmds), "remove");
	CHECK(suggest("rmv", cmds) == NULL);
	CHECK(suggest("zzzzzz", cmds) == NULL);
	/* The closest wins over the first close one, and ties keep the first. */
	CHECK_STR(suggest("shov", cmds), "show");
	CHECK_STR(suggest("solce", cmds), "solve");
	/* The word itself is never suggested. */
	CHECK(suggest("tcp", pkgs) == NULL);
}

static char tmpdir[] = "/tmp/stitch-test-suggest.XXXXXX";

static void test_index(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_index *idx = NULL;
	const struct stitch_pkg *p = NULL;
	char *doc = xasprintf("%s/r.json", tmpdir);
	struct stitch_repo_spec spec = {.name = "r", .location = doc, .priority = 1};
	FILE *f = fopen(doc, "w");

	CHECK(f != NULL);
	if (!f)
		goto out;
	fputs("{\"format\": 1, \"name\": \"r\", \"packages\": {"
	      "\"tcp\": {\"name\": \"tcp\", \"versions\": {}},"
	      "\"http\": {\"name\": \"http\", \"versions\": {}}}}",
	      f);
	fclose(f);
	CHECK_INT(stitch_index_open(&idx, &spec, 1, NULL, &err), 0);
	if (!idx)
		goto out;
	CHECK_STR(stitch_index_suggest(idx, "tpc"), "tcp");
	CHECK(stitch_index_suggest(idx, "zlib") == NULL);
	CHECK_INT(stitch_index_need(idx, "tcp", &p, &err), 0);
	CHECK(p && strcmp(p->name, "tcp") == 0);
	CHECK_INT(stitch_index_need(idx, "tpc", &p, &err), STITCH_E_NOTFOUND);
	CHECK(p == NULL);
	CHECK_STR(err.msg, "no package 'tpc' in the repositories in use");
	CHECK_STR(err.cause, "hint: did you mean 'tcp'?");
	stitch_err_clear(&err);
	CHECK_INT(stitch_index_need(idx, "zlib", &p, &err), STITCH_E_NOTFOUND);
	CHECK_STR(err.cause, "");
	stitch_index_free(idx);
out:
	unlink(doc);
	free(doc);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_distance);
	RUN(test_threshold);
	RUN(test_index);
	rmdir(tmpdir);
	return test_summary();
}
