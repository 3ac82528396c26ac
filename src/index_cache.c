/*
 * The compiled form of a repository, kept in the root's cache so that a
 * large index is parsed once, not on every command.
 *
 * File layout (native byte order; the cache never leaves its machine):
 *   struct cache_header
 *   location bytes, padded to 8
 *   flat_pkg[n_pkgs] flat_version[n_versions] flat_cmd[n_cmds]
 *   uint32_t refs[n_refs] (padded to 8)
 *   uint32_t reqs[n_reqs] (padded to 8)
 *   uint64_t members[n_reqs]
 *   uint32_t succ[n_succ] (padded to 8)
 *   struct stitch_req_alt alts[n_alts]
 *   strings[strings_len]  (NUL-terminated strings, last byte NUL)
 * Everything is checked on open, so a truncated or corrupt file is
 * rejected (and rebuilt by the caller) instead of being trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index_flat.h"

#define CACHE_MAGIC "STITCHIX"
#define CACHE_FORMAT 4u
#define CACHE_ENDIAN 0x01020304u

struct cache_header {
	char magic[8];
	uint32_t format;
	uint32_t endian;
	uint32_t header_size;
	uint32_t racy;
	unsigned char stamp[32];
	unsigned char content[32];
	uint32_t doc_name;
	uint32_t n_pkgs, n_versions, n_cmds, n_refs, n_reqs, n_alts, n_succ;
	uint32_t location_len;
	uint64_t strings_len;
	uint64_t file_len;
};

static uint64_t pad8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

static int str_ok(const struct flat_view *v, uint32_t off, int optional)
{
	if (off == FLAT_NONE)
		return optional;
	return off < v->strings_len;
}

static int list_ok(struct flat_list l, uint64_t count)
{
	return (uint64_t)l.first + l.n <= count;
}

/*
 * Are all n values at a below lim?  Without a branch per value, so that
 * the compiler can check several at once: the arrays hold a million.
 */
static int below(const uint32_t *a, uint32_t n, uint64_t lim)
{
	/* Past UINT32_MAX only FLAT_NONE (UINT32_MAX) is refused. */
	uint32_t l = lim > UINT32_MAX ? UINT32_MAX : (uint32_t)lim, i = 0;
	uint32_t b0 = 0, b1 = 0, b2 = 0, b3 = 0;

	for (; i + 4 <= n; i += 4) {
		b0 |= a[i] >= l;
		b1 |= a[i + 1] >= l;
		b2 |= a[i + 2] >= l;
		b3 |= a[i + 3] >= l;
	}
	for (; i < n; i++)
		b0 |= a[i] >= l;
	return !(b0 | b1 | b2 | b3);
}

/*
 * The compiled requirements point at packages and versions that exist
 * (members are not checked: the resolver keeps only bits of versions).
 */
static int reqs_ok(const struct flat_view *v)
{
	if (v->n_alts && !v->alts[v->n_alts - 1].last)
		return 0;
	uint32_t bad = 0;
	for (uint32_t i = 0; i < v->n_reqs; i++)
		bad |= (v->reqs[i] != STITCH_REQ_NONE) & (v->reqs[i] >= v->n_alts);
	if (bad || !below(v->succ, v->n_succ, v->n_pkgs))
		return 0;
	for (uint32_t i = 0; i < v->n_alts; i++) {
		const struct stitch_req_alt *a = &v->alts[i];
		if (a->pkg >= v->n_pkgs || a->last > 1 || v->pkgs[a->pkg].n_versions > 64 ||
		    (v->pkgs[a->pkg].n_versions < 64 && a->mask >> v->pkgs[a->pkg].n_versions))
			return 0;
	}
	return 1;
}

