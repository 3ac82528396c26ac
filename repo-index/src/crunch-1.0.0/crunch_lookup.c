/* The runtime half of crunch: binary search over the generated table. */
#include <string.h>

#include "crunch.h"

/* strcmp of the concatenation a + suffix against b, without building it. */
static int cmp_joined(const char *a, const char *suffix, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;
	for (; *p != '\0'; p++, q++)
		if (*p != *q)
			return *p - *q;
	for (p = (const unsigned char *)suffix; *p != '\0'; p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0 - *q;
}

const struct crunch_file *crunch_lookup(const struct crunch_file *files, size_t n, const char *path)
{
	size_t len = strlen(path);
	const char *suffix = len == 0 ? "/index.html" : path[len - 1] == '/' ? "index.html" : "";
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_joined(path, suffix, files[mid].path);
		if (c == 0)
			return &files[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
