/* Loading libcurl and libarchive on first use (dl.h). */
#define STITCH_DL_IMPL
#include "dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

const struct stitch_curl_api *stitch_curl_loaded;
const struct stitch_archive_api *stitch_archive_loaded;

static void *open_first(const char *const *names)
{
	void *h = NULL;

	for (size_t i = 0; names[i] && !h; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "stitch: cannot load %s: %s\n", names[0], dlerror());
		exit(127);
	}
	return h;
}

static void *sym(void *h, const char *lib, const char *name)
{
	void *p = dlsym(h, name);

	if (!p) {
		fprintf(stderr, "stitch: %s has no function %s\n", lib, name);
		exit(127);
	}
	return p;
}

const struct stitch_curl_api *stitch_curl_load(void)
{
	static const char *const names[] = {"libcurl.so.4", "libcurl.so", NULL};
	static struct stitch_curl_api api;
	void *h;

	if (stitch_curl_loaded)
		return stitch_curl_loaded;
	h = open_first(names);
#define LOAD(f) *(void **)&api.f = sym(h, names[0], #f);
	STITCH_CURL_FUNCTIONS(LOAD)
#undef LOAD
	stitch_curl_loaded = &api;
	return &api;
}

const struct stitch_archive_api *stitch_archive_load(void)
{
	static const char *const names[] = {"libarchive.so.13", "libarchive.so", NULL};
	static struct stitch_archive_api api;
	void *h;

	if (stitch_archive_loaded)
		return stitch_archive_loaded;
	h = open_first(names);
#define LOAD(f) *(void **)&api.f = sym(h, names[0], #f);
	STITCH_ARCHIVE_FUNCTIONS(LOAD)
#undef LOAD
	stitch_archive_loaded = &api;
	return &api;
}
