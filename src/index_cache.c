/*
 * The compiled form of a repository, kept in the root's cache so that a
 * large index is parsed once, not on every command.
 *
 * File layout (native byte order; the cache never leaves its machine),
 * every section starting on a multiple of 8 so that its records can be
 * read in place (struct flat_pkg is 36 bytes, stitch_req_alt holds a
 * uint64_t):
 *   struct cache_header
 *   location bytes
 *   flat_pkg[n_pkgs] flat_version[n_versions] flat_cmd[n_cmds]
 *   uint32_t refs[n_refs]
 *   uint32_t reqs[n_reqs]
 *   uint64_t members[n_reqs]
 *   uint32_t succ[n_succ]
 *   struct stitch_req_alt alts[n_alts]
 *   strings[strings_len]  (NUL-terminated strings, last byte NUL)
 *   warnings[warnings_len] (NUL-terminated messages, last byte NUL)
 * The header's checksum is a 64-bit hash (XXH64) of the header (with the
 * checksum field zero) and of every byte after it: a flipped bit, a
 * zeroed run or a torn write anywhere makes the file unusable, and the
 * caller rebuilds it from the sources.  The structural checks on open stay
 * as a second line: they keep a file that hashes right but was written by a
 * buggy stitch from being read out of bounds.
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
#define CACHE_FORMAT 5u
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
	uint64_t checksum;
	uint64_t warnings_len;
};

/* The sections after the header, in file order. */
enum {
	SEC_LOCATION,
	SEC_PKGS,
	SEC_VERSIONS,
	SEC_CMDS,
	SEC_REFS,
	SEC_REQS,
	SEC_MEMBERS,
	SEC_SUCC,
	SEC_ALTS,
	SEC_STRINGS,
	SEC_WARNINGS,
	SEC__COUNT
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
	if (v->warnings_len && v->warnings[v->warnings_len - 1] != '\0')
		return 0;
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

/* XXH64 (https://github.com/Cyan4973/xxHash, xxhash_spec.md): ~10 GB/s. */
#define P64_1 0x9E3779B185EBCA87ULL
#define P64_2 0xC2B2AE3D27D4EB4FULL
#define P64_3 0x165667B19E3779F9ULL
#define P64_4 0x85EBCA77C2B2AE63ULL
#define P64_5 0x27D4EB2F165667C5ULL

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t xx_round(uint64_t acc, uint64_t in)
{
	return rotl64(acc + in * P64_2, 31) * P64_1;
}

static uint64_t xx_merge(uint64_t h, uint64_t v)
{
	return (h ^ xx_round(0, v)) * P64_1 + P64_4;
}

static uint64_t xx_stripes(const unsigned char **pp, const unsigned char *end, uint64_t seed)
{
	const unsigned char *p = *pp;
	uint64_t v1 = seed + P64_1 + P64_2, v2 = seed + P64_2, v3 = seed, v4 = seed - P64_1;

	for (; end - p >= 32; p += 32) {
		v1 = xx_round(v1, rd64(p));
		v2 = xx_round(v2, rd64(p + 8));
		v3 = xx_round(v3, rd64(p + 16));
		v4 = xx_round(v4, rd64(p + 24));
	}
	*pp = p;
	uint64_t h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
	h = xx_merge(h, v1);
	h = xx_merge(h, v2);
	h = xx_merge(h, v3);
	return xx_merge(h, v4);
}

static uint64_t xxh64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data, *end = p + len;
	uint64_t h = len >= 32 ? xx_stripes(&p, end, seed) : seed + P64_5;
	uint32_t w;

