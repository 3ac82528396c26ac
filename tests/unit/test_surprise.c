/*
 * Surprising changes (src/surprise.c): which downgrades and removals of
 * packages installed by name a command did not ask for, on hand-made
 * installed packages and plans.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "surprise.h"
#include "test.h"

static struct stitch_installed inst(const char *name, const char *version, bool requested)
{
	struct stitch_installed in = {0};

	in.name = (char *)name;
	in.version = (char *)version;
	in.requested = requested;
	return in;
}

static void test_downgrade_of_requested(void)
{
	struct stitch_installed http = inst("http", "1.1.0", true);

	CHECK(stitch_surprise_is(&http, "1.0.0", NULL));
	CHECK(stitch_surprise_is(&http, NULL, NULL)); /* removed */
	CHECK(!stitch_surprise_is(&http, "1.1.0", NULL));
	CHECK(!stitch_surprise_is(&http, "1.2.0", NULL));
}

static void test_dependency_never(void)
{
	struct stitch_installed tcp = inst("tcp", "1.1.0", false);

	CHECK(!stitch_surprise_is(&tcp, "1.0.0", NULL));
	CHECK(!stitch_surprise_is(&tcp, NULL, NULL));
}

static void test_forced_by_the_command(void)
{
	struct stitch_installed http = inst("http", "1.1.0", true);
	const char *own[] = {"tcp", "http {< 1.1}"};
	const char *bare[] = {"http", "tcp {< 1.1}"};
	const char *alt[] = {"https | http {= 1.0.0}"};
	const char *broken[] = {"http {<"};
	const char *names[] = {"http"};
	struct stitch_solve_pin pin = {"http", "1.0.0", NULL};
	struct stitch_solve_pin same = {"http", "1.1.0", NULL};

	/* Its own requirement excludes the installed version: asked for. */
	CHECK(
	    !stitch_surprise_is(&http, "1.0.0", &(struct stitch_asked){.reqs = own, .n_reqs = 2}));
	/* Named, but 1.1.0 meets "http": the downgrade comes from elsewhere. */
	CHECK(
	    stitch_surprise_is(&http, "1.0.0", &(struct stitch_asked){.reqs = bare, .n_reqs = 2}));
	CHECK(
	    !stitch_surprise_is(&http, "1.0.0", &(struct stitch_asked){.reqs = alt, .n_reqs = 1}));
	CHECK(stitch_surprise_is(&http, "1.0.0",
	                         &(struct stitch_asked){.reqs = broken, .n_reqs = 1}));
	CHECK(
	    !stitch_surprise_is(&http, "1.0.0", &(struct stitch_asked){.pins = &pin, .n_pins = 1}));
	CHECK(
	    stitch_surprise_is(&http, "1.0.0", &(struct stitch_asked){.pins = &same, .n_pins = 1}));
	CHECK(
	    !stitch_surprise_is(&http, NULL, &(struct stitch_asked){.names = names, .n_names = 1}));
}

/* A plan of four items by hand: what stitch_surprise_plan reads. */
static void test_plan(void)
{
	struct stitch_installed in[4] = {inst("a", "2.0.0", true), inst("b", "1.0.0", true),
	                                 inst("c", "1.0.0", true), inst("d", "3.0.0", false)};
	struct stitch_pin pin = {"c", "0.9.0", "/src/c", NULL, 0};
	struct stitch_plan_item items[4] = {{0}};
	size_t order[4] = {3, 2, 1, 0};
	struct stitch_plan p = {.items = items, .n = 4, .order = order};
	struct stitch_event *ev;
	size_t n;

	for (int i = 0; i < 4; i++) {
		items[i].name = in[i].name;
		items[i].inst = &in[i];
		items[i].old_version = in[i].version;
	}
	/* a: downgraded; b: removed as it needs d; c: pinned lower; d: a dependency down. */
	items[0].version = "1.0.0";
	items[0].change = STITCH_CHANGE_DOWNGRADE;
	items[0].action = STITCH_ACTION_BUILD;
	items[0].cause = (struct stitch_cause){STITCH_CAUSE_VERSION, "2.0.0", 0, NULL};
	items[1].version = "1.0.0";
	items[1].change = STITCH_CHANGE_REMOVE;
	items[1].action = STITCH_ACTION_REMOVE;
	items[1].cause = (struct stitch_cause){STITCH_CAUSE_NEEDS_REMOVED, "d", 0, NULL};
	items[2].version = "0.9.0";
	items[2].change = STITCH_CHANGE_DOWNGRADE;
	items[2].action = STITCH_ACTION_BUILD;
	items[2].pin = &pin;
	items[3].version = "2.0.0";
	items[3].change = STITCH_CHANGE_DOWNGRADE;
	items[3].action = STITCH_ACTION_BUILD;

	n = stitch_surprise_plan(&p, NULL, &ev);
	CHECK_INT(n, 2);
	if (n == 2) {
		/* In the plan's order: b before a. */
		CHECK_STR(ev[0].name, "b");
		CHECK_INT(ev[0].action, STITCH_ACTION_REMOVE);
		CHECK_STR(ev[0].cause.subject, "d");
		CHECK_STR(ev[1].name, "a");
		CHECK_STR(ev[1].old_version, "2.0.0");
		CHECK_STR(ev[1].version, "1.0.0");
		CHECK_INT(ev[1].kind, STITCH_EV_PLAN);
	}
	free(ev);

	/* Removing what stitch remove names is asked for. */
	items[1].cause = (struct stitch_cause){STITCH_CAUSE_REQUESTED, NULL, 0, NULL};
	items[0].change = STITCH_CHANGE_UPGRADE;
	items[0].version = "3.0.0";
	n = stitch_surprise_plan(&p, NULL, &ev);
	CHECK_INT(n, 0);
	CHECK(ev == NULL);
}

int main(void)
{
	RUN(test_downgrade_of_requested);
	RUN(test_dependency_never);
	RUN(test_forced_by_the_command);
	RUN(test_plan);
	return test_summary();
}
