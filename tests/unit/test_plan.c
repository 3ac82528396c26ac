/*
 * The plan as a value (src/plan.c), with no switch, no files and a cache
 * that is a function: what each package gets, and why.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "plan.h"
#include "test.h"

/* a <- b <- c, by hand: the plan reads names, versions, depends, recipes. */
static struct stitch_pkg pkgs[3];
static struct stitch_version vers[3];
static const char *dep_b[] = {"a"}, *dep_c[] = {"b"};
static const char *sums[3] = {"1111111111111111111111111111111111111111111111111111111111111111",
                              "2222222222222222222222222222222222222222222222222222222222222222",
                              "3333333333333333333333333333333333333333333333333333333333333333"};

static void make_index(void)
{
	const char *names[] = {"a", "b", "c"};

	for (int i = 0; i < 3; i++) {
		pkgs[i] =
		    (struct stitch_pkg){.name = names[i], .n_versions = 1, .versions = &vers[i]};
		vers[i] = (struct stitch_version){
		    .version = "1.0.0", .pkg = &pkgs[i], .url = "x", .sha256 = sums[i]};
	}
	vers[1].n_depends = 1;
	vers[1].depends = dep_b;
	vers[2].n_depends = 1;
	vers[2].depends = dep_c;
}

static bool cache_all(void *data, const char *build_hash, char iface[65])
{
	(void)data;
	snprintf(iface, 65, "iface-of-%.40s", build_hash);
	return true;
}

static struct stitch_plan_in input(const struct stitch_version *const *chosen,
                                   const struct stitch_installed *inst, size_t n_inst)
{
	struct stitch_plan_in in = {0};

	in.chosen = chosen;
	in.n_chosen = 3;
	in.installed = inst;
	in.n_installed = n_inst;
	in.cc_id = "cc 12";
	in.target = "unix";
	return in;
}

static void test_fresh_builds_in_order(void)
{
	const struct stitch_version *chosen[] = {&vers[2], &vers[0], &vers[1]};
	struct stitch_plan_in in = input(chosen, NULL, 0);
	struct stitch_plan p;
	struct stitch_err err = STITCH_ERR_INIT;

	CHECK_INT(stitch_plan_make(&in, &p, &err), 0);
	CHECK_INT((int)p.n, 3);
	for (size_t k = 0; k < p.n; k++) {
		const struct stitch_plan_item *it = &p.items[p.order[k]];
		CHECK_STR(it->name, k == 0 ? "a" : k == 1 ? "b" : "c");
		CHECK_INT(it->action, STITCH_ACTION_BUILD);
		CHECK_INT(it->cause.kind, STITCH_CAUSE_NEW);
		CHECK_INT(it->change, STITCH_CHANGE_INSTALL);
		CHECK(it->fetch);
	}
	stitch_plan_release(&p);
}

static void test_cache_serves_the_chain(void)
{
	const struct stitch_version *chosen[] = {&vers[0], &vers[1], &vers[2]};
	struct stitch_plan_in in = input(chosen, NULL, 0);
	struct stitch_plan p;
	struct stitch_err err = STITCH_ERR_INIT;

	in.cached = cache_all;
	CHECK_INT(stitch_plan_make(&in, &p, &err), 0);
	/* b's build hash needs a's interface, which the cache told: all known ahead. */
	for (size_t i = 0; i < p.n; i++) {
		CHECK_INT(p.items[i].action, STITCH_ACTION_CACHED);
		CHECK(!p.items[i].fetch);
		CHECK(p.items[i].build_hash[0] != '\0');
	}
	stitch_plan_release(&p);
}

/* Installed as a first plan would have built them, interfaces "ia", "ib", "ic". */
static void installed_from(struct stitch_installed inst[3], char hashes[3][65])
{
	const struct stitch_version *chosen[] = {&vers[0], &vers[1], &vers[2]};
	struct stitch_plan_in in = input(chosen, NULL, 0);
	const char *ifaces[] = {"ia", "ib", "ic"};
	struct stitch_plan p;
	struct stitch_err err = STITCH_ERR_INIT;

	CHECK_INT(stitch_plan_make(&in, &p, &err), 0);
	for (size_t k = 0; k < p.n; k++) {
		size_t i = p.order[k];
		stitch_plan_decide(&p, i);
		memcpy(hashes[i], p.items[i].build_hash, 65);
		snprintf(p.items[i].interface_hash, 65, "%s", ifaces[i]);
	}
	for (int i = 0; i < 3; i++)
		inst[i] = (struct stitch_installed){.name = (char *)pkgs[i].name,
		                                    .version = "1.0.0",
		                                    .source_sha256 = (char *)sums[i],
		                                    .build_hash = hashes[i],
		                                    .interface_hash = (char *)ifaces[i]};
	stitch_plan_release(&p);
}