	h += len;
	for (; end - p >= 8; p += 8)
		h = rotl64(h ^ xx_round(0, rd64(p)), 27) * P64_1 + P64_4;
	if (end - p >= 4) {
		memcpy(&w, p, 4);
		h = rotl64(h ^ (uint64_t)w * P64_1, 23) * P64_2 + P64_3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl64(h ^ *p * P64_5, 11) * P64_1;
	h = (h ^ (h >> 33)) * P64_2;
	h = (h ^ (h >> 29)) * P64_3;
	return h ^ (h >> 32);
}

/* Each section's size, unpadded; the file pads each to 8. */
static void section_sizes(const struct cache_header *h, uint64_t size[SEC__COUNT])
{
	size[SEC_LOCATION] = h->location_len;
	size[SEC_PKGS] = (uint64_t)h->n_pkgs * sizeof(struct flat_pkg);
	size[SEC_VERSIONS] = (uint64_t)h->n_versions * sizeof(struct flat_version);
	size[SEC_CMDS] = (uint64_t)h->n_cmds * sizeof(struct flat_cmd);
	size[SEC_REFS] = (uint64_t)h->n_refs * 4;
	size[SEC_REQS] = (uint64_t)h->n_reqs * 4;
	size[SEC_MEMBERS] = (uint64_t)h->n_reqs * 8;
	size[SEC_SUCC] = (uint64_t)h->n_succ * 4;
	size[SEC_ALTS] = (uint64_t)h->n_alts * sizeof(struct stitch_req_alt);
	size[SEC_STRINGS] = h->strings_len;
	size[SEC_WARNINGS] = h->warnings_len;
}

/* Section offsets; returns the file length the header implies. */
static uint64_t layout(const struct cache_header *h, uint64_t off[SEC__COUNT])
{
	uint64_t size[SEC__COUNT], at = pad8(sizeof(*h));

	section_sizes(h, size);
	for (int i = 0; i < SEC__COUNT; i++) {
		off[i] = at;
		at += pad8(size[i]);
	}
	return at;
}

/*
 * The checksum of a file: its header with checksum 0, then each section
 * and its padding, chained.  Sections are hashed where they are, so the
 * writer needs no copy of the file and the reader reads the mapping once.
 */
static uint64_t file_checksum(const struct cache_header *h, const void *const src[SEC__COUNT],
                              const void *const pad[SEC__COUNT])
{
	struct cache_header z = *h;
	uint64_t size[SEC__COUNT], sum;

	z.checksum = 0;
	sum = xxh64(&z, sizeof(z), 0);
	section_sizes(h, size);
	for (int i = 0; i < SEC__COUNT; i++) {
		sum = xxh64(src[i], (size_t)size[i], sum);
		sum = xxh64(pad[i], (size_t)(pad8(size[i]) - size[i]), sum);
	}
	return sum;
}

static void header_to_view(const struct cache_header *h, const char *p,
                           const uint64_t off[SEC__COUNT], struct flat_view *v)
{
	v->pkgs = (const void *)(p + off[SEC_PKGS]);
	v->versions = (const void *)(p + off[SEC_VERSIONS]);
	v->cmds = (const void *)(p + off[SEC_CMDS]);
	v->refs = (const void *)(p + off[SEC_REFS]);
	v->reqs = (const void *)(p + off[SEC_REQS]);
	v->members = (const void *)(p + off[SEC_MEMBERS]);
	v->succ = (const void *)(p + off[SEC_SUCC]);
	v->alts = (const void *)(p + off[SEC_ALTS]);
	v->strings = p + off[SEC_STRINGS];
	v->strings_len = h->strings_len;
	v->warnings = p + off[SEC_WARNINGS];
	v->warnings_len = h->warnings_len;
	v->doc_name = h->doc_name;
	v->n_pkgs = h->n_pkgs;
	v->n_versions = h->n_versions;
	v->n_cmds = h->n_cmds;
	v->n_refs = h->n_refs;
	v->n_reqs = h->n_reqs;
	v->n_alts = h->n_alts;
	v->n_succ = h->n_succ;
}

/* Is the mapped file's header one this stitch wrote, for location, intact? */
static int header_ok(const struct cache_header *h, const struct cache_file *cf,
                     const char *location, uint64_t off[SEC__COUNT])
{
	const char *p = cf->map;

	if (memcmp(h->magic, CACHE_MAGIC, 8) != 0 || h->format != CACHE_FORMAT ||
	    h->endian != CACHE_ENDIAN || h->header_size != sizeof(*h) ||
	    h->file_len != cf->map_len || layout(h, off) != h->file_len)
		return 0;
	{
		const void *src[SEC__COUNT], *pad[SEC__COUNT];
		uint64_t size[SEC__COUNT];
		section_sizes(h, size);
		for (int i = 0; i < SEC__COUNT; i++) {
			src[i] = p + off[i];
			pad[i] = p + off[i] + size[i];
		}
		if (file_checksum(h, src, pad) != h->checksum)
			return 0;
	}
	return h->location_len == strlen(location) &&
	       memcmp(p + off[SEC_LOCATION], location, h->location_len) == 0;
}

int cache_open(struct cache_file *cf, const char *path, const char *location)
{
	struct cache_header h;
	uint64_t off[SEC__COUNT];
	struct stat st;
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
	if (!header_ok(&h, cf, location, off))
		goto bad;
	header_to_view(&h, cf->map, off, &cf->view);
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

static void view_to_header(const struct flat_view *v, const struct cache_key *key, size_t loc_len,
                           struct cache_header *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CACHE_MAGIC, 8);
	h->format = CACHE_FORMAT;
	h->endian = CACHE_ENDIAN;
	h->header_size = sizeof(*h);
	h->racy = (uint32_t)key->racy;
	memcpy(h->stamp, key->stamp, 32);
	memcpy(h->content, key->content, 32);
	h->doc_name = v->doc_name;
	h->n_pkgs = v->n_pkgs;
	h->n_versions = v->n_versions;
	h->n_cmds = v->n_cmds;
	h->n_refs = v->n_refs;
	h->n_reqs = v->n_reqs;
	h->n_alts = v->n_alts;
	h->n_succ = v->n_succ;
	h->location_len = (uint32_t)loc_len;
	h->strings_len = v->strings_len;
	h->warnings_len = v->warnings_len;
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

/* Write the file to f: the header, then each section padded with zeros to 8. */
static int write_file(FILE *f, const struct flat_view *v, const struct cache_key *key,
                      const char *location)
{
	static const char zeros[8];
	struct cache_header h;
	uint64_t off[SEC__COUNT], size[SEC__COUNT];
	const void *src[SEC__COUNT] = {location, v->pkgs,    v->versions, v->cmds,
	                               v->refs,  v->reqs,    v->members,  v->succ,
	                               v->alts,  v->strings, v->warnings};
	const void *pad[SEC__COUNT];

	view_to_header(v, key, strlen(location), &h);
	h.file_len = layout(&h, off);
	section_sizes(&h, size);
	for (int i = 0; i < SEC__COUNT; i++)
		pad[i] = zeros;
	h.checksum = file_checksum(&h, src, pad);
	if (write_all(f, &h, sizeof(h), (size_t)off[0]))
		return -1;
	for (int i = 0; i < SEC__COUNT; i++)
		if (write_all(f, src[i], (size_t)size[i], (size_t)pad8(size[i])))
			return -1;
	return 0;
}

int cache_write(const char *path, const char *location, const struct cache_key *key,
                const struct flat_view *v)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f;
	int rc = -1;

	f = fopen(tmp, "wbe");
	if (!f)
		goto out;
	if (write_file(f, v, key, location) != 0) {
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
