/*
 * Unit tests of the switch state: schema and migrations, packages with
 * their files and symbols, pins and the stat cache, history, the journal,
 * transactions, the lock between processes, and a process killed in the
 * middle of a transaction.
 */
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "test.h"
#include "util.h"

static char tmpdir[] = "/tmp/stitch-test-state.XXXXXX";
static int sw_count;

/* A fresh switch directory path (not created) for each test. */
static char *new_switch(void)
{
	return xasprintf("%s/sw%d", tmpdir, ++sw_count);
}

static struct stitch_state *create(const char *sw)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_state *st = NULL;
	int rc = stitch_state_open(&st, sw, STITCH_STATE_CREATE, &err);
	if (rc)
		printf("# open '%s': %s (%s)\n", sw, err.msg, err.cause);
	CHECK_INT(rc, 0);
	return st;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Run sql on the database file directly, as another tool would. */
static void raw_sql(const char *sw, const char *sql)
{
	char *path = xasprintf("%s/.stitch/state.db", sw);
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(path);
}

static int raw_int(const char *sw, const char *sql)
{
	char *path = xasprintf("%s/.stitch/state.db", sw);
	sqlite3 *db;
	sqlite3_stmt *s;
	int v = -1;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	free(path);
	return v;
}

/* ---- fixtures ---- */

static struct stitch_file file(const char *path, const char *hash)
{
	struct stitch_file f;
	memset(&f, 0, sizeof(f));
	f.path = (char *)path;
	snprintf(f.sha256, sizeof(f.sha256), "%s", hash);
	f.mode = 0100644;
	f.size = strlen(path);
	return f;
}

static struct stitch_installed pkg(const char *name, const char *version)
{
	struct stitch_installed p;
	memset(&p, 0, sizeof(p));
	p.name = (char *)name;
	p.version = (char *)version;
	p.source_sha256 = (char *)"5ce";
	p.build_hash = (char *)"b1";
	p.interface_hash = (char *)"i1";
	p.repo = (char *)"default";
	p.requested = true;
	return p;
}

/* tcp 1.0: a header, a nested header, an archive with two symbols. */
static int put_tcp(struct stitch_state *st, const char *version, struct stitch_err *err)
{
	struct stitch_installed p = pkg("tcp", version);
	char *deps[] = {"ipv4", "platform"};
	struct stitch_file files[] = {file("include/tcp.h", "aa"), file("include/net/tcp.h", "ab"),
	                              file("lib/libtcp.a", "ac"),
	                              file("lib/pkgconfig/tcp.pc", "ad")};
	struct stitch_symbol syms[] = {{"tcp_output", NULL, "lib/libtcp.a"},
	                               {"tcp_input", NULL, "lib/libtcp.a"}};
	p.depends = deps;
	p.n_depends = 2;
	return stitch_state_put_package(st, &p, files, 4, syms, 2, err);
}

/* ---- open, create, schema ---- */

static void test_create_open_close(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_state *st = NULL;
	char *sw = new_switch();
	struct stat sb;

	CHECK_INT(stitch_state_open(&st, sw, 0, &err), STITCH_E_NOTFOUND);
	CHECK(st == NULL);
	CHECK(strstr(err.msg, "no switch at '") != NULL);
	CHECK(strstr(err.msg, sw) != NULL);

	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_CREATE | STITCH_STATE_READONLY, &err),
	          STITCH_E_USAGE);

	st = create(sw);
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK(stat(stitch_state_db_path(st), &sb) == 0);
	CHECK(strstr(stitch_state_db_path(st), "/.stitch/state.db") != NULL);
	CHECK_STR(stitch_state_switch_dir(st), sw);
	stitch_state_close(st);
	char *lock = xasprintf("%s/.stitch/lock", sw);
	CHECK(stat(lock, &sb) == 0);
	free(lock);
	CHECK_INT(raw_int(sw, "PRAGMA user_version"), STITCH_STATE_SCHEMA);
	CHECK_INT(
	    raw_int(sw, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);

	/* Opening again, with or without CREATE. */
	CHECK_INT(stitch_state_open(&st, sw, 0, &err), 0);
	stitch_state_close(st);
	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_CREATE, &err), 0);
	stitch_state_close(st);
	stitch_state_close(NULL);
	free(sw);
}

static void test_reopen_keeps_data(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_installed got;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);

	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	stitch_state_close(st);
	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_READONLY, &err), 0);
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), 0);
	CHECK_STR(got.version, "1.0.0");
	CHECK_STR(got.build_hash, "b1");
	CHECK_INT(got.n_depends, 2);
	stitch_installed_release(&got);
	stitch_state_close(st);
	free(sw);
}

/*
 * A lazy commit is a commit: visible after close and reopen, and the next
 * transaction is durable again (its effects survive a killed process).
 */
static void test_lazy_commit(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_installed got;
	struct stitch_pin pin;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_pin p = {"tcp", "1.0.0", "/src/tcp", NULL, 0};

	CHECK_INT(stitch_state_begin_lazy(st, &err), 0);
	CHECK(stitch_state_in_transaction(st));
	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	CHECK_INT(stitch_state_commit(st, &err), 0);
	CHECK_INT(stitch_state_begin_lazy(st, &err), 0);
	CHECK_INT(stitch_state_pin_put(st, &p, &err), 0);
	CHECK_INT(stitch_state_rollback(st, &err), 0);
	CHECK(!stitch_state_in_transaction(st));
	CHECK_INT(stitch_state_begin(st, &err), 0);
	CHECK_INT(stitch_state_begin_lazy(st, &err), STITCH_E_USAGE);
	CHECK_INT(stitch_state_commit(st, &err), 0);
	stitch_state_close(st);
	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_READONLY, &err), 0);
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), 0);
	CHECK_STR(got.version, "1.0.0");
	stitch_installed_release(&got);
	CHECK_INT(stitch_state_pin_get(st, "tcp", &pin, &err), STITCH_E_NOTFOUND);
	CHECK_INT(stitch_state_begin_lazy(st, &err), STITCH_E_USAGE);
	stitch_state_close(st);
	free(sw);
}