static int view_ok(const struct flat_view *v)
{
	if (v->strings_len && v->strings[v->strings_len - 1] != '\0')
		return 0;
	if (!str_ok(v, v->doc_name, 0))
		return 0;
	if (!below(v->refs, v->n_refs, v->strings_len > FLAT_NONE ? FLAT_NONE : v->strings_len))
		return 0;
	for (uint32_t i = 0; i < v->n_cmds; i++)
		if (!list_ok(v->cmds[i].args, v->n_refs) || v->cmds[i].args.n == 0)
			return 0;
	for (uint32_t i = 0; i < v->n_versions; i++) {
		const struct flat_version *fv = &v->versions[i];
		if (!str_ok(v, fv->version, 0) || !str_ok(v, fv->url, 0) ||
		    !str_ok(v, fv->sha256, 1) || !list_ok(fv->depends, v->n_refs) ||
		    !list_ok(fv->conflicts, v->n_refs) || !list_ok(fv->build, v->n_cmds) ||
		    !list_ok(fv->install, v->n_cmds) || !list_ok(fv->test, v->n_cmds) ||
		    (uint64_t)fv->reqs + fv->depends.n + fv->conflicts.n > v->n_reqs)
			return 0;
	}
	for (uint32_t i = 0; i < v->n_pkgs; i++) {
		const struct flat_pkg *p = &v->pkgs[i];
		if (!str_ok(v, p->name, 0) || !str_ok(v, p->synopsis, 1) ||
		    !str_ok(v, p->license, 1) || !str_ok(v, p->homepage, 1) ||
		    (uint64_t)p->first_version + p->n_versions > v->n_versions ||
		    (p->succ.first != FLAT_NONE && !list_ok(p->succ, v->n_succ)))
			return 0;
	}
	return reqs_ok(v);
}

int cache_open(struct cache_file *cf, const char *path, const char *location)
{
	struct cache_header h;
	struct stat st;
	const char *p;
	uint64_t off, need;
	int fd;

	memset(cf, 0, sizeof(*cf));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < sizeof(h)) {
		close(fd);
		return -1;
	}
	cf->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (cf->map == MAP_FAILED) {
		cf->map = NULL;
		return -1;
	}
	cf->map_len = (size_t)st.st_size;
	memcpy(&h, cf->map, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.format != CACHE_FORMAT ||
	    h.endian != CACHE_ENDIAN || h.header_size != sizeof(h) || h.file_len != cf->map_len)
		goto bad;
	need =
	    pad8(sizeof(h)) + pad8(h.location_len) + (uint64_t)h.n_pkgs * sizeof(struct flat_pkg) +
	    (uint64_t)h.n_versions * sizeof(struct flat_version) +
	    (uint64_t)h.n_cmds * sizeof(struct flat_cmd) + pad8((uint64_t)h.n_refs * 4) +
	    pad8((uint64_t)h.n_reqs * 4) + (uint64_t)h.n_reqs * 8 + pad8((uint64_t)h.n_succ * 4) +
	    (uint64_t)h.n_alts * sizeof(struct stitch_req_alt) + h.strings_len;
	if (need != h.file_len)
		goto bad;
	p = cf->map;
	off = pad8(sizeof(h));
	if (h.location_len != strlen(location) || memcmp(p + off, location, h.location_len) != 0)
		goto bad;
	off += pad8(h.location_len);
	cf->view.pkgs = (const void *)(p + off);
	off += (uint64_t)h.n_pkgs * sizeof(struct flat_pkg);
	cf->view.versions = (const void *)(p + off);
	off += (uint64_t)h.n_versions * sizeof(struct flat_version);
	cf->view.cmds = (const void *)(p + off);
	off += (uint64_t)h.n_cmds * sizeof(struct flat_cmd);
	cf->view.refs = (const void *)(p + off);
	off += pad8((uint64_t)h.n_refs * 4);
	cf->view.reqs = (const void *)(p + off);
	off += pad8((uint64_t)h.n_reqs * 4);
	cf->view.members = (const void *)(p + off);
	off += (uint64_t)h.n_reqs * 8;
	cf->view.succ = (const void *)(p + off);
	off += pad8((uint64_t)h.n_succ * 4);
	cf->view.alts = (const void *)(p + off);
	off += (uint64_t)h.n_alts * sizeof(struct stitch_req_alt);
	cf->view.strings = p + off;
	cf->view.strings_len = h.strings_len;
	cf->view.doc_name = h.doc_name;
	cf->view.n_pkgs = h.n_pkgs;
	cf->view.n_versions = h.n_versions;
	cf->view.n_cmds = h.n_cmds;
	cf->view.n_refs = h.n_refs;
	cf->view.n_reqs = h.n_reqs;
	cf->view.n_alts = h.n_alts;
	cf->view.n_succ = h.n_succ;
	memcpy(cf->key.stamp, h.stamp, 32);
	memcpy(cf->key.content, h.content, 32);
	cf->key.racy = (int)h.racy;
	if (!view_ok(&cf->view))
		goto bad;
	return 0;