/* A plan of a, b and c over a switch where a first plan installed them. */
static int plan_over_installed(struct stitch_plan *p)
{
	static const struct stitch_version *chosen[] = {&vers[0], &vers[1], &vers[2]};
	static struct stitch_installed inst[3];
	static char hashes[3][65];
	const char *now = vers[0].sha256;
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_plan_in in;

	vers[0].sha256 = sums[0]; /* installed from the original source */
	installed_from(inst, hashes);
	vers[0].sha256 = now;
	in = input(chosen, inst, 3);
	return stitch_plan_make(&in, p, &err);
}

static void test_installed_is_kept(void)
{
	struct stitch_plan p;

	CHECK_INT(plan_over_installed(&p), 0);
	for (size_t i = 0; i < p.n; i++) {
		CHECK_INT(p.items[i].action, STITCH_ACTION_KEEP);
		CHECK_INT(p.items[i].cause.kind, STITCH_CAUSE_UP_TO_DATE);
		CHECK_INT(p.items[i].change, STITCH_PLAN_KEEP);
	}
	stitch_plan_release(&p);
}

static void test_new_source_waits_dependents(void)
{
	struct stitch_plan p;

	vers[0].sha256 = "4444444444444444444444444444444444444444444444444444444444444444";
	CHECK_INT(plan_over_installed(&p), 0);
	CHECK_INT(p.items[0].action, STITCH_ACTION_REBUILD);
	CHECK_INT(p.items[0].cause.kind, STITCH_CAUSE_SOURCE_CHANGED);
	CHECK_INT(p.items[1].action, STITCH_ACTION_KEEP);
	CHECK_INT(p.items[1].cause.kind, STITCH_CAUSE_DEP_PENDING);
	CHECK_STR(p.items[1].cause.subject, "a");
	CHECK_INT(p.items[2].cause.kind, STITCH_CAUSE_DEP_PENDING);
	CHECK_STR(p.items[2].cause.subject, "b");
	/* a rebuilt with its old interface: b and c are kept for good. */
	snprintf(p.items[0].interface_hash, 65, "ia");
	stitch_plan_decide(&p, 1);
	CHECK_INT(p.items[1].action, STITCH_ACTION_KEEP);
	CHECK_INT(p.items[1].cause.kind, STITCH_CAUSE_DEP_UNCHANGED);
	/* ... and with a new one: b is rebuilt, naming a. */
	snprintf(p.items[0].interface_hash, 65, "ia2");
	stitch_plan_decide(&p, 1);
	CHECK_INT(p.items[1].action, STITCH_ACTION_REBUILD);
	CHECK_INT(p.items[1].cause.kind, STITCH_CAUSE_DEP_CHANGED);
	CHECK_STR(p.items[1].cause.subject, "a");
	vers[0].sha256 = sums[0];
	stitch_plan_release(&p);
}

static void test_cycle_named(void)
{
	const struct stitch_version *chosen[] = {&vers[0], &vers[1], &vers[2]};
	struct stitch_plan_in in = input(chosen, NULL, 0);
	static const char *dep_a[] = {"c"};
	struct stitch_plan p;
	struct stitch_err err = STITCH_ERR_INIT;

	vers[0].n_depends = 1;
	vers[0].depends = dep_a;
	CHECK_INT(stitch_plan_make(&in, &p, &err), STITCH_E_CONFLICT);
	CHECK_STR(err.msg, "dependency cycle: a -> c -> b -> a");
	vers[0].n_depends = 0;
	vers[0].depends = NULL;
}

int main(void)
{
	make_index();
	RUN(test_fresh_builds_in_order);
	RUN(test_cache_serves_the_chain);
	RUN(test_installed_is_kept);
	RUN(test_new_source_waits_dependents);
	RUN(test_cycle_named);
	return test_summary();
}
