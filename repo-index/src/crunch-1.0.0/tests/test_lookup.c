/*
 * Compiled with crunch's output for a test tree ("site") and an empty
 * directory ("empty"): checks the table against the files on disk and
 * crunch_lookup.  Usage: test_lookup DIR COUNT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crunch.h>

extern const struct crunch_file site_files[];
extern const size_t site_count;
extern const struct crunch_file empty_files[];
extern const size_t empty_count;

static int checks, failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		checks++;                                                                        \
		if (!(cond)) {                                                                   \
			failures++;                                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

/* The file at dir + path, whole; NULL when unreadable. */
static unsigned char *slurp(const char *dir, const char *path, size_t *len)
{
	char full[4096];
	snprintf(full, sizeof full, "%s%s", dir, path);
	FILE *f = fopen(full, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, n = 0, k;
	unsigned char *buf = malloc(cap);
	while (buf != NULL && (k = fread(buf + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	*len = n;
	return buf;
}

static const char *name_of(const struct crunch_file *f)
{
	return f ? f->path : "(none)";
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *dir = argv[1];
	CHECK(site_count == strtoul(argv[2], NULL, 10));
	for (size_t i = 0; i < site_count; i++) {
		const struct crunch_file *f = &site_files[i];
		CHECK(f->path[0] == '/');
		if (i > 0)
			CHECK(strcmp(site_files[i - 1].path, f->path) < 0);
		size_t len = 0;
		unsigned char *disk = slurp(dir, f->path, &len);
		CHECK(disk != NULL && len == f->size && memcmp(disk, f->data, len) == 0);
		if (disk == NULL || len != f->size || memcmp(disk, f->data, len) != 0)
			fprintf(stderr, "  file %s differs\n", f->path);
		free(disk);
		CHECK(crunch_lookup(site_files, site_count, f->path) == f);
	}

	static const char *const cases[][2] = {
	    {"/", "/index.html"},
	    {"", "/index.html"},
	    {"/sub/", "/sub/index.html"},
	    {"/sub", NULL},
	    {"/sub/deeper/", NULL},
	    {"/index.htm", NULL},
	    {"/index.html/", NULL},
	    {"/index.html.", NULL},
	    {"/a", NULL},
	    {"/a.txt", "/a.txt"},
	    {"/a/x", "/a/x"},
	    {"/linkdir/index.html", NULL},
	    {"/link.html", "/link.html"},
	    {"/fifo", NULL},
	    {"/~", NULL},
	    {"/\x7f", NULL},
	    {"index.html", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct crunch_file *f = crunch_lookup(site_files, site_count, cases[i][0]);
		const char *want = cases[i][1];
		int good = want ? f != NULL && strcmp(f->path, want) == 0 : f == NULL;
		CHECK(good);
		if (!good)
			fprintf(stderr, "  lookup \"%s\": %s\n", cases[i][0], name_of(f));
	}
	const struct crunch_file *big = crunch_lookup(site_files, site_count, "/big.bin");
	CHECK(big != NULL && big->size == 1048576);
	const struct crunch_file *bytes =
	    crunch_lookup(site_files, site_count, "/sub/deeper/bytes.bin");
	CHECK(bytes != NULL && bytes->size == 256);
	for (size_t i = 0; bytes != NULL && i < 256; i++)
		CHECK(bytes->data[i] == i);
	const struct crunch_file *e = crunch_lookup(site_files, site_count, "/empty");
	CHECK(e != NULL && e->size == 0);

	CHECK(empty_count == 0);
	CHECK(crunch_lookup(empty_files, empty_count, "/") == NULL);
	CHECK(crunch_lookup(NULL, 0, "/x") == NULL);

	printf("test_lookup: %d checks, %d failed\n", checks, failures);
	return failures != 0;
}
