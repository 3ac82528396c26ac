/* Unit tests for src/version.c: ordering, validity, and order properties. */
#include <stdint.h>
#include <stdlib.h>

#include "test.h"
#include "version.h"

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* a < b, checked in both directions; reports the pair on failure. */
static void check_less(const char *a, const char *b, int line)
{
	int ab = stitch_version_cmp(a, b), ba = stitch_version_cmp(b, a);

	if (ab >= 0 || ba <= 0) {
		printf("# %s:%d: expected '%s' < '%s', got cmp = %d / %d\n", __FILE__, line, a, b,
		       ab, ba);
		test_failed_checks++;
	}
}

static void check_equal(const char *a, const char *b, int line)
{
	int ab = stitch_version_cmp(a, b), ba = stitch_version_cmp(b, a);

	if (ab != 0 || ba != 0) {
		printf("# %s:%d: expected '%s' = '%s', got cmp = %d / %d\n", __FILE__, line, a, b,
		       ab, ba);
		test_failed_checks++;
	}
}

#define LESS(a, b) check_less((a), (b), __LINE__)
#define EQUAL(a, b) check_equal((a), (b), __LINE__)

static int n_pairs;

/* Every element of the NULL-terminated chain is less than every later one. */
static void check_chain(const char *const *v, int line)
{
	for (int i = 0; v[i]; i++) {
		check_equal(v[i], v[i], line);
		for (int j = i + 1; v[j]; j++) {
			check_less(v[i], v[j], line);
			n_pairs++;
		}
	}
}

static void test_spec_examples(void)
{
	/* index-format.md section 3, in order. */
	static const char *const chain[] = {
	    "1.0~beta", "1.0", "1.0a", "1.0+x", "1.0.1", "1.0.2", "1.10", NULL,
	};
	check_chain(chain, __LINE__);
	EQUAL("1.00.2", "1.0.2");
	LESS("1.0.1", "1.00.2");
	LESS("1.00.2", "1.10");
}

static void test_tilde(void)
{
	static const char *const chain[] = {
	    "1.0~~", "1.0~~a", "1.0~", "1.0~a", "1.0~rc1", "1.0~rc2", "1.0", NULL,
	};
	check_chain(chain, __LINE__);
	/* '~' sorts before the end of a run, even an empty string */
	LESS("~", "");
	LESS("~~", "~");
	LESS("~1", "");
	LESS("~", "0");
	LESS("1~", "1");
	LESS("a~", "a");
	LESS("1.0~rc1", "1.0.0");
	LESS("2.0~rc1", "2.0");
	LESS("2.0~rc9a", "2.0~rc10");
	LESS("2.0~rc9", "2.0~rc10");
}

static void test_non_digit_runs(void)
{
	static const char *const chain[] = {"1", "1a", "1aa", "1b", "1z", NULL};
	/* uppercase sorts before lowercase in ASCII, both are letters */
	static const char *const letters[] = {"1A", "1Z", "1a", "1z", "1+", "1-", "1.", "1_", NULL};
	static const char *const others[] = {"a", "a+", "a-", "a.", "a_", NULL};

	check_chain(chain, __LINE__);
	check_chain(letters, __LINE__);
	check_chain(others, __LINE__);
	LESS("1", "1a");
	LESS("1a", "1aa");
	LESS("1a", "1b");
	LESS("1z", "1+");
	LESS("1.0", "1.0a");
	LESS("1.0a", "1.0.0");
	LESS("1.0z", "1.0.");
	LESS("1.0+", "1.0.");
	LESS("1.0-", "1.0.");
	LESS("1.0.", "1.0_");
	LESS("", "a");
	LESS("a", "b");
	LESS("alpha", "beta");
	LESS("beta", "rc");
	LESS("1.0-1", "1.0-2");
	LESS("1.0-rc", "1.0.0");
	/* a non-digit run beats an end of string, whatever the digits */
	LESS("1", "1.0");
	LESS("1.0", "1.0.0");
	/* bytes outside ASCII are "other" characters, after letters */
	LESS("1z", "1\xc3\xa9");
	LESS("1.", "1\xc3\xa9");
}