bad:
	cache_close(cf);
	return -1;
}

void cache_close(struct cache_file *cf)
{
	if (cf->map)
		munmap(cf->map, cf->map_len);
	memset(cf, 0, sizeof(*cf));
}

static int write_all(FILE *f, const void *data, size_t len, size_t padded)
{
	static const char zeros[8];

	if (len && fwrite(data, 1, len, f) != len)
		return -1;
	if (padded > len && fwrite(zeros, 1, padded - len, f) != padded - len)
		return -1;
	return 0;
}

int cache_write(const char *path, const char *location, const struct cache_key *key,
                const struct flat_view *v)
{
	struct cache_header h;
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	size_t loc_len = strlen(location);
	FILE *f;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, CACHE_MAGIC, 8);
	h.format = CACHE_FORMAT;
	h.endian = CACHE_ENDIAN;
	h.header_size = sizeof(h);
	h.racy = (uint32_t)key->racy;
	memcpy(h.stamp, key->stamp, 32);
	memcpy(h.content, key->content, 32);
	h.doc_name = v->doc_name;
	h.n_pkgs = v->n_pkgs;
	h.n_versions = v->n_versions;
	h.n_cmds = v->n_cmds;
	h.n_refs = v->n_refs;
	h.n_reqs = v->n_reqs;
	h.n_alts = v->n_alts;
	h.n_succ = v->n_succ;
	h.location_len = (uint32_t)loc_len;
	h.strings_len = v->strings_len;
	h.file_len = pad8(sizeof(h)) + pad8(loc_len) +
	             (uint64_t)v->n_pkgs * sizeof(struct flat_pkg) +
	             (uint64_t)v->n_versions * sizeof(struct flat_version) +
	             (uint64_t)v->n_cmds * sizeof(struct flat_cmd) + pad8((uint64_t)v->n_refs * 4) +
	             pad8((uint64_t)v->n_reqs * 4) + (uint64_t)v->n_reqs * 8 +
	             pad8((uint64_t)v->n_succ * 4) +
	             (uint64_t)v->n_alts * sizeof(struct stitch_req_alt) + v->strings_len;
	f = fopen(tmp, "wbe");
	if (!f)
		goto out;
	if (write_all(f, &h, sizeof(h), pad8(sizeof(h))) ||
	    write_all(f, location, loc_len, pad8(loc_len)) ||
	    write_all(f, v->pkgs, v->n_pkgs * sizeof(struct flat_pkg),
	              v->n_pkgs * sizeof(struct flat_pkg)) ||
	    write_all(f, v->versions, v->n_versions * sizeof(struct flat_version),
	              v->n_versions * sizeof(struct flat_version)) ||
	    write_all(f, v->cmds, v->n_cmds * sizeof(struct flat_cmd),
	              v->n_cmds * sizeof(struct flat_cmd)) ||
	    write_all(f, v->refs, (size_t)v->n_refs * 4, pad8((uint64_t)v->n_refs * 4)) ||
	    write_all(f, v->reqs, (size_t)v->n_reqs * 4, pad8((uint64_t)v->n_reqs * 4)) ||
	    write_all(f, v->members, (size_t)v->n_reqs * 8, (size_t)v->n_reqs * 8) ||
	    write_all(f, v->succ, (size_t)v->n_succ * 4, pad8((uint64_t)v->n_succ * 4)) ||
	    write_all(f, v->alts, (size_t)v->n_alts * sizeof(struct stitch_req_alt),
	              (size_t)v->n_alts * sizeof(struct stitch_req_alt)) ||
	    write_all(f, v->strings, v->strings_len, v->strings_len)) {
		fclose(f);
		unlink(tmp);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}
