/* Loading libcurl and libarchive on first use (dl.h). */
#define STITCH_DL_IMPL
#include "dl.h"

#include <dlfcn.h>

const struct stitch_curl_api *stitch_curl_loaded;
const struct stitch_archive_api *stitch_archive_loaded;

static void *open_first(const char *const *names, struct stitch_err *err)
{
	void *h = NULL;

	for (size_t i = 0; names[i] && !h; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		stitch_error(err, STITCH_E_CONFIG, "cannot load %s", names[0]);
		stitch_error_cause(err, "%s", why ? why : "not found");
	}
	return h;
}

static int sym(void *h, const char *lib, const char *name, void **out, struct stitch_err *err)
{
	if ((*out = dlsym(h, name)) != NULL)
		return 0;
	return stitch_error(err, STITCH_E_CONFIG, "cannot load %s: it has no function %s", lib,
	                    name);
}

int stitch_dl_load_curl(struct stitch_err *err)
{
	static const char *const names[] = {"libcurl.so.4", "libcurl.so", NULL};
	static struct stitch_curl_api api;
	void *h;

	if (stitch_curl_loaded)
		return 0;
	if (!(h = open_first(names, err)))
		return STITCH_E_CONFIG;
#define LOAD(f)                                                \
	if (sym(h, names[0], #f, (void **)&api.f, err) != 0) { \
		dlclose(h);                                    \
		return STITCH_E_CONFIG;                        \
	}
	STITCH_CURL_FUNCTIONS(LOAD)
#undef LOAD
	stitch_curl_loaded = &api;
	return 0;
}

int stitch_dl_load_archive(struct stitch_err *err)
{
	static const char *const names[] = {"libarchive.so.13", "libarchive.so", NULL};
	static struct stitch_archive_api api;
	void *h;

	if (stitch_archive_loaded)
		return 0;
	if (!(h = open_first(names, err)))
		return STITCH_E_CONFIG;
#define LOAD(f)                                                \
	if (sym(h, names[0], #f, (void **)&api.f, err) != 0) { \
		dlclose(h);                                    \
		return STITCH_E_CONFIG;                        \
	}
	STITCH_ARCHIVE_FUNCTIONS(LOAD)
#undef LOAD
	stitch_archive_loaded = &api;
	return 0;
}