static void test_migrate_from_zero(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_state *st = NULL;
	char *sw = new_switch();
	char *dir = xasprintf("%s/.stitch", sw);

	mkdir(sw, 0755);
	mkdir(dir, 0755);
	/* An empty database at version 0, as an interrupted first open leaves it. */
	raw_sql(sw, "PRAGMA user_version = 0");
	CHECK_INT(raw_int(sw, "PRAGMA user_version"), 0);
	CHECK_INT(stitch_state_open(&st, sw, 0, &err), 0);
	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	stitch_state_close(st);
	CHECK_INT(raw_int(sw, "PRAGMA user_version"), STITCH_STATE_SCHEMA);
	CHECK_INT(raw_int(sw, "SELECT count(*) FROM files"), 4);

	/* A reader that finds an old schema gets it migrated, then reads. */
	free(sw);
	sw = new_switch();
	free(dir);
	dir = xasprintf("%s/.stitch", sw);
	mkdir(sw, 0755);
	mkdir(dir, 0755);
	raw_sql(sw, "PRAGMA user_version = 0");
	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_READONLY, &err), 0);
	struct stitch_installed *list;
	size_t n = 99;
	CHECK_INT(stitch_state_list_packages(st, &list, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_installed_free(list, n);
	stitch_state_close(st);
	CHECK_INT(raw_int(sw, "PRAGMA user_version"), STITCH_STATE_SCHEMA);
	free(dir);
	free(sw);
}

static void test_newer_schema_refused(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	char expect[128];

	stitch_state_close(st);
	raw_sql(sw, "PRAGMA user_version = 5");
	CHECK_INT(stitch_state_open(&st, sw, 0, &err), STITCH_E_STATE);
	CHECK(st == NULL);
	snprintf(expect, sizeof(expect), "newer stitch (schema 5, this stitch knows %d)",
	         STITCH_STATE_SCHEMA);
	CHECK(strstr(err.msg, expect) != NULL);
	CHECK(strstr(err.msg, "state.db") != NULL);
	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_READONLY, &err), STITCH_E_STATE);
	/* Nothing was touched. */
	CHECK_INT(raw_int(sw, "PRAGMA user_version"), 5);

	/* Another program's database is not taken for a switch state. */
	raw_sql(sw, "PRAGMA user_version = 1; PRAGMA application_id = 42");
	CHECK_INT(stitch_state_open(&st, sw, 0, &err), STITCH_E_STATE);
	CHECK(strstr(err.msg, "is not a stitch switch state") != NULL);
	free(sw);
}

/* ---- packages, files, symbols ---- */

