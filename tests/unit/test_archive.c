/*
 * Unit tests of the archive module: unpacking every supported format with
 * and without a top directory to strip, refusing every escape before
 * anything is written, cleaning up after a failure, and packing trees into
 * byte-identical archives that unpack to the same tree.
 */
#include <dirent.h>
#include "dl.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "test.h"
#include "util.h"

static char tmpdir[] = "/tmp/stitch-test-archive.XXXXXX";

static char *tpath(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_rf(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static int is_empty_dir(const char *p)
{
	DIR *d = opendir(p);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n == 0;
}

static char *slurp(const char *p, size_t *len)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char chunk[4096];
	FILE *f = fopen(p, "rb");
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		stitch_buf_add(&b, chunk, n);
	fclose(f);
	return stitch_buf_detach(&b, len);
}

static void spew(const char *p, const char *text, unsigned mode)
{
	FILE *f = fopen(p, "wb");

	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static unsigned mode_of(const char *p)
{
	struct stat st;
	return lstat(p, &st) ? 0 : st.st_mode & 07777;
}

/* ---- building test archives with libarchive's writer ---- */

/* kind: f file, d dir, l symlink, h hard link, c char device, b block device, p fifo */
struct tent {
	char kind;
	const char *path;
	const char *data; /* file content, or link target */
	unsigned mode; /* 0: 0644 for files, 0755 for directories */
};

static char *make_archive(const char *name, int filter, int format, const struct tent *t, size_t n)
{
	char *path = tpath(name);
	struct archive *a;

	CHECK(stitch_dl_load_archive(NULL) == 0);
	a = archive_write_new();

	archive_write_add_filter(a, filter);
	archive_write_set_format(a, format);
	if (format == ARCHIVE_FORMAT_ZIP)
		archive_write_set_format_option(a, "zip", "compression", "store");
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		printf("# cannot write %s: %s\n", path, archive_error_string(a));
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		unsigned type = t[i].kind == 'd'   ? AE_IFDIR
		                : t[i].kind == 'l' ? AE_IFLNK
		                : t[i].kind == 'c' ? AE_IFCHR
		                : t[i].kind == 'b' ? AE_IFBLK
		                : t[i].kind == 'p' ? AE_IFIFO
		                                   : AE_IFREG;
		archive_entry_set_pathname(e, t[i].path);
		archive_entry_set_filetype(e, type);
		archive_entry_set_perm(e, t[i].mode ? t[i].mode : t[i].kind == 'd' ? 0755 : 0644);
		archive_entry_set_mtime(e, 1000000000, 0);
		if (t[i].kind == 'f')
			archive_entry_set_size(e, (la_int64_t)strlen(t[i].data));
		if (t[i].kind == 'l')
			archive_entry_set_symlink(e, t[i].data);
		if (t[i].kind == 'h')
			archive_entry_set_hardlink(e, t[i].data);
		if (t[i].kind == 'c' || t[i].kind == 'b')
			archive_entry_set_rdev(e, makedev(1, 3));
		if (archive_write_header(a, e) < ARCHIVE_WARN)
			printf("# cannot write entry %s: %s\n", t[i].path, archive_error_string(a));
		if (t[i].kind == 'f')
			archive_write_data(a, t[i].data, strlen(t[i].data));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return path;
}

#define TGZ(name, arr)                                                                  \
	make_archive(name, ARCHIVE_FILTER_GZIP, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, arr, \
	             sizeof(arr) / sizeof(arr[0]))

/* ---- unpacking ---- */

static const struct tent normal[] = {
    {'d', "pkg-1.0/", NULL, 0},
    {'f', "pkg-1.0/Makefile", "all:\n", 0},
    {'d', "pkg-1.0/src/", NULL, 0},
    {'f', "pkg-1.0/src/a.c", "int a;\n", 0},
    {'f', "pkg-1.0/run.sh", "#!/bin/sh\n", 0755},
    {'l', "pkg-1.0/link", "src/a.c", 0777},
    {'l', "pkg-1.0/src/up", "../Makefile", 0777},
};

static void check_normal_tree(const char *dest, const char *label)
{
	char *p = xasprintf("%s/Makefile", dest), *s;
	char buf[64];
	ssize_t n;

	s = slurp(p, NULL);
	if (!s || strcmp(s, "all:\n"))
		printf("# %s: Makefile not unpacked\n", label);
	CHECK(s && !strcmp(s, "all:\n"));
	free(s);
	free(p);
	p = xasprintf("%s/src/a.c", dest);
	s = slurp(p, NULL);
	CHECK(s && !strcmp(s, "int a;\n"));
	CHECK_INT(mode_of(p), 0644);
	free(s);
	free(p);
	p = xasprintf("%s/run.sh", dest);
	CHECK_INT(mode_of(p), 0755);
	free(p);
	p = xasprintf("%s/link", dest);
	n = readlink(p, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "src/a.c");
	free(p);
	p = xasprintf("%s/pkg-1.0", dest);
	CHECK(!exists(p));
	free(p);
}

static void test_unpack_formats(void)
{
	static const struct {
		const char *name;
		int filter, format;
	} kinds[] = {
	    {"n.tar.gz", ARCHIVE_FILTER_GZIP, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED},
	    {"n.tar.xz", ARCHIVE_FILTER_XZ, ARCHIVE_FORMAT_TAR_USTAR},
	    {"n.tar.zst", ARCHIVE_FILTER_ZSTD, ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE},
	    {"n.tar.bz2", ARCHIVE_FILTER_BZIP2, ARCHIVE_FORMAT_TAR_GNUTAR},
	    {"n.tar", ARCHIVE_FILTER_NONE, ARCHIVE_FORMAT_TAR_USTAR},
	    {"n.zip", ARCHIVE_FILTER_NONE, ARCHIVE_FORMAT_ZIP},
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct stitch_err err = STITCH_ERR_INIT;
		char *arc = make_archive(kinds[i].name, kinds[i].filter, kinds[i].format, normal,
		                         sizeof(normal) / sizeof(normal[0]));
		char *dest = tpath("out/new/dest");
		int rc = stitch_archive_unpack(arc, dest, &err);
		if (rc)
			printf("# %s: %s\n", kinds[i].name, err.msg);
		CHECK_INT(rc, 0);
		check_normal_tree(dest, kinds[i].name);
		rm_rf(tmpdir);
		mkdir(tmpdir, 0700);
		free(arc);
		free(dest);
	}
}

static void test_unpack_strip_rules(void)
{
	static const struct tent two[] = {
	    {'f', "a/x", "x", 0},
	    {'f', "b/y", "y", 0},
	};
	static const struct tent implicit[] = {
	    {'f', "./top/x", "x", 0},
	    {'f', "top//sub/y", "y", 0},
	};
	static const struct tent lone_file[] = {
	    {'f', "README", "r", 0},
	};
	struct stitch_err err = STITCH_ERR_INIT;
	char *a = TGZ("two.tgz", two), *b = TGZ("imp.tgz", implicit),
	     *c = TGZ("one.tgz", lone_file);
	char *d1 = tpath("d1"), *d2 = tpath("d2"), *d3 = tpath("d3");
	char *p;

	CHECK_INT(stitch_archive_unpack(a, d1, &err), 0);
	p = tpath("d1/a/x");
	CHECK(exists(p));
	free(p);
	p = tpath("d1/b/y");
	CHECK(exists(p));
	free(p);
	/* An existing empty directory is a valid target too. */
	mkdir(d2, 0755);
	CHECK_INT(stitch_archive_unpack(b, d2, &err), 0);
	p = tpath("d2/x");
	CHECK(exists(p));
	free(p);
	p = tpath("d2/sub/y");
	CHECK(exists(p));
	free(p);
	CHECK_INT(stitch_archive_unpack(c, d3, &err), 0);
	p = tpath("d3/README");
	CHECK(exists(p));
	free(p);
	free(a);
	free(b);
	free(c);
	free(d1);
	free(d2);
	free(d3);
}

/*
 * The archive must be refused naming entry, and nothing written: a target
 * that did not exist stays absent, an empty one stays empty, and the
 * directory around it holds nothing new.
 */
static void check_refused(const char *arc, const char *entry, int line)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *around = tpath("around"), *dest = tpath("around/dest");
	int rc, ok;

	mkdir(around, 0755);
	rc = stitch_archive_unpack(arc, dest, &err);
	ok = rc == STITCH_E_ARCHIVE && strstr(err.msg, "cannot unpack '") &&
	     strstr(err.msg, entry) && !exists(dest) && is_empty_dir(around);
	mkdir(dest, 0755);
	rc = stitch_archive_unpack(arc, dest, &err);
	ok = ok && rc == STITCH_E_ARCHIVE && is_empty_dir(dest);
	if (!ok)
		printf("# line %d: %s: rc %d: %s\n", line, arc, rc, err.msg);
	CHECK(ok);
	rm_rf(around);
	free(around);
	free(dest);
}

#define REFUSED(name, arr, entry)                     \
	do {                                          \
		char *arc_ = TGZ(name, arr);          \
		check_refused(arc_, entry, __LINE__); \
		free(arc_);                           \
	} while (0)

static void test_unpack_refuses_escapes(void)
{
	static const struct tent dotdot[] = {{'f', "ok", "1", 0}, {'f', "../x", "x", 0}};
	static const struct tent abs[] = {{'f', "ok", "1", 0}, {'f', "/tmp/abs", "x", 0}};
	static const struct tent inner[] = {{'f', "a/../../x", "x", 0}};
	static const struct tent top_up[] = {{'f', "t/a", "1", 0}, {'f', "t/../../x", "x", 0}};
	static const struct tent sym_abs[] = {{'l', "etc", "/etc", 0}};
	static const struct tent sym_up[] = {{'d', "a", NULL, 0}, {'l', "a/l", "../../x", 0}};
	static const struct tent sym_through[] = {
	    {'l', "link", "..", 0},
	    {'f', "link/x", "x", 0},
	};
	/* Safe-looking each, but "d" is "." so "d/.." is the parent. */
	static const struct tent sym_chain[] = {
	    {'l', "d", ".", 0},
	    {'l', "e", "d/..", 0},
	};
	/* After stripping "t", "t/l -> ../x" points outside. */
	static const struct tent sym_strip[] = {{'f', "t/a", "1", 0}, {'l', "t/l", "../x", 0}};
	static const struct tent sym_inside_through[] = {
	    {'d', "sub", NULL, 0},
	    {'l', "link", "sub", 0},
	    {'f', "link/x", "x", 0},
	};
	static const struct tent hard_out[] = {{'h', "h", "../x", 0}};
	static const struct tent hard_abs[] = {{'h', "h", "/etc/passwd", 0}};
	static const struct tent hard_missing[] = {{'f', "a", "1", 0}, {'h', "h", "nope", 0}};
	static const struct tent hard_to_link[] = {
	    {'d', "a", NULL, 0},
	    {'l', "a/l", "..", 0},
	    {'h', "h", "a/l", 0},
	};
	static const struct tent chr[] = {{'f', "ok", "1", 0}, {'c', "null", NULL, 0666}};
	static const struct tent blk[] = {{'b', "sda", NULL, 0660}};
	static const struct tent fifo[] = {{'p', "fifo", NULL, 0644}};
	static const struct tent twice[] = {{'l', "x", "y", 0}, {'f', "x", "1", 0}};
	static const struct tent under_file[] = {{'f', "x", "1", 0}, {'f', "x/y", "1", 0}};
	static const struct tent replace_root[] = {{'f', ".", "1", 0}};
	static const struct tent loop[] = {{'l', "a", "b/x", 0}, {'l', "b", "a/y", 0}};

	REFUSED("dotdot.tgz", dotdot, "entry '../x' would land outside the target");
	REFUSED("abs.tgz", abs, "entry '/tmp/abs' would land outside the target");
	REFUSED("inner.tgz", inner, "entry 'a/../../x' would land outside");
	REFUSED("topup.tgz", top_up, "entry 't/../../x'");
	REFUSED("symabs.tgz", sym_abs, "entry 'etc' is a symlink to '/etc', outside the target");
	REFUSED("symup.tgz", sym_up, "entry 'a/l' is a symlink to '../../x'");
	REFUSED("symthrough.tgz", sym_through, "entry 'link/x' would be written through");
	REFUSED("symchain.tgz", sym_chain, "entry 'e' is a symlink to 'd/..'");
	REFUSED("symstrip.tgz", sym_strip, "entry 't/l' is a symlink to '../x'");
	REFUSED("syminside.tgz", sym_inside_through,
	        "entry 'link/x' would be written through the symlink 'link'");
	REFUSED("hardout.tgz", hard_out, "entry 'h' is a hard link to '../x', outside");
	REFUSED("hardabs.tgz", hard_abs, "entry 'h' is a hard link to '/etc/passwd'");
	REFUSED("hardmissing.tgz", hard_missing,
	        "entry 'h' is a hard link to 'nope', which is not");
	REFUSED("hardlink.tgz", hard_to_link, "entry 'h' is a hard link to 'a/l', which is not");
	REFUSED("chr.tgz", chr, "entry 'null' is a character device");
	REFUSED("blk.tgz", blk, "entry 'sda' is a block device");
	REFUSED("fifo.tgz", fifo, "entry 'fifo' is a fifo");
	REFUSED("twice.tgz", twice, "entry 'x' appears twice");
	REFUSED("underfile.tgz", under_file, "entry 'x/y' lies under 'x'");
	REFUSED("root.tgz", replace_root, "would replace the target directory");
	REFUSED("loop.tgz", loop, "which loops");
	CHECK(!exists("/tmp/abs"));
}

static void test_unpack_allows_inner_links(void)
{
	static const struct tent t[] = {
	    {'d', "p/sub", NULL, 0},
	    {'f', "p/sub/a.c", "a", 0},
	    {'l', "p/sub/self", ".", 0},
	    {'l', "p/up", "sub/../sub/a.c", 0},
	    {'l', "p/dangling", "gen/out.h", 0},
	    {'h', "p/hard", "p/sub/a.c", 0},
	};
	struct stitch_err err = STITCH_ERR_INIT;
	char *arc = TGZ("inner.tgz", t), *dest = tpath("inner"), *p, *s;
	struct stat st1, st2;

	CHECK_INT(stitch_archive_unpack(arc, dest, &err), 0);
	p = tpath("inner/hard");
	s = slurp(p, NULL);
	CHECK(s && !strcmp(s, "a"));
	CHECK(stat(p, &st1) == 0);
	free(p);
	free(s);
	p = tpath("inner/sub/a.c");
	CHECK(stat(p, &st2) == 0 && st1.st_ino == st2.st_ino);
	free(p);
	free(arc);
	free(dest);
}

/* A set-user-id or set-group-id file is refused, naming the entry. */
static void test_unpack_setid(void)
{
	static const struct tent suid[] = {{'f', "p/ok", "x", 0644}, {'f', "p/suid", "x", 04755}};
	static const struct tent sgid[] = {{'f', "p/sgid", "x", 02711}};
	struct stitch_err err = STITCH_ERR_INIT;
	char *arc = TGZ("suid.tgz", suid), *dest = tpath("suid"), *p;

	CHECK_INT(stitch_archive_unpack(arc, dest, &err), STITCH_E_ARCHIVE);
	CHECK(strstr(err.msg, "entry 'p/suid' is set-user-id (mode 4755)"));
	p = tpath("suid/ok");
	CHECK(access(p, F_OK) != 0);
	free(p);
	stitch_err_clear(&err);
	free(arc);
	free(dest);
	arc = TGZ("sgid.tgz", sgid);
	dest = tpath("sgid");
	CHECK_INT(stitch_archive_unpack(arc, dest, &err), STITCH_E_ARCHIVE);
	CHECK(strstr(err.msg, "entry 'p/sgid' is set-group-id (mode 2711)"));
	stitch_err_clear(&err);
	free(arc);
	free(dest);
}

static void test_unpack_modes(void)
{
	static const struct tent t[] = {
	    {'d', "p/", NULL, 03777},      {'d', "p/sgid", NULL, 02775},
	    {'f', "p/all", "x", 0777},     {'f', "p/rw", "x", 0666},
	    {'f', "p/ro", "x", 0444},      {'d', "p/d", NULL, 01777},
	    {'d', "p/locked", NULL, 0555}, {'f', "p/locked/f", "x", 0400},
	};
	struct stitch_err err = STITCH_ERR_INIT;
	char *arc = TGZ("modes.tgz", t), *dest = tpath("modes"), *p;
	mode_t old = umask(0);

	CHECK_INT(stitch_archive_unpack(arc, dest, &err), 0);
	umask(old);
#define MODE(rel, m)                      \
	do {                              \
		p = tpath(rel);           \
		CHECK_INT(mode_of(p), m); \
		free(p);                  \
	} while (0)
	MODE("modes/sgid", 0755);
	MODE("modes/all", 0755);
	MODE("modes/rw", 0644);
	MODE("modes/ro", 0644);
	MODE("modes/d", 0755);
	MODE("modes/locked", 0755);
	MODE("modes/locked/f", 0600);
#undef MODE
	free(arc);
	free(dest);
}

static void test_unpack_bad_input(void)
{
	static const struct tent big[] = {
	    {'f', "p/a", "first", 0},
	    {'f', "p/big", NULL, 0},
	};
	struct tent t[2] = {big[0], big[1]};
	struct stitch_err err = STITCH_ERR_INIT;
	char *data = xmalloc(300001), *arc, *dest = tpath("bad/dest"), *bad = tpath("bad"), *s;
	size_t len;
	unsigned x = 12345;
	FILE *f;

	mkdir(bad, 0755);
	for (size_t i = 0; i < 300000; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (char)('a' + (x >> 16) % 26);
	}
	data[300000] = '\0';
	t[1].data = data;
	/* Truncated in the middle of the second file's data. */
	arc = make_archive("trunc.tgz", ARCHIVE_FILTER_GZIP, ARCHIVE_FORMAT_TAR_USTAR, t, 2);
	s = slurp(arc, &len);
	f = fopen(arc, "wb");
	fwrite(s, 1, len / 2, f);
	fclose(f);
	free(s);
	CHECK_INT(stitch_archive_unpack(arc, dest, &err), STITCH_E_ARCHIVE);
	CHECK(strstr(err.msg, "cannot unpack '") && strstr(err.msg, "trunc.tgz"));
	CHECK(is_empty_dir(bad));
	free(arc);

	/* A stored zip with a flipped byte in the data: the CRC check fails. */
	t[1].data = "HELLO-CONTENT";
	arc = make_archive("crc.zip", ARCHIVE_FILTER_NONE, ARCHIVE_FORMAT_ZIP, t, 2);
	s = slurp(arc, &len);
	char *hit = memmem(s, len, "HELLO", 5);
	CHECK(hit != NULL);
	if (hit)
		hit[1] = 'A';
	f = fopen(arc, "wb");
	fwrite(s, 1, len, f);
	fclose(f);
	free(s);
	CHECK_INT(stitch_archive_unpack(arc, dest, &err), STITCH_E_ARCHIVE);
	CHECK(strstr(err.msg, "entry 'p/big'") != NULL);
	CHECK(is_empty_dir(bad));
	free(arc);

	arc = tpath("garbage.tar.gz");
	spew(arc, "this is not an archive at all\n", 0644);
	CHECK_INT(stitch_archive_unpack(arc, dest, &err), STITCH_E_ARCHIVE);
	CHECK(strstr(err.msg, "garbage.tar.gz") != NULL);
	CHECK(is_empty_dir(bad));
	spew(arc, "", 0644);
	CHECK_INT(stitch_archive_unpack(arc, dest, &err), STITCH_E_ARCHIVE);
	CHECK(is_empty_dir(bad));
	free(arc);

	arc = tpath("missing.tar.gz");
	CHECK_INT(stitch_archive_unpack(arc, dest, &err), STITCH_E_NOTFOUND);
	CHECK(is_empty_dir(bad));
	free(arc);
	free(data);
	free(dest);
	free(bad);
}

static void test_unpack_target_not_empty(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *arc = TGZ("n.tgz", normal), *dest = tpath("full"), *keep = tpath("full/keep"), *s;

	mkdir(dest, 0755);
	spew(keep, "mine", 0644);
	CHECK_INT(stitch_archive_unpack(arc, dest, &err), STITCH_E_EXISTS);
	CHECK(strstr(err.msg, "not empty") != NULL);
	s = slurp(keep, NULL);
	CHECK(s && !strcmp(s, "mine"));
	CHECK_INT(stitch_archive_unpack(arc, keep, &err), STITCH_E_EXISTS);
	free(s);
	free(arc);
	free(dest);
	free(keep);
}

/* A failure while writing (here: the file size limit) removes what was written. */
static void test_unpack_cleans_up_after_write_error(void)
{
	struct tent t[3] = {
	    {'f', "p/a", "small", 0},
	    {'f', "p/b", NULL, 0},
	    {'f', "p/c", "never", 0},
	};
	char *data = xmalloc(20001), *arc, *dest = tpath("wr/dest"), *around = tpath("wr");
	int status = -1;
	pid_t pid;

	memset(data, 'z', 20000);
	data[20000] = '\0';
	t[1].data = data;
	arc = make_archive("big.tgz", ARCHIVE_FILTER_GZIP, ARCHIVE_FORMAT_TAR_USTAR, t, 3);
	mkdir(around, 0755);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct stitch_err err = STITCH_ERR_INIT;
		struct rlimit rl = {8192, 8192};
		int rc;
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		rc = stitch_archive_unpack(arc, dest, &err);
		rc = rc == STITCH_E_IO && strstr(err.msg, "entry 'p/b'") ? 0 : 1;
		if (rc)
			printf("# child: %s\n", err.msg);
		fflush(stdout);
		/* Free the parent's allocations too, for valgrind in the child. */
		free(data);
		free(arc);
		free(dest);
		free(around);
		exit(rc);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(is_empty_dir(around));
	free(data);
	free(arc);
	free(dest);
	free(around);
}

/* ---- packing ---- */

/* One line per entry under dir: path, type, mode, content or target. */
static void tree_sig(struct stitch_buf *out, const char *dir, const char *rel)
{
	char *full = *rel ? xasprintf("%s/%s", dir, rel) : xstrdup(dir);
	struct dirent **names;
	int n = scandir(full, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *sub = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		char *p = xasprintf("%s/%s", dir, sub);
		struct stat st;
		if (strcmp(name, ".") && strcmp(name, "..") && lstat(p, &st) == 0) {
			stitch_buf_addf(out, "%s %o", sub, (unsigned)st.st_mode);
			if (S_ISREG(st.st_mode)) {
				char *s = slurp(p, NULL);
				stitch_buf_addf(out, " [%s]", s ? s : "?");
				free(s);
			} else if (S_ISLNK(st.st_mode)) {
				char buf[256];
				ssize_t k = readlink(p, buf, sizeof(buf) - 1);
				buf[k > 0 ? k : 0] = '\0';
				stitch_buf_addf(out, " -> %s", buf);
			}
			stitch_buf_addch(out, '\n');
			if (S_ISDIR(st.st_mode))
				tree_sig(out, dir, sub);
		}
		free(p);
		free(sub);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	free(full);
}

static const char long_name[] =
    "a-file-name-that-is-long-enough-to-need-a-pax-or-ustar-prefix-because-it-passes-"
    "one-hundred-bytes-by-a-fair-margin.c";

/* Make the same logical tree with different mtimes, modes, order and links. */
static void make_tree(const char *root, int variant)
{
	char *p;
	struct timespec ts[2];

#define AT(rel) (free(p), p = xasprintf("%s/%s", root, rel))
	p = xstrdup(root);
	mkdir(p, 0755);
	if (variant) {
		AT("src");
		mkdir(p, 0700);
		AT("src/b.c");
		spew(p, "int b;\n", 0600);
		AT("src/a.c");
		spew(p, "int a;\n", 0664);
		AT("run.sh");
		spew(p, "#!/bin/sh\n", 0700);
		AT("src/a-copy.c");
		spew(p, "int a;\n", 0640);
	} else {
		AT("run.sh");
		spew(p, "#!/bin/sh\n", 0755);
		AT("src");
		mkdir(p, 0755);
		AT("src/a.c");
		spew(p, "int a;\n", 0644);
		AT("src/b.c");
		spew(p, "int b;\n", 0644);
		/* A hard link is stored as a separate file. */
		char *a = xasprintf("%s/src/a.c", root);
		AT("src/a-copy.c");
		link(a, p);
		free(a);
	}
	AT("empty");
	mkdir(p, 0755);
	AT("deep");
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/deep/%s", root, long_name);
	spew(p, "long\n", 0644);
	AT("README");
	spew(p, "read me\n", variant ? 0444 : 0644);
	AT("link");
	symlink("src/a.c", p);
	AT(".git");
	mkdir(p, 0755);
	AT(".git/HEAD");
	spew(p, variant ? "ref: other\n" : "ref: main\n", 0644);
	AT("src/.svn");
	spew(p, "x", 0644);
	if (variant) {
		/* Scatter mtimes, including in the future. */
		ts[0].tv_sec = ts[1].tv_sec = time(NULL) + 86400 * 3;
		ts[0].tv_nsec = ts[1].tv_nsec = 123456789;
		AT("src/a.c");
		utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
		AT("link");
		utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
		AT("src");
		utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
	}
	free(p);
#undef AT
}

static void test_pack_deterministic(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *t1 = tpath("tree1"), *t2 = tpath("tree2"), *o1 = tpath("one.tar.gz");
	char *o2 = tpath("two.tar.gz"), *o3 = tpath("tree1/inside.tar.gz");
	char sha1[65] = "", sha2[65] = "", sha3[65] = "", check[65];
	char *b1, *b2;
	size_t l1 = 0, l2 = 0;
	int status = -1;
	pid_t pid;

	make_tree(t1, 0);
	make_tree(t2, 1);
	CHECK_INT(stitch_archive_pack(t1, "pkg-1.0", 1700000000, o1, sha1, &err), 0);
	/* Another process (another pid), another umask, the other tree. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int rc;
		umask(077);
		rc = stitch_archive_pack(t2, "pkg-1.0", 1700000000, o2, sha2, &err) ? 1 : 0;
		if (rc)
			printf("# child: %s\n", err.msg);
		fflush(stdout);
		free(t1);
		free(t2);
		free(o1);
		free(o2);
		free(o3);
		exit(rc);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	b1 = slurp(o1, &l1);
	b2 = slurp(o2, &l2);
	CHECK(b1 && b2 && l1 == l2 && !memcmp(b1, b2, l1));
	stitch_sha256_hex(b1, l1, check);
	CHECK_STR(sha1, check);
	CHECK_INT(mode_of(o1), 0644);
	/* gzip: no file name flag, zero timestamp. */
	CHECK(l1 > 10 && (unsigned char)b1[0] == 0x1f && (unsigned char)b1[1] == 0x8b);
	CHECK(l1 > 10 && b1[3] == 0 && !b1[4] && !b1[5] && !b1[6] && !b1[7]);
	/* The output inside the tree is skipped, on the first and second run. */
	CHECK_INT(stitch_archive_pack(t1, "pkg-1.0", 1700000000, o3, sha3, &err), 0);
	CHECK_STR(sha3, sha1);
	CHECK_INT(stitch_archive_pack(t1, "pkg-1.0", 1700000000, o3, sha3, &err), 0);
	CHECK_STR(sha3, sha1);
	/* Another mtime or top gives another archive. */
	CHECK_INT(stitch_archive_pack(t1, "pkg-1.0", 0, o2, sha2, &err), 0);
	CHECK(strcmp(sha2, sha1) != 0);
	free(b1);
	free(b2);
	free(t1);
	free(t2);
	free(o1);
	free(o2);
	free(o3);
}

static void test_pack_format(void)
{
	static const char *const want[] = {
	    "pkg-1.0/",
	    "pkg-1.0/README",
	    "pkg-1.0/deep/",
	    NULL,
	    "pkg-1.0/empty/",
	    "pkg-1.0/link",
	    "pkg-1.0/run.sh",
	    "pkg-1.0/src/",
	    "pkg-1.0/src/a-copy.c",
	    "pkg-1.0/src/a.c",
	    "pkg-1.0/src/b.c",
	};
	struct stitch_err err = STITCH_ERR_INIT;
	char *t = tpath("tree"), *o = tpath("f.tar.gz"), *deep;
	char sha[65];
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t i = 0;

	make_tree(t, 0);
	CHECK_INT(stitch_archive_pack(t, "pkg-1.0", 42, o, sha, &err), 0);
	deep = xasprintf("pkg-1.0/deep/%s", long_name);
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	CHECK(archive_read_open_filename(a, o, 10240) == ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		const char *expect = i < sizeof(want) / sizeof(want[0]) ? want[i] : "(end)";
		unsigned perm = archive_entry_perm(e);
		CHECK_STR(name, expect ? expect : deep);
		CHECK_INT(archive_entry_mtime(e), 42);
		CHECK_INT(archive_entry_uid(e), 0);
		CHECK_INT(archive_entry_gid(e), 0);
		CHECK(!archive_entry_uname(e) || !*archive_entry_uname(e));
		CHECK(!archive_entry_gname(e) || !*archive_entry_gname(e));
		CHECK(!archive_entry_atime_is_set(e) && !archive_entry_ctime_is_set(e));
		if (archive_entry_filetype(e) == AE_IFLNK)
			CHECK_STR(archive_entry_symlink(e), "src/a.c");
		else if (strstr(name, "run.sh") || archive_entry_filetype(e) == AE_IFDIR)
			CHECK_INT(perm, 0755);
		else
			CHECK_INT(perm, 0644);
		i++;
	}
	CHECK_INT(i, sizeof(want) / sizeof(want[0]));
	archive_read_free(a);
	free(deep);
	free(t);
	free(o);
}

static void test_pack_round_trip(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf s1 = STITCH_BUF_INIT, s2 = STITCH_BUF_INIT;
	char *t = tpath("rt"), *o = tpath("rt.tar.gz"), *d = tpath("rt-out"), *p;
	char sha[65];

	make_tree(t, 0);
	CHECK_INT(stitch_archive_pack(t, "pkg-1.0", 0, o, sha, &err), 0);
	CHECK_INT(stitch_archive_unpack(o, d, &err), 0);
	p = tpath("rt/.git");
	rm_rf(p);
	free(p);
	p = tpath("rt/src/.svn");
	rm_rf(p);
	free(p);
	tree_sig(&s1, t, "");
	tree_sig(&s2, d, "");
	CHECK(s1.len > 0);
	CHECK_STR(s2.buf, s1.buf);
	stitch_buf_release(&s1);
	stitch_buf_release(&s2);
	free(t);
	free(o);
	free(d);
}

static void test_pack_refuses(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *t = tpath("bad"), *o = tpath("bad.tar.gz"), *p;
	char sha[65];

	mkdir(t, 0755);
	p = tpath("bad/abs");
	symlink("/etc/passwd", p);
	CHECK_INT(stitch_archive_pack(t, "x", 0, o, sha, &err), STITCH_E_ARCHIVE);
	CHECK(strstr(err.msg, "cannot pack '") && strstr(err.msg, "'abs' is a symlink to '/etc"));
	unlink(p);
	symlink("../../up", p);
	CHECK_INT(stitch_archive_pack(t, "x", 0, o, sha, &err), STITCH_E_ARCHIVE);
	unlink(p);
	free(p);
	p = tpath("bad/fifo");
	mkfifo(p, 0644);
	CHECK_INT(stitch_archive_pack(t, "x", 0, o, sha, &err), STITCH_E_ARCHIVE);
	CHECK(strstr(err.msg, "'fifo' is not a file") != NULL);
	unlink(p);
	free(p);
	CHECK(!exists(o));
	CHECK(is_empty_dir(tmpdir) == 0);
	CHECK_INT(stitch_archive_pack(t, "a/b", 0, o, sha, &err), STITCH_E_USAGE);
	CHECK_INT(stitch_archive_pack(t, "..", 0, o, sha, &err), STITCH_E_USAGE);
	p = tpath("nope");
	CHECK_INT(stitch_archive_pack(p, "x", 0, o, sha, &err), STITCH_E_NOTFOUND);
	free(p);
	/* Only the tree and nothing else: no temporary files left behind. */
	CHECK_INT(stitch_archive_pack(t, "x", 0, o, sha, &err), 0);
	CHECK(exists(o));
	free(t);
	free(o);
}

#define RUN_CLEAN(fn)                \
	do {                         \
		RUN(fn);             \
		rm_rf(tmpdir);       \
		mkdir(tmpdir, 0700); \
	} while (0)

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN_CLEAN(test_unpack_formats);
	RUN_CLEAN(test_unpack_strip_rules);
	RUN_CLEAN(test_unpack_refuses_escapes);
	RUN_CLEAN(test_unpack_allows_inner_links);
	RUN_CLEAN(test_unpack_modes);
	RUN_CLEAN(test_unpack_setid);
	RUN_CLEAN(test_unpack_bad_input);
	RUN_CLEAN(test_unpack_target_not_empty);
	RUN_CLEAN(test_unpack_cleans_up_after_write_error);
	RUN_CLEAN(test_pack_deterministic);
	RUN_CLEAN(test_pack_format);
	RUN_CLEAN(test_pack_round_trip);
	RUN_CLEAN(test_pack_refuses);
	rm_rf(tmpdir);
	return test_summary();
}
