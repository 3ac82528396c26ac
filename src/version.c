#include "version.h"

#include <string.h>

/*
 * Everything here is byte-based and locale-free on purpose: the solver
 * compares versions millions of times, and the order must be the same on
 * every machine whatever LC_CTYPE says.
 */

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool is_alnum(unsigned char c)
{
	return is_digit(c) || is_alpha(c);
}

/*
 * The weight of one position of a non-digit run; end is true past the run.
 * '~' sorts before the end of the run, the end before letters, letters
 * before every other byte (in byte order).
 */
static inline int weight(unsigned char c, bool end)
{
	if (end)
		return 0;
	if (c == '~')
		return -1;
	if (is_alpha(c))
		return c;
	return c + 256;
}

/*
 * Compare the digit runs at *pa and *pb numerically without converting
 * them: skip leading zeros, then the longer run is larger, and between runs
 * of one length the first differing digit decides.  Advances both pointers
 * past their runs when they are equal.
 */
static int cmp_digits(const unsigned char **pa, const unsigned char *ea, const unsigned char **pb,
                      const unsigned char *eb)
{
	const unsigned char *a = *pa, *b = *pb;
	int first = 0;

	while (a < ea && *a == '0')
		a++;
	while (b < eb && *b == '0')
		b++;
	for (;;) {
		bool da = a < ea && is_digit(*a);
		bool db = b < eb && is_digit(*b);

		if (!da || !db) {
			if (da != db)
				return da ? 1 : -1;
			break;
		}
		if (!first && *a != *b)
			first = *a < *b ? -1 : 1;
		a++;
		b++;
	}
	*pa = a;
	*pb = b;
	return first;
}

int stitch_version_cmpn(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char *pa = (const unsigned char *)a, *ea = pa + alen;
	const unsigned char *pb = (const unsigned char *)b, *eb = pb + blen;

	while (pa < ea || pb < eb) {
		/* The non-digit run, possibly empty on either side. */
		for (;;) {
			bool enda = pa >= ea || is_digit(*pa);
			bool endb = pb >= eb || is_digit(*pb);
			int wa, wb;

			if (enda && endb)
				break;
			wa = weight(enda ? 0 : *pa, enda);
			wb = weight(endb ? 0 : *pb, endb);
			if (wa != wb)
				return wa < wb ? -1 : 1;
			pa++;
			pb++;
		}
		/* The digit run; an empty one counts as zero. */
		int c = cmp_digits(&pa, ea, &pb, eb);
		if (c)
			return c;
	}
	return 0;
}

int stitch_version_cmp(const char *a, const char *b)
{
	return stitch_version_cmpn(a, strlen(a), b, strlen(b));
}

/*
 * Each run is one 16-bit field holding its value plus one, so that a
 * missing run (0) sorts before any run, even "0": "1.2" < "1.2.0", as the
 * end of a version sorts before the '.' that would continue it.
 */
uint64_t stitch_version_key(const char *s)
{
	uint64_t key = 0;
	int runs = 0;

	for (;;) {
		unsigned v = 0, digits = 0;
		for (; is_digit((unsigned char)*s); s++, digits++)
			v = v * 10 + (unsigned)(*s - '0');
		if (digits == 0 || digits > 4 || runs == 4)
			return 0;
		key |= (uint64_t)(v + 1) << (48 - 16 * runs++);
		if (*s == '\0')
			return key;
		if (*s++ != '.')
			return 0;
	}
}

static int cut_cmp(const char *const *versions, const uint64_t *keys, int i, const char *v,
                   uint64_t vkey)
{
	if (keys[i] && vkey)
		return (keys[i] > vkey) - (keys[i] < vkey);
	return stitch_version_cmp(versions[i], v);
}

void stitch_version_cut(const char *const *versions, const uint64_t *keys, int n, const char *v,
                        uint64_t vkey, int *lo, int *hi)
{
	int l = 0, h = n;

	while (l < h) {
		int mid = l + (h - l) / 2;
		if (cut_cmp(versions, keys, mid, v, vkey) <= 0)
			h = mid;
		else
			l = mid + 1;
	}
	*lo = *hi = l;
	if (l < n && cut_cmp(versions, keys, l, v, vkey) == 0)
		++*hi;
}

static inline bool is_name_char(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '+' || c == '.' || c == '-';
}

bool stitch_version_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_name_char(c) && c != '~')
			return false;
	}
	return true;
}

bool stitch_name_valid(const char *s, size_t len)
{
	if (len == 0 || !is_alnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_name_char((unsigned char)s[i]))
			return false;
	return true;
}
