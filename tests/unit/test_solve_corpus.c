/*
 * The resolver fuzzer's corpus (tests/fuzz/corpus/solve), replayed through
 * the fuzz target's own checks without libFuzzer, so that every input that
 * once found a bug is checked by make check: the target aborts on a wrong
 * answer, or on an answer that failed the resolver's own check, which
 * fails this program.
 */
#include <dirent.h>
#include <stdlib.h>

#include "../fuzz/fuzz_solve.c"
#include "test.h"

int main(void)
{
	const char *top = getenv("STITCH_TOP");
	char dir[4096], path[8192];
	struct dirent **names;
	int n;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/solve", top ? top : ".");
	n = scandir(dir, &names, NULL, alphasort);
	CHECK(n > 0);
	for (int i = 0; i < n; i++) {
		static uint8_t buf[1 << 16];
		size_t len;
		FILE *f;
		if (names[i]->d_name[0] == '.') {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		f = fopen(path, "rb");
		CHECK(f != NULL);
		if (f) {
			len = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			LLVMFuzzerTestOneInput(buf, len);
			printf("ok - corpus %s\n", names[i]->d_name);
			test_passed++;
		}
		free(names[i]);
	}
	free(names);
	return test_failed_checks ? 1 : test_summary();
}
