/* Loading libcurl and libarchive on first use (dl.h). */
#define STITCH_DL_IMPL
#include "dl.h"

#include <dlfcn.h>

const struct stitch_curl_api *stitch_curl_loaded;
const struct stitch_archive_api *stitch_archive_loaded;

static struct stitch_curl_api curl_api;
static struct stitch_archive_api archive_api;

#define NAME(f) #f,
#define CURL_SLOT(f) (void **)&curl_api.f,
#define ARCHIVE_SLOT(f) (void **)&archive_api.f,

/*
 * Open the first of libs that loads and fill slots[i] with its function
 * fns[i]; 0 or STITCH_E_CONFIG.  The slots are the api struct's members,
 * written through void ** as dlsym's manual does.
 */
static int load(const char *const *libs, const char *const *fns, void **const *slots, size_t n,
                struct stitch_err *err)
{
	void *h = NULL;

	for (size_t i = 0; libs[i] && !h; i++)
		h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		stitch_error(err, STITCH_E_CONFIG, "cannot load %s", libs[0]);
		return stitch_error_cause(err, "%s", why ? why : "not found");
	}
	for (size_t i = 0; i < n; i++) {
		if (!(*slots[i] = dlsym(h, fns[i]))) {
			dlclose(h);
			return stitch_error(err, STITCH_E_CONFIG,
			                    "cannot load %s: it has no function %s", libs[0],
			                    fns[i]);
		}
	}
	return 0;
}

int stitch_dl_load_curl(struct stitch_err *err)
{
	static const char *const libs[] = {"libcurl.so.4", "libcurl.so", NULL};
	static const char *const fns[] = {STITCH_CURL_FUNCTIONS(NAME)};
	static void **const slots[] = {STITCH_CURL_FUNCTIONS(CURL_SLOT)};
	int rc = 0;

	if (!stitch_curl_loaded && !(rc = load(libs, fns, slots, sizeof(fns) / sizeof(*fns), err)))
		stitch_curl_loaded = &curl_api;
	return rc;
}

int stitch_dl_load_archive(struct stitch_err *err)
{
	static const char *const libs[] = {"libarchive.so.13", "libarchive.so", NULL};
	static const char *const fns[] = {STITCH_ARCHIVE_FUNCTIONS(NAME)};
	static void **const slots[] = {STITCH_ARCHIVE_FUNCTIONS(ARCHIVE_SLOT)};
	int rc = 0;

	if (!stitch_archive_loaded &&
	    !(rc = load(libs, fns, slots, sizeof(fns) / sizeof(*fns), err)))
		stitch_archive_loaded = &archive_api;
	return rc;
}