static void test_digit_runs(void)
{
	static const char *const chain[] = {
	    "0",
	    "1",
	    "2",
	    "9",
	    "10",
	    "11",
	    "99",
	    "100",
	    "1000",
	    "4294967295",
	    "4294967296",
	    "18446744073709551615",
	    "18446744073709551616",
	    "99999999999999999999999",
	    "100000000000000000000000",
	    "123456789012345678901234567890",
	    "123456789012345678901234567891",
	    "1234567890123456789012345678900",
	    NULL,
	};
	check_chain(chain, __LINE__);
	EQUAL("0001", "1");
	EQUAL("0", "00");
	EQUAL("0", ""); /* an empty digit run is zero */
	EQUAL("1.0", "1.00");
	EQUAL("1.0", "01.000");
	EQUAL("1.00.2", "1.0.2");
	EQUAL("000000000000000000000000000000000000001", "1");
	EQUAL("1.00000000000000000000000000000000000000000000000000000000000000002", "1.2");
	EQUAL("v00123456789012345678901234567890", "v123456789012345678901234567890");
	EQUAL("a0", "a"); /* a trailing zero run equals an absent one */
	LESS("1.9", "1.10");
	LESS("1.09", "1.10");
	LESS("1.2.3", "1.2.10");
	LESS("1.2.3", "1.10.0");
	LESS("9", "10");
	LESS("0009", "10");
	LESS("0.9999999999999999999999", "1.0");
	LESS("2.99999999999999999999999999", "10");
	LESS("r1", "r10");
	LESS("1.0.0.0.0.0.0.0.0.1", "1.0.0.0.0.0.0.0.0.2");
}

static void test_equal_strings(void)
{
	static const char *const v[] = {
	    "",   "0", "1", "1.0", "1.0~rc1", "a", "~", "~~", "1.0+x", "12345678901234567890123",
	    NULL,
	};
	for (int i = 0; v[i]; i++)
		EQUAL(v[i], v[i]);
}

static void test_cmpn_lengths(void)
{
	/* cmpn must read only alen and blen bytes */
	CHECK_INT(stitch_version_cmpn("1.0xyz", 3, "1.0", 3), 0);
	CHECK(stitch_version_cmpn("1.0~", 3, "1.0~", 4) > 0);
	CHECK(stitch_version_cmpn("1.0~", 4, "1.0~", 3) < 0);
	CHECK(stitch_version_cmpn("123", 2, "123", 3) < 0);
	CHECK_INT(stitch_version_cmpn("", 0, "", 0), 0);
	CHECK_INT(stitch_version_cmpn("x", 0, "0", 1), 0);
	/* a NUL byte inside the length is an ordinary "other" character */
	CHECK(stitch_version_cmpn("1\0", 2, "1a", 2) > 0);
	CHECK(stitch_version_cmpn("1\0", 2, "1", 1) > 0);
}

static void test_name_valid(void)
{
	static const char *const good[] = {
	    "a",       "A",  "0",  "tcp", "platform-unix", "c++", "a.b_c", "0abc", "mbedtls",
	    "lib-2.0", "x_", "x.", NULL,
	};
	static const char *const bad[] = {
	    "",    "-a", "_a",  ".a",          "+a",  "~a", "a~b", "a b",
	    "a/b", "a{", "a|b", "caf\xc3\xa9", "a\"", " a", "a ",  NULL,
	};
	for (int i = 0; good[i]; i++)
		CHECK(stitch_name_valid(good[i], strlen(good[i])));
	for (int i = 0; bad[i]; i++)
		if (stitch_name_valid(bad[i], strlen(bad[i]))) {
			printf("# %s:%d: name '%s' accepted\n", __FILE__, __LINE__, bad[i]);
			test_failed_checks++;
		}
	CHECK(!stitch_name_valid("a\0b", 3));
	CHECK(stitch_name_valid("ab-", 2));
	CHECK(!stitch_name_valid("-ab", 0));
}

static void test_version_valid(void)
{
	static const char *const good[] = {
	    "1", "0", "~",     "1.0~rc1", "a_b+c-d.e", "-",  "_",
	    ".", "+", "1.0+x", "2.0~rc1", "ABC",       NULL,
	};
	static const char *const bad[] = {
	    "",    "1 0", "1/0", "\"1\"",     "1,0", "1:0", "1{", "1|2",
	    "1&2", ">=1", "!",   "1\xc3\xa9", " 1",  "1\t", NULL,
	};
	for (int i = 0; good[i]; i++)
		CHECK(stitch_version_valid(good[i], strlen(good[i])));
	for (int i = 0; bad[i]; i++)
		if (stitch_version_valid(bad[i], strlen(bad[i]))) {
			printf("# %s:%d: version '%s' accepted\n", __FILE__, __LINE__, bad[i]);
			test_failed_checks++;
		}
	CHECK(!stitch_version_valid("1\0", 2));
	CHECK(stitch_version_valid("1 ", 1));
}

/* --- properties over random versions --- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64: deterministic on every machine */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned rnd(unsigned n)
{
	return (unsigned)(rng() % n);
}

#define VMAX 48