static void test_packages(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_installed ip = pkg("ipv4", "2.0.0"), got, *list;
	struct stitch_file ipf[] = {file("include/ipv4.h", "ba"), file("lib/libipv4.a", "bb")};
	struct stitch_file *files;
	char **names;
	size_t n;

	ip.requested = false;
	ip.installed_at = 1700000000;
	CHECK_INT(stitch_state_put_package(st, &ip, ipf, 2, NULL, 0, &err), 0);
	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);

	CHECK_INT(stitch_state_get_package(st, "ipv4", &got, &err), 0);
	CHECK_STR(got.name, "ipv4");
	CHECK_STR(got.version, "2.0.0");
	CHECK_STR(got.source_sha256, "5ce");
	CHECK_STR(got.interface_hash, "i1");
	CHECK_STR(got.repo, "default");
	CHECK(!got.requested);
	CHECK(!got.pinned);
	CHECK_INT(got.installed_at, 1700000000);
	CHECK_INT(got.n_depends, 0);
	stitch_installed_release(&got);

	CHECK_INT(stitch_state_get_package(st, "nope", &got, &err), STITCH_E_NOTFOUND);
	CHECK(strstr(err.msg, "'nope' is not installed") != NULL);

	CHECK_INT(stitch_state_list_packages(st, &list, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(list[0].name, "ipv4");
		CHECK_STR(list[1].name, "tcp");
		CHECK(list[1].requested);
		CHECK(list[1].installed_at > 0);
		CHECK_INT(list[1].n_depends, 2);
		if (list[1].n_depends == 2) {
			CHECK_STR(list[1].depends[0], "ipv4");
			CHECK_STR(list[1].depends[1], "platform");
		}
	}
	stitch_installed_free(list, n);

	CHECK_INT(stitch_state_dependents_of(st, "ipv4", &names, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STR(names[0], "tcp");
	stitch_strings_free(names, n);

	CHECK_INT(stitch_state_set_requested(st, "ipv4", true, &err), 0);
	CHECK_INT(stitch_state_get_package(st, "ipv4", &got, &err), 0);
	CHECK(got.requested);
	stitch_installed_release(&got);
	CHECK_INT(stitch_state_set_requested(st, "nope", true, &err), STITCH_E_NOTFOUND);

	CHECK_INT(stitch_state_files_of(st, "tcp", &files, &n, &err), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_STR(files[0].path, "include/net/tcp.h");
		CHECK_STR(files[0].package, "tcp");
		CHECK_STR(files[0].sha256, "ab");
		CHECK_INT(files[0].mode, 0100644);
		CHECK_INT(files[0].size, strlen("include/net/tcp.h"));
		CHECK_STR(files[3].path, "lib/pkgconfig/tcp.pc");
	}
	stitch_files_free(files, n);

	/* Removing takes files, symbols and depends along. */
	CHECK_INT(stitch_state_remove_package(st, "tcp", &err), 0);
	CHECK_INT(stitch_state_remove_package(st, "tcp", &err), STITCH_E_NOTFOUND);
	CHECK_INT(stitch_state_files_of(st, "tcp", &files, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_files_free(files, n);
	CHECK_INT(stitch_state_dependents_of(st, "ipv4", &names, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_strings_free(names, n);
	stitch_state_close(st);
	CHECK_INT(raw_int(sw, "SELECT count(*) FROM symbols"), 0);
	CHECK_INT(raw_int(sw, "SELECT count(*) FROM files"), 2);
	free(sw);
}

static void test_replace_version_replaces_files(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_installed p = pkg("tcp", "1.1.0"), got;
	struct stitch_file files[] = {file("include/tcp.h", "new"), file("lib/libtcp2.a", "c2")};
	struct stitch_symbol syms[] = {{"tcp_output", NULL, "lib/libtcp2.a"}};
	struct stitch_file *out;
	struct stitch_symbol *found;
	size_t n;
	char *owner;

	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	CHECK_INT(stitch_state_put_package(st, &p, files, 2, syms, 1, &err), 0);
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), 0);
	CHECK_STR(got.version, "1.1.0");
	CHECK_INT(got.n_depends, 0);
	stitch_installed_release(&got);
	CHECK_INT(stitch_state_files_of(st, "tcp", &out, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(out[0].path, "include/tcp.h");
		CHECK_STR(out[0].sha256, "new");
		CHECK_STR(out[1].path, "lib/libtcp2.a");
	}
	stitch_files_free(out, n);
	CHECK_INT(stitch_state_owner_of(st, "lib/libtcp.a", &owner, &err), 0);
	CHECK(owner == NULL);
	CHECK_INT(stitch_state_find_symbol(st, "tcp_input", &found, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_symbols_free(found, n);
	CHECK_INT(stitch_state_find_symbol(st, "tcp_output", &found, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STR(found[0].file, "lib/libtcp2.a");
	stitch_symbols_free(found, n);
	stitch_state_close(st);
	free(sw);
}

static void test_conflicts_record_nothing(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_installed other = pkg("tcp2", "1.0.0"), got;
	struct stitch_file clash[] = {file("include/tcp2.h", "x"), file("include/tcp.h", "y")};
	struct stitch_file twice[] = {file("a/b", "x"), file("a/b", "x")};
	struct stitch_file abs[] = {file("/etc/passwd", "x")};
	struct stitch_symbol foreign[] = {{"tcp_output", NULL, "lib/libtcp.a"}};
	char *owner;

	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	CHECK_INT(stitch_state_put_package(st, &other, clash, 2, NULL, 0, &err), STITCH_E_CONFLICT);
	CHECK(strstr(err.msg, "file 'include/tcp.h' is owned by 'tcp'") != NULL);
	CHECK_INT(stitch_state_get_package(st, "tcp2", &got, &err), STITCH_E_NOTFOUND);
	CHECK_INT(stitch_state_owner_of(st, "include/tcp2.h", &owner, &err), 0);
	CHECK(owner == NULL);

	CHECK_INT(stitch_state_put_package(st, &other, twice, 2, NULL, 0, &err), STITCH_E_USAGE);
	CHECK(strstr(err.msg, "listed twice") != NULL);
	CHECK_INT(stitch_state_put_package(st, &other, abs, 1, NULL, 0, &err), STITCH_E_USAGE);
	/* A symbol must be in one of the package's own files. */
	CHECK_INT(stitch_state_put_package(st, &other, clash, 1, foreign, 1, &err), STITCH_E_USAGE);
	CHECK(strstr(err.msg, "not one of its files") != NULL);
	CHECK_INT(stitch_state_get_package(st, "tcp2", &got, &err), STITCH_E_NOTFOUND);
	/* tcp is untouched. */
	CHECK_INT(stitch_state_owner_of(st, "include/tcp.h", &owner, &err), 0);
	CHECK_STR(owner, "tcp");
	free(owner);
	stitch_state_close(st);
	free(sw);
}

static void test_owner_and_lookups(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_installed alt = pkg("tcp-alt", "0.1.0");
	struct stitch_file altf[] = {file("lib/libtcpalt.a", "x"), file("lib/tcp.h", "y"),
	                             file("include/xtcp.h", "z"), file("include/tcp.hh", "w")};
	struct stitch_symbol alts[] = {{"tcp_output", NULL, "lib/libtcpalt.a"}};
	struct stitch_symbol *syms;
	struct stitch_file *files;
	size_t n;
	char *owner;

	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	CHECK_INT(stitch_state_put_package(st, &alt, altf, 4, alts, 1, &err), 0);

	CHECK_INT(stitch_state_owner_of(st, "lib/libtcp.a", &owner, &err), 0);
	CHECK_STR(owner, "tcp");
	free(owner);
	CHECK_INT(stitch_state_owner_of(st, "lib/nothing.a", &owner, &err), 0);
	CHECK(owner == NULL);

	/* A symbol defined by two packages: both, sorted by package. */
	CHECK_INT(stitch_state_find_symbol(st, "tcp_output", &syms, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(syms[0].package, "tcp");
		CHECK_STR(syms[0].file, "lib/libtcp.a");
		CHECK_STR(syms[0].symbol, "tcp_output");
		CHECK_STR(syms[1].package, "tcp-alt");
	}
	stitch_symbols_free(syms, n);
	CHECK_INT(stitch_state_find_symbol(st, "tcp_nothing", &syms, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_symbols_free(syms, n);

	/* Headers by name: under include/ only, whole path components only. */
	CHECK_INT(stitch_state_find_file_by_name(st, "tcp.h", &files, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(files[0].path, "include/net/tcp.h");
		CHECK_STR(files[0].package, "tcp");
		CHECK_STR(files[1].path, "include/tcp.h");
	}
	stitch_files_free(files, n);
	CHECK_INT(stitch_state_find_file_by_name(st, "net/tcp.h", &files, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STR(files[0].path, "include/net/tcp.h");
	stitch_files_free(files, n);
	CHECK_INT(stitch_state_find_file_by_name(st, "et/tcp.h", &files, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_files_free(files, n);
	CHECK_INT(stitch_state_find_file_by_name(st, "%.h", &files, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_files_free(files, n);
	stitch_state_close(st);
	free(sw);
}

/* ---- pins and the stat cache ---- */

static void test_pins(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_pin p = {"tcp", "1.1.0", "/src/tcp", "t0", 1700000000}, got, *pins;
	struct stitch_pin q = {"http", NULL, "/src/http", NULL, 0};
	struct stitch_tree_stat row = {"src/tcp.c", 10, 1, 2, 3, 0100644, "h"}, *rows;
	size_t n;

	CHECK_INT(stitch_state_pin_put(st, &p, &err), 0);
	CHECK_INT(stitch_state_pin_put(st, &q, &err), 0);
	CHECK_INT(stitch_state_pin_get(st, "tcp", &got, &err), 0);
	CHECK_STR(got.version, "1.1.0");
	CHECK_STR(got.path, "/src/tcp");
	CHECK_STR(got.tree_hash, "t0");
	CHECK_INT(got.pinned_at, 1700000000);
	stitch_pin_release(&got);
	CHECK_INT(stitch_state_pin_get(st, "ipv4", &got, &err), STITCH_E_NOTFOUND);
	CHECK_INT(stitch_state_pin_list(st, &pins, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(pins[0].name, "http");
		CHECK(pins[0].version == NULL);
		CHECK(pins[0].pinned_at > 0);
		CHECK_STR(pins[1].name, "tcp");
	}
	stitch_pins_free(pins, n);

	/* Re-pinning to the same path keeps the stat cache; another path drops it. */
	CHECK_INT(stitch_state_tree_stat_put(st, "tcp", &row, 1, &err), 0);
	p.tree_hash = "t1";
	CHECK_INT(stitch_state_pin_put(st, &p, &err), 0);
	CHECK_INT(stitch_state_tree_stat_get(st, "tcp", &rows, &n, &err), 0);
	CHECK_INT(n, 1);
	stitch_tree_stats_free(rows, n);
	p.path = "/elsewhere/tcp";
	CHECK_INT(stitch_state_pin_put(st, &p, &err), 0);
	CHECK_INT(stitch_state_tree_stat_get(st, "tcp", &rows, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_tree_stats_free(rows, n);

	/* Removing a pin takes its cache along. */
	CHECK_INT(stitch_state_tree_stat_put(st, "tcp", &row, 1, &err), 0);
	CHECK_INT(stitch_state_pin_remove(st, "tcp", &err), 0);
	CHECK_INT(stitch_state_pin_remove(st, "tcp", &err), STITCH_E_NOTFOUND);
	CHECK(strstr(err.msg, "pin 'tcp' is not in switch") != NULL);
	CHECK_INT(stitch_state_tree_stat_put(st, "tcp", &row, 1, &err), STITCH_E_NOTFOUND);
	stitch_state_close(st);
	CHECK_INT(raw_int(sw, "SELECT count(*) FROM tree_stat"), 0);
	free(sw);
}

static void test_tree_stat_bulk(void)
{
	enum { N = 10000 };
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_pin p = {"tcp", "1.0.0", "/src/tcp", NULL, 0};
	struct stitch_tree_stat *rows = xcalloc(N, sizeof(*rows)), *got;
	const char *gone[] = {"src/f00000.c", "src/f09999.c", "not/there"};
	int64_t t0, t1, t2;
	size_t n;

	for (size_t i = 0; i < N; i++) {
		/* Inserted in reverse, to see that get sorts. */
		rows[i].relpath = xasprintf("src/f%05zu.c", N - 1 - i);
		rows[i].size = i;
		rows[i].mtime_ns = 1700000000123456789 + (int64_t)i;
		rows[i].ctime_ns = -(int64_t)i;
		rows[i].inode = UINT64_MAX - i;
		rows[i].mode = 0100755;
		snprintf(rows[i].sha256, sizeof(rows[i].sha256), "%064zx", i);
	}
	CHECK_INT(stitch_state_pin_put(st, &p, &err), 0);
	t0 = mono_ns();
	CHECK_INT(stitch_state_begin(st, &err), 0);
	CHECK_INT(stitch_state_tree_stat_put(st, "tcp", rows, N, &err), 0);
	CHECK_INT(stitch_state_commit(st, &err), 0);
	t1 = mono_ns();
	CHECK_INT(stitch_state_tree_stat_get(st, "tcp", &got, &n, &err), 0);
	t2 = mono_ns();
	printf("# tree_stat: %d rows put in %.1f ms, read in %.1f ms\n", N, (t1 - t0) / 1e6,
	       (t2 - t1) / 1e6);
	CHECK_INT(n, N);
	if (n == N) {
		CHECK_STR(got[0].relpath, "src/f00000.c");
		CHECK_STR(got[N - 1].relpath, "src/f09999.c");
		/* got[0] is rows[N - 1]: every field round-trips, full 64-bit range. */
		CHECK_INT(got[0].size, N - 1);
		CHECK_INT(got[0].mtime_ns, 1700000000123456789 + N - 1);
		CHECK_INT(got[0].ctime_ns, -(N - 1));
		CHECK(got[0].inode == UINT64_MAX - (N - 1));
		CHECK_INT(got[0].mode, 0100755);
		CHECK_STR(got[0].sha256, rows[N - 1].sha256);
	}
	stitch_tree_stats_free(got, n);

	/* An update of a few rows, and deletions, outside a transaction. */
	rows[1].size = 424242; /* src/f09998.c */
	CHECK_INT(stitch_state_tree_stat_put(st, "tcp", &rows[1], 1, &err), 0);
	CHECK_INT(stitch_state_tree_stat_delete(st, "tcp", gone, 3, &err), 0);
	CHECK_INT(stitch_state_tree_stat_get(st, "tcp", &got, &n, &err), 0);
	CHECK_INT(n, N - 2);
	if (n == N - 2) {
		CHECK_STR(got[0].relpath, "src/f00001.c");
		CHECK_STR(got[N - 3].relpath, "src/f09998.c");
		CHECK_INT(got[N - 3].size, 424242);
	}
	stitch_tree_stats_free(got, n);
	CHECK_INT(stitch_state_tree_stat_clear(st, "tcp", &err), 0);
	CHECK_INT(stitch_state_tree_stat_get(st, "tcp", &got, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_tree_stats_free(got, n);
	stitch_tree_stats_free(rows, N);
	stitch_state_close(st);
	free(sw);
}

/*
 * A writable connection folds a WAL over 256 KiB into the database on
 * close, so the next command does not read it all again at start; a small
 * one stays (no checkpoint, no syncs, for every command).
 */
static void test_wal_folded_on_close(void)
{
	enum { N = 3000 };
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	char *wal = xasprintf("%s/.stitch/state.db-wal", sw);
	struct stitch_state *st = create(sw);
	struct stitch_pin p = {"tcp", "1.0.0", "/src/tcp", NULL, 0};
	struct stitch_tree_stat *rows = xcalloc(N, sizeof(*rows)), *got;
	struct stat sb;
	size_t n;

	for (size_t i = 0; i < N; i++) {
		rows[i].relpath = xasprintf("src/f%05zu.c", i);
		snprintf(rows[i].sha256, sizeof(rows[i].sha256), "%064zx", i);
	}
	CHECK_INT(stitch_state_pin_put(st, &p, &err), 0);
	stitch_state_close(st);
	CHECK_INT(stat(wal, &sb), 0);
	CHECK(sb.st_size > 0 && sb.st_size <= 256 * 1024); /* small: kept */

	st = create(sw);
	CHECK_INT(stitch_state_tree_stat_put(st, "tcp", rows, N, &err), 0);
	CHECK_INT(stat(wal, &sb), 0);
	printf("# WAL before close: %lld bytes\n", (long long)sb.st_size);
	CHECK(sb.st_size > 256 * 1024);
	stitch_state_close(st);
	CHECK_INT(stat(wal, &sb), 0);
	CHECK_INT(sb.st_size, 0);

	st = create(sw); /* everything is in the database */
	CHECK_INT(stitch_state_tree_stat_get(st, "tcp", &got, &n, &err), 0);
	CHECK_INT(n, N);
	stitch_tree_stats_free(got, n);
	stitch_tree_stats_free(rows, N);
	stitch_state_close(st);
	free(wal);
	free(sw);
}

/* ---- history ---- */

static void test_history_order(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_change c1[] = {{STITCH_CHANGE_INSTALL, "platform", NULL, "1.0.0"},
	                             {STITCH_CHANGE_INSTALL, "tcp", NULL, "1.0.0"}};
	struct stitch_change c2[] = {{STITCH_CHANGE_UPGRADE, "tcp", "1.0.0", "1.1.0"}};
	struct stitch_change c3[] = {{STITCH_CHANGE_REMOVE, "tcp", "1.1.0", NULL}};
	struct stitch_history h1 = {0, 1700000000, "stitch install tcp", "installed 2", c1,
	                            2, false};
	struct stitch_history h2 = {0, 1700000000, "stitch upgrade", "upgraded 1", c2, 1, false};
	struct stitch_history h3 = {0, 0, "stitch remove tcp", "removed 1", c3, 1, false};
	struct stitch_history *list;
	int64_t id1, id2, id3;
	size_t n;

	/* Same timestamps on purpose: order is by append, not by clock. */
	CHECK_INT(stitch_state_history_append(st, &h1, &id1, &err), 0);
	CHECK_INT(stitch_state_history_append(st, &h2, &id2, &err), 0);
	CHECK_INT(stitch_state_history_append(st, &h3, &id3, &err), 0);
	CHECK(id1 < id2 && id2 < id3);
	CHECK_INT(stitch_state_history_list(st, 0, &list, &n, &err), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(list[0].id, id3);
		CHECK_STR(list[0].command, "stitch remove tcp");
		CHECK(list[0].time > 1700000000);
		CHECK_INT(list[0].n_changes, 1);
		CHECK_INT(list[0].changes[0].action, STITCH_CHANGE_REMOVE);
		CHECK_STR(list[0].changes[0].old_version, "1.1.0");
		CHECK(list[0].changes[0].new_version == NULL);
		CHECK_STR(list[1].summary, "upgraded 1");
		CHECK_INT(list[2].id, id1);
		CHECK_INT(list[2].n_changes, 2);
		if (list[2].n_changes == 2) {
			CHECK_STR(list[2].changes[0].name, "platform");
			CHECK_STR(list[2].changes[1].name, "tcp");
			CHECK(list[2].changes[1].old_version == NULL);
		}
	}
	stitch_history_free(list, n);
	CHECK_INT(stitch_state_history_list(st, 2, &list, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2)
		CHECK_INT(list[1].id, id2);
	stitch_history_free(list, n);
	CHECK_STR(stitch_change_action_name(STITCH_CHANGE_DOWNGRADE), "downgrade");
	stitch_state_close(st);
	free(sw);
}

/* Each entry keeps the packages and pins as they were when it was appended. */
static void test_history_snapshot(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_pin p = {"tcp", "1.0", "/src/tcp", "t1", 0};
	struct stitch_change c = {STITCH_CHANGE_PIN, "tcp", NULL, "1.0"};
	struct stitch_history h = {0, 0, "stitch pin add tcp", "pin", &c, 1, false};
	struct stitch_snapshot snap;
	int64_t id1, id2;

	CHECK_INT(put_tcp(st, "1.0", &err), 0);
	CHECK_INT(stitch_state_history_append(st, &h, &id1, &err), 0);
	CHECK_INT(stitch_state_pin_put(st, &p, &err), 0);
	CHECK_INT(stitch_state_remove_package(st, "tcp", &err), 0);
	CHECK_INT(stitch_state_history_append(st, &h, &id2, &err), 0);
	CHECK_INT(stitch_state_history_snapshot(st, id1, &snap, &err), 0);
	CHECK(snap.entry.snapshot);
	CHECK_INT(snap.n_pkgs, 1);
	CHECK_INT(snap.n_pins, 0);
	if (snap.n_pkgs == 1) {
		CHECK_STR(snap.pkgs[0].name, "tcp");
		CHECK_STR(snap.pkgs[0].build_hash, "b1");
		CHECK(snap.pkgs[0].requested && !snap.pkgs[0].pinned);
	}
	CHECK_INT(snap.entry.n_changes, 1);
	CHECK_STR(stitch_change_action_name(snap.entry.changes[0].action), "pin");
	stitch_snapshot_release(&snap);
	CHECK_INT(stitch_state_history_snapshot(st, id2, &snap, &err), 0);
	CHECK_INT(snap.n_pkgs, 0);
	CHECK_INT(snap.n_pins, 1);
	if (snap.n_pins == 1) {
		CHECK_STR(snap.pins[0].path, "/src/tcp");
		CHECK_STR(snap.pins[0].tree_hash, "t1");
	}
	stitch_snapshot_release(&snap);
	CHECK_INT(stitch_state_history_snapshot(st, id2 + 1, &snap, &err), STITCH_E_NOTFOUND);
	stitch_state_close(st);
	free(sw);
}

/* ---- transactions ---- */

static void test_rollback_leaves_nothing(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_pin p = {"tcp", "1.0.0", "/src/tcp", NULL, 0};
	struct stitch_history h = {0, 0, "stitch install tcp", "x", NULL, 0, false};
	struct stitch_installed other = pkg("tcp2", "1.0.0"), got;
	struct stitch_file clash[] = {file("include/tcp.h", "y")};
	struct stitch_history *hist;
	char *journal;
	size_t n;

	CHECK_INT(stitch_state_commit(st, &err), STITCH_E_USAGE);
	CHECK_INT(stitch_state_rollback(st, &err), 0);
	CHECK_INT(stitch_state_begin(st, &err), 0);
	CHECK(stitch_state_in_transaction(st));
	CHECK_INT(stitch_state_begin(st, &err), STITCH_E_USAGE);
	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	CHECK_INT(stitch_state_pin_put(st, &p, &err), 0);
	CHECK_INT(stitch_state_history_append(st, &h, NULL, &err), 0);
	CHECK_INT(stitch_state_journal_put(st, "{\"op\":\"install\"}", &err), 0);
	CHECK_INT(stitch_state_rollback(st, &err), 0);
	CHECK(!stitch_state_in_transaction(st));
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), STITCH_E_NOTFOUND);
	CHECK_INT(stitch_state_pin_get(st, "tcp", &p, &err), STITCH_E_NOTFOUND);
	CHECK_INT(stitch_state_history_list(st, 0, &hist, &n, &err), 0);
	CHECK_INT(n, 0);
	stitch_history_free(hist, n);
	CHECK_INT(stitch_state_journal_get(st, &journal, &err), 0);
	CHECK(journal == NULL);

	/* A failing call inside a transaction undoes only itself. */
	CHECK_INT(stitch_state_begin(st, &err), 0);
	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	CHECK_INT(stitch_state_put_package(st, &other, clash, 1, NULL, 0, &err), STITCH_E_CONFLICT);
	CHECK(stitch_state_in_transaction(st));
	CHECK_INT(stitch_state_commit(st, &err), 0);
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), 0);
	stitch_installed_release(&got);
	CHECK_INT(stitch_state_get_package(st, "tcp2", &got, &err), STITCH_E_NOTFOUND);
	stitch_state_close(st);

	/* Closing with a transaction open rolls it back. */
	st = create(sw);
	CHECK_INT(stitch_state_begin(st, &err), 0);
	CHECK_INT(stitch_state_remove_package(st, "tcp", &err), 0);
	stitch_state_close(st);
	st = create(sw);
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), 0);
	stitch_installed_release(&got);
	stitch_state_close(st);
	free(sw);
}

static void test_journal_survives_reopen(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	const char *op = "{\"op\":\"install\",\"moves\":[[\"staging/x\",\"lib/x\"]]}";
	char *got;

	CHECK_INT(stitch_state_journal_get(st, &got, &err), 0);
	CHECK(got == NULL);
	CHECK_INT(stitch_state_journal_clear(st, &err), 0);
	CHECK_INT(stitch_state_journal_put(st, op, &err), 0);
	stitch_state_close(st);

	st = create(sw);
	CHECK_INT(stitch_state_journal_get(st, &got, &err), 0);
	CHECK_STR(got, op);
	free(got);
	CHECK_INT(stitch_state_journal_put(st, "{}", &err), STITCH_E_EXISTS);
	CHECK(strstr(err.msg, "already pending") != NULL);
	/* Clearing in the transaction that records the result. */
	CHECK_INT(stitch_state_begin(st, &err), 0);
	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	CHECK_INT(stitch_state_journal_clear(st, &err), 0);
	CHECK_INT(stitch_state_commit(st, &err), 0);
	stitch_state_close(st);

	st = create(sw);
	CHECK_INT(stitch_state_journal_get(st, &got, &err), 0);
	CHECK(got == NULL);
	stitch_state_close(st);
	free(sw);
}

/* ---- processes ---- */

static void count_wait(void *ctx, const char *switch_dir)
{
	(void)switch_dir;
	(*(int *)ctx)++;
}

static void test_lock_waits_for_holder(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	char *stamp = xasprintf("%s/released", tmpdir);
	struct stitch_state *st = create(sw);
	int waited = 0, status, fds[2];
	struct stitch_state_opts o = {0, count_wait, &waited};
	long long released = 0;
	int64_t acquired;
	char c;
	pid_t pid;
	FILE *f;

	stitch_state_close(st);
	CHECK_INT(pipe(fds), 0);
	fflush(stdout); /* a child must not repeat buffered output */
	pid = fork();
	if (pid == 0) {
		struct timespec one = {1, 0};
		close(fds[0]);
		if (stitch_state_open(&st, sw, 0, &err) != 0)
			_exit(2);
		if (write(fds[1], "L", 1) != 1)
			_exit(3);
		nanosleep(&one, NULL);
		f = fopen(stamp, "w");
		fprintf(f, "%lld\n", (long long)mono_ns());
		fclose(f);
		stitch_state_close(st); /* releases the lock after the stamp */
		_exit(0);
	}
	close(fds[1]);
	CHECK_INT(read(fds[0], &c, 1), 1); /* the child holds the lock now */
	close(fds[0]);
	CHECK_INT(stitch_state_open_ex(&st, sw, &o, &err), 0);
	acquired = mono_ns();
	CHECK_INT(waited, 1);
	f = fopen(stamp, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK_INT(fscanf(f, "%lld", &released), 1);
		fclose(f);
	}
	CHECK(released > 0 && acquired > released);
	stitch_state_close(st);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(stamp);
	free(sw);
}

/* In a child: open with flags and exit 0 on success, 10 + code on failure. */
static int child_open(const char *sw, unsigned flags)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_state *st;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();

	if (pid == 0) {
		int rc = stitch_state_open(&st, sw, flags, &err);
		if (rc == 0)
			stitch_state_close(st);
		_exit(rc ? 10 + rc : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_readonly_opens_share(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw), *ro;
	struct stitch_installed got;
	struct stitch_pin p = {"tcp", NULL, "/src/tcp", NULL, 0};

	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	/* A writer excludes readers and writers. */
	CHECK_INT(child_open(sw, STITCH_STATE_READONLY | STITCH_STATE_NOWAIT), 10 + STITCH_E_STATE);
	CHECK_INT(child_open(sw, STITCH_STATE_NOWAIT), 10 + STITCH_E_STATE);
	stitch_state_close(st);

	CHECK_INT(stitch_state_open(&ro, sw, STITCH_STATE_READONLY, &err), 0);
	/* Readers share: a second reader in this process and one in another. */
	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_READONLY | STITCH_STATE_NOWAIT, &err), 0);
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), 0);
	stitch_installed_release(&got);
	stitch_state_close(st);
	CHECK_INT(child_open(sw, STITCH_STATE_READONLY | STITCH_STATE_NOWAIT), 0);
	/* ...and keep writers out. */
	CHECK_INT(child_open(sw, STITCH_STATE_NOWAIT), 10 + STITCH_E_STATE);
	/* A reader cannot write. */
	CHECK_INT(stitch_state_pin_put(ro, &p, &err), STITCH_E_USAGE);
	CHECK(strstr(err.msg, "read-only") != NULL);
	CHECK_INT(stitch_state_begin(ro, &err), STITCH_E_USAGE);
	CHECK_INT(stitch_state_get_package(ro, "tcp", &got, &err), 0);
	stitch_installed_release(&got);
	stitch_state_close(ro);
	CHECK_INT(child_open(sw, STITCH_STATE_NOWAIT), 0);
	free(sw);
}

static void test_killed_process_changes_nothing(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_installed got;
	struct stitch_pin pin;
	int status, fds[2];
	char c;
	pid_t pid;

	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	stitch_state_close(st);
	CHECK_INT(pipe(fds), 0);
	fflush(stdout); /* a child must not repeat buffered output */
	pid = fork();
	if (pid == 0) {
		struct stitch_pin p = {"tcp", NULL, "/src/tcp", NULL, 0};
		close(fds[0]);
		if (stitch_state_open(&st, sw, 0, &err) || stitch_state_begin(st, &err) ||
		    stitch_state_remove_package(st, "tcp", &err) || put_tcp(st, "2.0.0", &err) ||
		    stitch_state_pin_put(st, &p, &err))
			_exit(2);
		if (write(fds[1], "W", 1) != 1)
			_exit(3);
		pause(); /* killed here, with the transaction open and the lock held */
		_exit(4);
	}
	close(fds[1]);
	CHECK_INT(read(fds[0], &c, 1), 1);
	close(fds[0]);
	kill(pid, SIGKILL);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* The kernel released the lock; the state is as before. */
	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_NOWAIT, &err), 0);
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), 0);
	CHECK_STR(got.version, "1.0.0");
	stitch_installed_release(&got);
	CHECK_INT(stitch_state_pin_get(st, "tcp", &pin, &err), STITCH_E_NOTFOUND);
	stitch_state_close(st);

	/* The same with _exit: a commit made before is kept, nothing after. */
	fflush(stdout); /* a child must not repeat buffered output */
	pid = fork();
	if (pid == 0) {
		struct stitch_pin p = {"tcp", NULL, "/src/tcp", NULL, 0};
		if (stitch_state_open(&st, sw, 0, &err) || stitch_state_pin_put(st, &p, &err) ||
		    stitch_state_begin(st, &err) || stitch_state_remove_package(st, "tcp", &err))
			_exit(2);
		_exit(0);
	}
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(stitch_state_open(&st, sw, 0, &err), 0);
	CHECK_INT(stitch_state_get_package(st, "tcp", &got, &err), 0);
	stitch_installed_release(&got);
	CHECK_INT(stitch_state_pin_get(st, "tcp", &pin, &err), 0);
	stitch_pin_release(&pin);
	stitch_state_close(st);
	free(sw);
}

static void test_errors_name_database(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_history bad = {0, 0, "x", "y", NULL, 0, false};

	stitch_state_close(st);
	/* Break the schema behind stitch's back: every write to history now fails in sqlite. */
	raw_sql(sw, "DROP TABLE history_changes; DROP TABLE history");
	st = create(sw);
	CHECK_INT(stitch_state_history_append(st, &bad, NULL, &err), STITCH_E_STATE);
	CHECK(strstr(err.msg, "cannot ") == err.msg);
	CHECK(strstr(err.msg, "/.stitch/state.db'") != NULL);
	CHECK(strstr(err.cause, "no such table") != NULL);
	stitch_state_close(st);
	free(sw);
}

/* ---- where the switch is, rewritten files, the last change of a package ---- */

static void test_path_and_migration_from_one(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch(), *path = (char *)"unset";
	struct stitch_state *st = create(sw);

	CHECK_INT(stitch_state_path_get(st, &path, &err), 0);
	CHECK(path == NULL);
	CHECK_INT(stitch_state_path_set(st, "/old/_stitch", &err), 0);
	CHECK_INT(stitch_state_path_set(st, "/new/_stitch", &err), 0);
	CHECK_INT(stitch_state_path_get(st, &path, &err), 0);
	CHECK_STR(path, "/new/_stitch");
	free(path);
	stitch_state_close(st);
	/*
	 * A switch made by the stitch of schema 1 has no path (nor snapshots):
	 * it gets the table, empty.
	 */
	raw_sql(sw, "DROP TABLE switch; DROP TABLE history_packages; DROP TABLE history_pins; "
	            "ALTER TABLE history DROP COLUMN snapshot; PRAGMA user_version = 1");
	CHECK_INT(stitch_state_open(&st, sw, STITCH_STATE_READONLY, &err), 0);
	CHECK_INT(stitch_state_path_get(st, &path, &err), 0);
	CHECK(path == NULL);
	stitch_state_close(st);
	CHECK_INT(raw_int(sw, "PRAGMA user_version"), STITCH_STATE_SCHEMA);
	free(sw);
}

static void test_file_rehash(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_file *files = NULL;
	size_t n = 0;

	CHECK_INT(put_tcp(st, "1.0.0", &err), 0);
	CHECK_INT(stitch_state_file_rehash(st, "lib/pkgconfig/tcp.pc", "ff", 77, &err), 0);
	CHECK_INT(stitch_state_files_of(st, "tcp", &files, &n, &err), 0);
	CHECK_INT(n, 4);
	CHECK_STR(files[3].path, "lib/pkgconfig/tcp.pc");
	CHECK_STR(files[3].sha256, "ff");
	CHECK_INT(files[3].size, 77);
	CHECK_STR(files[0].path, "include/net/tcp.h");
	CHECK_STR(files[0].sha256, "ab");
	stitch_files_free(files, n);
	CHECK_INT(stitch_state_file_rehash(st, "lib/nothing.pc", "ff", 1, &err), STITCH_E_NOTFOUND);
	CHECK(strstr(err.msg, "lib/nothing.pc") != NULL);
	stitch_state_close(st);
	free(sw);
}

static void test_history_last(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *sw = new_switch();
	struct stitch_state *st = create(sw);
	struct stitch_change in[] = {{STITCH_CHANGE_INSTALL, "tcp", NULL, "1.0"},
	                             {STITCH_CHANGE_INSTALL, "arp", NULL, "1.0"}};
	struct stitch_change out[] = {{STITCH_CHANGE_REMOVE, "arp", "1.0", NULL}};
	struct stitch_history h1 = {0, 0, "stitch install tcp arp", "install", in, 2, false};
	struct stitch_history h2 = {0, 0, "stitch remove arp", "remove", out, 1, false};
	struct stitch_history last;

	CHECK_INT(stitch_state_history_append(st, &h1, NULL, &err), 0);
	CHECK_INT(stitch_state_history_append(st, &h2, NULL, &err), 0);
	CHECK_INT(stitch_state_history_last(st, "arp", &last, &err), 0);
	CHECK_INT(last.n_changes, 1);
	CHECK_INT(last.changes[0].action, STITCH_CHANGE_REMOVE);
	CHECK_STR(last.command, "stitch remove arp");
	stitch_history_release(&last);
	CHECK_INT(stitch_state_history_last(st, "tcp", &last, &err), 0);
	CHECK_INT(last.changes[0].action, STITCH_CHANGE_INSTALL);
	CHECK_STR(last.changes[0].new_version, "1.0");
	stitch_history_release(&last);
	CHECK_INT(stitch_state_history_last(st, "udp", &last, &err), STITCH_E_NOTFOUND);
	CHECK_INT(last.n_changes, 0);
	stitch_state_close(st);
	free(sw);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_create_open_close);
	RUN(test_reopen_keeps_data);
	RUN(test_lazy_commit);
	RUN(test_migrate_from_zero);
	RUN(test_newer_schema_refused);
	RUN(test_packages);
	RUN(test_replace_version_replaces_files);
	RUN(test_conflicts_record_nothing);
	RUN(test_owner_and_lookups);
	RUN(test_pins);
	RUN(test_tree_stat_bulk);
	RUN(test_wal_folded_on_close);
	RUN(test_history_order);
	RUN(test_history_snapshot);
	RUN(test_rollback_leaves_nothing);
	RUN(test_journal_survives_reopen);
	RUN(test_lock_waits_for_holder);
	RUN(test_readonly_opens_share);
	RUN(test_killed_process_changes_nothing);
	RUN(test_errors_name_database);
	RUN(test_path_and_migration_from_one);
	RUN(test_file_rehash);
	RUN(test_history_last);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return test_summary();
}
