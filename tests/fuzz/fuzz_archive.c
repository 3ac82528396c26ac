/*
 * libFuzzer target for unpacking.  Any input is unpacked into
 * base/a/b/dest; whether it unpacks or is refused, nothing may appear
 * outside dest: base holds only the input (and our own archive), a only b,
 * b only dest, or nothing after a refusal.  A refusal names the archive.
 * A tree that unpacked holds only files, directories and symlinks, no
 * setuid, setgid or sticky bit, no symlink that resolves outside it; and it
 * packs again into an archive that unpacks.
 */
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"

static char base[PATH_MAX], input[PATH_MAX], a_dir[PATH_MAX], b_dir[PATH_MAX];
static char dest[PATH_MAX], dest2[PATH_MAX], packed[PATH_MAX];
static char real_dest[PATH_MAX]; /* for the nftw callback */

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_archive: %s: %s\n", what, detail);
	abort();
}

/* dir holds exactly the names given (NULL-terminated), nothing else. */
static void holds_only(const char *dir, const char *const *names)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		fail("cannot list", dir);
	while ((de = readdir(d))) {
		int known = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		for (const char *const *n = names; *n && !known; n++)
			known = !strcmp(de->d_name, *n);
		if (!known)
			fail("something landed outside the target", de->d_name);
	}
	closedir(d);
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

static int inspect(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	char resolved[PATH_MAX];
	size_t n = strlen(real_dest);

	(void)flag;
	(void)ftw;
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode))
		fail("special file unpacked", p);
	if (!S_ISLNK(st->st_mode) && (st->st_mode & 07000))
		fail("setuid, setgid or sticky bit kept", p);
	if (S_ISLNK(st->st_mode) && realpath(p, resolved) &&
	    (strncmp(resolved, real_dest, n) || (resolved[n] && resolved[n] != '/')))
		fail("symlink resolves outside the target", p);
	return 0;
}

static void check_refusal(int rc, const struct stitch_err *err, const char *arc)
{
	char want[PATH_MAX + 32];

	if (rc != STITCH_E_ARCHIVE && rc != STITCH_E_IO)
		fail("unexpected error code", err->msg);
	snprintf(want, sizeof(want), "cannot unpack '%s'", arc);
	if (strncmp(err->msg, want, strlen(want)))
		fail("error does not name the archive", err->msg);
}

/* Pack what unpacked, then unpack that: it must work. */
static void repack(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char sha[65];
	int rc;

	rc = stitch_archive_pack(dest, "top", 0, packed, sha, &err);
	/* Skipped VCS directories can change how a symlink resolves. */
	if (rc && !(rc == STITCH_E_ARCHIVE && strstr(err.msg, "symlink")))
		fail("cannot pack an unpacked tree", err.msg);
	if (rc)
		return;
	rc = stitch_archive_unpack(packed, dest2, &err);
	if (rc)
		fail("cannot unpack a packed tree", err.msg);
}

static void cleanup(void)
{
	rm_rf(base);
}

static void setup(void)
{
	struct stat st;
	/* tmpfs when there is one: the pack's fsync is free there. */
	const char *tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";

	snprintf(base, sizeof(base), "%s/stitch-fuzz-archive.%ld", tmp, (long)getpid());
	rm_rf(base);
	if (mkdir(base, 0700))
		fail("cannot create", base);
	atexit(cleanup);
	snprintf(input, sizeof(input), "%s/in", base);
	snprintf(packed, sizeof(packed), "%s/packed.tar.gz", base);
	snprintf(a_dir, sizeof(a_dir), "%s/a", base);
	snprintf(b_dir, sizeof(b_dir), "%s/a/b", base);
	snprintf(dest, sizeof(dest), "%s/a/b/dest", base);
	snprintf(dest2, sizeof(dest2), "%s/a/b/dest2", base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const in_base[] = {"in", "a", "packed.tar.gz", NULL};
	static const char *const in_a[] = {"b", NULL};
	static const char *const in_b_ok[] = {"dest", "dest2", NULL};
	static const char *const in_b_fail[] = {NULL};
	struct stitch_err err = STITCH_ERR_INIT;
	FILE *f;
	int rc;

	if (!base[0])
		setup();
	f = fopen(input, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		fail("cannot write", input);
	if (mkdir(a_dir, 0755) || mkdir(b_dir, 0755))
		fail("cannot create", b_dir);
	rc = stitch_archive_unpack(input, dest, &err);
	if (rc) {
		check_refusal(rc, &err, input);
	} else {
		if (!realpath(dest, real_dest))
			fail("unpacked target missing", dest);
		nftw(dest, inspect, 16, FTW_PHYS);
		repack();
	}
	holds_only(base, in_base);
	holds_only(a_dir, in_a);
	holds_only(b_dir, rc ? in_b_fail : in_b_ok);
	rm_rf(a_dir);
	unlink(packed);
	unlink(input);
	return 0;
}