/*
 * A random version from a small alphabet, so that equal runs, '~', leading
 * zeros and prefixes are frequent.
 */
static void random_version(char *out)
{
	static const char alpha[] = "~~..+-_aabzAZ";
	unsigned n = rnd(8), len = 0;

	for (unsigned i = 0; i < n && len < VMAX - 12; i++) {
		if (rnd(2)) {
			unsigned k = 1 + rnd(3);
			if (rnd(4) == 0)
				out[len++] = '0';
			for (unsigned j = 0; j < k; j++)
				out[len++] = (char)('0' + rnd(j == 0 && rnd(2) ? 3 : 10));
		} else {
			unsigned k = 1 + rnd(2);
			for (unsigned j = 0; j < k; j++)
				out[len++] = alpha[rnd(sizeof(alpha) - 1)];
		}
	}
	out[len] = '\0';
}

/*
 * An independent, plain implementation of the Debian algorithm (as in
 * dpkg's verrevcmp), used as an oracle for short digit runs.
 */
static int ref_order(int c)
{
	if (c >= '0' && c <= '9')
		return 0;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int ref_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		int first_diff = 0;

		while ((*a && !(*a >= '0' && *a <= '9')) || (*b && !(*b >= '0' && *b <= '9'))) {
			int ac = ref_order((unsigned char)*a), bc = ref_order((unsigned char)*b);
			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (*a >= '0' && *a <= '9')
			return 1;
		if (*b >= '0' && *b <= '9')
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

#define NRAND 4000

static char pool[NRAND][VMAX];

static void fill_pool(uint64_t seed)
{
	rng_state = seed;
	for (int i = 0; i < NRAND; i++)
		random_version(pool[i]);
}

static void test_prop_oracle(void)
{
	int bad = 0;

	fill_pool(0x9e3779b97f4a7c15ull);
	for (int i = 0; i < NRAND; i++)
		for (int k = 0; k < 10; k++) {
			const char *a = pool[i], *b = pool[rnd(NRAND)];
			if (sign(stitch_version_cmp(a, b)) != sign(ref_cmp(a, b)) && bad++ < 5)
				printf("# cmp('%s', '%s') = %d, reference says %d\n", a, b,
				       stitch_version_cmp(a, b), ref_cmp(a, b));
		}
	CHECK_INT(bad, 0);
}

static void test_prop_antisymmetry_reflexivity(void)
{
	int bad = 0;

	fill_pool(12345);
	for (int i = 0; i < NRAND; i++) {
		char copy[VMAX];

		memcpy(copy, pool[i], VMAX);
		if (stitch_version_cmp(pool[i], copy) != 0)
			bad++;
		for (int k = 0; k < 10; k++) {
			const char *a = pool[i], *b = pool[rnd(NRAND)];
			if (sign(stitch_version_cmp(a, b)) != -sign(stitch_version_cmp(b, a)))
				bad++;
		}
	}
	CHECK_INT(bad, 0);
}

static void test_prop_transitivity(void)
{
	int bad = 0, checked = 0;

	fill_pool(777);
	for (int n = 0; n < 200000; n++) {
		const char *a = pool[rnd(NRAND)], *b = pool[rnd(NRAND)], *c = pool[rnd(NRAND)];
		int ab = sign(stitch_version_cmp(a, b));
		int bc = sign(stitch_version_cmp(b, c));
		int ac = sign(stitch_version_cmp(a, c));

		if (ab <= 0 && bc <= 0) {
			checked++;
			/* a <= b <= c implies a <= c, strictly if either step is */
			if (ac > 0 || (ac == 0 && (ab < 0 || bc < 0)))
				bad++;
		}
		if (ab == 0 && ac != bc)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK(checked > 10000);
}

/* Insert or remove leading zeros of every digit run of v into out. */
static void rezero(const char *v, char *out, size_t cap, bool strip)
{
	size_t len = 0;
	bool in_digits = false;

	for (; *v && len + 4 < cap; v++) {
		bool d = *v >= '0' && *v <= '9';
		if (d && !in_digits) {
			if (strip) {
				while (v[0] == '0' && v[1] >= '0' && v[1] <= '9')
					v++;
			} else {
				for (unsigned k = rnd(3); k > 0; k--)
					out[len++] = '0';
			}
		}
		in_digits = d;
		out[len++] = *v;
	}
	out[len] = '\0';
}

static void test_prop_leading_zeros(void)
{
	int bad = 0;

	fill_pool(4242);
	for (int i = 0; i < NRAND; i++) {
		char more[4 * VMAX], less[4 * VMAX];

		rezero(pool[i], more, sizeof(more), false);
		rezero(pool[i], less, sizeof(less), true);
		if (stitch_version_cmp(pool[i], more) != 0 ||
		    stitch_version_cmp(more, pool[i]) != 0 ||
		    stitch_version_cmp(pool[i], less) != 0 || stitch_version_cmp(less, more) != 0) {
			if (bad++ < 5)
				printf("# '%s' / '%s' / '%s' not all equal\n", pool[i], more, less);
		}
		/* and the order against another version is unchanged */
		const char *other = pool[rnd(NRAND)];
		if (sign(stitch_version_cmp(more, other)) !=
		    sign(stitch_version_cmp(pool[i], other)))
			bad++;
	}
	CHECK_INT(bad, 0);
}

static int qsort_cmp(const void *a, const void *b)
{
	return stitch_version_cmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_prop_sort(void)
{
	static const char *v[NRAND];
	int bad = 0;

	fill_pool(31337);
	for (int i = 0; i < NRAND; i++)
		v[i] = pool[i];
	qsort(v, NRAND, sizeof(v[0]), qsort_cmp);
	for (int i = 0; i + 1 < NRAND; i++)
		if (stitch_version_cmp(v[i], v[i + 1]) > 0 ||
		    stitch_version_cmp(v[i + 1], v[i]) < 0)
			bad++;
	/* any two elements, not just neighbours, are in order */
	for (int n = 0; n < 100000; n++) {
		int i = (int)rnd(NRAND), j = (int)rnd(NRAND);
		if (i > j) {
			int t = i;
			i = j;
			j = t;
		}
		if (stitch_version_cmp(v[i], v[j]) > 0)
			bad++;
	}
	CHECK_INT(bad, 0);
}

static int sign64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static void test_key(void)
{
	static const char *const keyed[] = {
	    "0",          "1",       "1.0",
	    "1.00.2",     "1.0.2",   "1.2",
	    "1.2.0",      "1.10",    "9999.9999.9999.9999",
	    "2022.11.01", "0.0.0.0", NULL,
	};
	static const char *const unkeyed[] = {
	    "", "1.", ".1", "1..2", "1.0~rc1", "1.0+x", "1a", "12345", "1.2.3.4.5", "v1", NULL,
	};
	for (int i = 0; keyed[i]; i++) {
		CHECK(stitch_version_key(keyed[i]) != 0);
		for (int j = 0; keyed[j]; j++)
			if (sign64(stitch_version_key(keyed[i]), stitch_version_key(keyed[j])) !=
			    sign(stitch_version_cmp(keyed[i], keyed[j]))) {
				printf("# keys of '%s' and '%s' disagree with the order\n",
				       keyed[i], keyed[j]);
				test_failed_checks++;
			}
	}
	for (int i = 0; unkeyed[i]; i++)
		if (stitch_version_key(unkeyed[i]) != 0) {
			printf("# '%s' has a key\n", unkeyed[i]);
			test_failed_checks++;
		}
}

/* Random dotted versions: keys order them exactly as the comparison does. */
static void test_prop_key(void)
{
	char a[32], b[32];
	int keyed = 0;

	rng_state = 0x5eed0f4e75ULL;
	for (int i = 0; i < 200000; i++) {
		char *o[2] = {a, b};
		for (int k = 0; k < 2; k++) {
			int len = 0, runs = 1 + (int)rnd(5);
			for (int r = 0; r < runs; r++) {
				int d = 1 + (int)rnd(5);
				if (r)
					o[k][len++] = '.';
				for (int x = 0; x < d; x++)
					o[k][len++] = (char)('0' + rnd(rnd(2) ? 2 : 10));
			}
			o[k][len] = '\0';
		}
		uint64_t ka = stitch_version_key(a), kb = stitch_version_key(b);
		if (!ka || !kb)
			continue;
		keyed++;
		if (sign64(ka, kb) != sign(stitch_version_cmp(a, b))) {
			printf("# keys of '%s' and '%s' disagree with the order\n", a, b);
			test_failed_checks++;
			return;
		}
	}
	CHECK(keyed > 10000);
}

int main(void)
{
	RUN(test_spec_examples);
	RUN(test_tilde);
	RUN(test_non_digit_runs);
	RUN(test_digit_runs);
	RUN(test_equal_strings);
	RUN(test_cmpn_lengths);
	RUN(test_name_valid);
	RUN(test_version_valid);
	RUN(test_prop_oracle);
	RUN(test_prop_antisymmetry_reflexivity);
	RUN(test_prop_transitivity);
	RUN(test_prop_leading_zeros);
	RUN(test_prop_sort);
	RUN(test_key);
	RUN(test_prop_key);
	printf("# %d ordered pairs checked in chains\n", n_pairs);
	return test_summary();
}
