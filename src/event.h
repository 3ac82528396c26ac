/*
 * What an operation on a switch reports while it runs, as typed values:
 * a kind, the package's action and change, a typed cause, and a payload
 * per kind.  The library never turns these into words; cmd/events.c maps
 * each enum to the words of the text output and of --json in one table
 * (the vocabulary is share/doc/events.md).
 */
#ifndef STITCH_EVENT_H
#define STITCH_EVENT_H

#include "error.h"
#include "plan.h"

enum stitch_event_kind {
	STITCH_EV_PLAN, /* one per plan item, before anything runs */
	STITCH_EV_FETCH, /* the sources were fetched: .fetch */
	STITCH_EV_START, /* a package's build starts */
	STITCH_EV_DONE, /* built, rebuilt or removed: .build */
	STITCH_EV_CACHED, /* unpacked from the artifact cache: .build */
	STITCH_EV_KEPT, /* nothing to do */
	STITCH_EV_FAILED, /* its build or commit failed: err, .build */
	STITCH_EV_SKIPPED, /* not built because a dependency failed (cause) */
	STITCH_EV_EXPLAIN, /* why the artifact cache could not serve it: .explain */
	STITCH_EV_CACHE, /* the artifact cache stored, uploaded or rejected it: .cache */
	STITCH_EV_PIN, /* where a pin stands: .pin */
	STITCH_EV_TEST_START, /* a package's own tests start */
	STITCH_EV_TESTED, /* they passed or failed (err), or it has none: .test */
	STITCH_EV_DOWNLOAD, /* a source is being downloaded: .download (throttled) */
	STITCH_EV_LINK, /* the project's image is being linked: name, .link */
	STITCH_EV__COUNT
};

enum stitch_cache_what {
	STITCH_CACHE_STORED,
	STITCH_CACHE_UPLOADED,
	STITCH_CACHE_REJECTED, /* what it served did not check out; built instead */
	STITCH_CACHE_UPLOAD_FAILED,
	STITCH_CACHE_NOT_STORED,
	STITCH_CACHE_UNREACHABLE, /* the shared cache; not asked again by this command */
	STITCH_CACHE__COUNT
};

enum stitch_pin_state {
	STITCH_PIN_UNCHANGED, /* its tree is as when pinned */
	STITCH_PIN_CHANGED,
	STITCH_PIN_UNUSED, /* the package is not part of what gets built */
	STITCH_PIN_MISSING, /* its directory is gone (stitch pin list) */
	STITCH_PIN__COUNT
};

enum stitch_test_result {
	STITCH_TEST_NONE, /* its recipe has no test commands */
	STITCH_TEST_PASSED,
	STITCH_TEST_FAILED,
	STITCH_TEST__COUNT
};

struct stitch_event {
	enum stitch_event_kind kind;
	const char *name;
	const char *version; /* the new version (the removed one for a removal) */
	const char *old_version; /* the installed one; NULL when none */
	enum stitch_action action;
	int change; /* enum stitch_change_action, or STITCH_PLAN_KEEP */
	struct stitch_cause cause;
	const struct stitch_err *err; /* FAILED; FETCH and CACHE when something failed */
	union {
		struct {
			size_t count;
			double seconds;
		} fetch;
		struct {
			double seconds;
			const char *where; /* CACHED: "local" or "remote" */
		} build;
		struct {
			const char *text; /* which input differs from the closest build */
		} explain;
		struct {
			enum stitch_cache_what what;
		} cache;
		struct {
			enum stitch_pin_state state;
			const char *path;
		} pin;
		struct {
			enum stitch_test_result result;
			double seconds;
		} test;
		struct {
			long long bytes; /* received so far (0 again after a retry) */
			long long total; /* announced by the server; -1 when unknown */
		} download;
		struct {
			const char *target;
		} link;
	};
};

typedef void (*stitch_event_fn)(void *data, const struct stitch_event *ev);

#endif
