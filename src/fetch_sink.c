/*
 * Sinks: a temporary file created next to its final name, hashed with
 * SHA-256 as it is written, removed if the process is killed by SIGINT,
 * SIGTERM or SIGHUP, and by a later sweep if it was killed otherwise.
 * See fetch_int.h.
 */
#include "fetch_int.h"
#include "util.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------- cleanup on a signal */

/*
 * The temporary files open now, for the handler of SIGINT, SIGTERM and
 * SIGHUP to remove before the process dies.  A slot is written whole
 * (path first, then owner) before it counts, and cleared before its path
 * is freed.  The owner is the pid that registered it: a child forked
 * meanwhile must not remove its parent's files.  A file that finds no free
 * slot is still removed by the next command's sweep.
 */
#define TMP_SLOTS 64

static struct {
	const char *volatile path;
	volatile pid_t owner;
} tmp_slots[TMP_SLOTS];

static void on_fatal_signal(int sig)
{
	pid_t self = getpid();
	int saved = errno;

	for (int i = 0; i < TMP_SLOTS; i++)
		if (tmp_slots[i].owner == self && tmp_slots[i].path)
			unlink(tmp_slots[i].path);
	errno = saved;
	/* SA_RESETHAND made the default action current again: die of sig */
	raise(sig);
}

/* Take over the signals that would kill us, unless someone handles them already. */
static void install_handlers(void)
{
	static bool installed;
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa, old;

	if (installed)
		return;
	installed = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			sigaction(sigs[i], &sa, NULL);
}

static void register_tmp(const char *path)
{
	install_handlers();
	for (int i = 0; i < TMP_SLOTS; i++) {
		if (tmp_slots[i].path)
			continue;
		tmp_slots[i].owner = 0;
		tmp_slots[i].path = path;
		tmp_slots[i].owner = getpid();
		return;
	}
}

static void unregister_tmp(const char *path)
{
	for (int i = 0; path && i < TMP_SLOTS; i++) {
		if (tmp_slots[i].path != path)
			continue;
		tmp_slots[i].owner = 0;
		tmp_slots[i].path = NULL;
	}
}

/* ---------------------------------------------------------------- sinks */

/* Create prefix + "<pid>-XXXXXX"; returns 0 or an errno value. */
int fetch_sink_open(struct sink *s, const char *prefix)
{
	s->tmp = xasprintf("%s%ld-XXXXXX", prefix, (long)getpid());
	s->fd = mkostemp(s->tmp, O_CLOEXEC);
	if (s->fd < 0) {
		int e = errno;
		free(s->tmp);
		s->tmp = NULL;
		return e;
	}
	register_tmp(s->tmp);
	s->md = stitch_sha256_new();
	s->werr = 0;
	return 0;
}

int fetch_sink_write(struct sink *s, const char *p, size_t len)
{
	stitch_sha256_update(s->md, p, len);
	while (len) {
		ssize_t w = write(s->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->werr = errno;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Close the file and remove it. */
void fetch_sink_discard(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->tmp) {
		unregister_tmp(s->tmp);
		unlink(s->tmp);
		free(s->tmp);
		s->tmp = NULL;
	}
	if (s->md)
		stitch_sha256_free(s->md);
	s->md = NULL;
}

void fetch_sink_kept(struct sink *s)
{
	unregister_tmp(s->tmp);
	free(s->tmp);
	s->tmp = NULL;
}

/*
 * The pid in a temporary file's name "<anything>.tmp-<pid>-XXXXXX", or 0
 * when the name is not one of ours.
 */
static long tmp_owner(const char *name)
{
	const char *p = strstr(name, ".tmp-"), *next;
	char *end;
	long pid;

	for (; p; p = next) {
		next = strstr(p + 1, ".tmp-");
		pid = strtol(p + 5, &end, 10);
		if (end != p + 5 && pid > 0 && *end == '-' && strlen(end + 1) == 6 &&
		    !strchr(end + 1, '/'))
			return pid;
	}
	return 0;
}

void fetch_sweep_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		long pid = tmp_owner(de->d_name);
		/* EPERM: alive, another user's */
		if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/*
 * Make the written file durable and readable, close it and compute its
 * hash.  The file stays (s->tmp) for the caller to rename or discard.
 * Returns 0 or an errno value.
 */
int fetch_sink_close(struct sink *s, char hex[65])
{
	unsigned char md[32];
	int e = 0;

	/* fsync before the rename: after a crash, a name is whole content or absent */
	if (fchmod(s->fd, 0644) < 0 || fsync(s->fd) < 0)
		e = errno;
	if (close(s->fd) < 0 && !e)
		e = errno;
	s->fd = -1;
	stitch_sha256_final(s->md, md);
	s->md = NULL;
	stitch_hex(md, sizeof(md), hex);
	return e;
}

/* The first up to len bytes of path into buf; returns how many, or -1. */
static ssize_t read_head(const char *path, unsigned char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	while (got < len && (r = read(fd, buf + got, len - got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	return (ssize_t)got;
}

static bool has_magic(const unsigned char *b, size_t n, const char *magic, size_t len, size_t at)
{
	return n >= at + len && !memcmp(b + at, magic, len);
}

bool fetch_file_is_compressed(const char *path)
{
	unsigned char b[8];
	ssize_t r = read_head(path, b, sizeof(b));
	size_t n = r > 0 ? (size_t)r : 0;

	return has_magic(b, n, "\x1f\x8b", 2, 0) ||
	       has_magic(b, n,
	                 "\xfd"
	                 "7zXZ\0",
	                 6, 0) ||
	       has_magic(b, n, "\x28\xb5\x2f\xfd", 4, 0) || has_magic(b, n, "BZh", 3, 0);
}

bool fetch_file_is_archive(const char *path)
{
	unsigned char b[512];
	ssize_t r = read_head(path, b, sizeof(b));
	size_t n = r > 0 ? (size_t)r : 0;

	return fetch_file_is_compressed(path) || has_magic(b, n, "PK\x03\x04", 4, 0) ||
	       has_magic(b, n, "PK\x05\x06", 4, 0) || has_magic(b, n, "ustar", 5, 257);
}

/* Hash a whole file; returns 0 or an errno value. */
int fetch_hash_file(const char *path, char hex[65])
{
	return stitch_sha256_file(path, hex) == 0 ? 0 : errno;
}
