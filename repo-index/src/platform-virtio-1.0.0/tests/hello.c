/*
 * hello.c: the smallest image: print the command line, exit 3.  With
 * "crash" on the command line it writes through a NULL pointer instead;
 * with "overflow" it recurses until the stack runs out; with "smash" it
 * writes past an array (boot.sh compiles it with -fstack-protector-all);
 * with "clock" it prints the wall clock and sleeps 100 ms in plat_yield.
 */
#include <stdio.h>
#include <string.h>

#include "platform.h"

static int deep(volatile char *up)
{
	volatile char frame[1024];

	frame[0] = up ? up[0] : 1;
	return deep(frame) + frame[0];
}

__attribute__((noinline)) static void smash(const char *s)
{
	volatile char buf[8];

	for (size_t i = 0; s[i]; i++)
		buf[i] = s[i];
}

int plat_app_main(const struct plat_start_info *si)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "hello: cmdline='%s'\n", si->cmdline);

	plat_console_write(line, (size_t)n);
	if (strstr(si->cmdline, "crash")) {
		volatile int *volatile null = NULL;

		*null = 1;
	}
	if (strstr(si->cmdline, "clock")) {
		plat_time_t t0 = plat_clock_monotonic();
		bool frame = plat_yield(t0 + 100000000u);

		n = snprintf(line, sizeof(line), "wall %llu slept %llu ms frame %d\n",
		             (unsigned long long)(plat_clock_wall() / 1000000000u),
		             (unsigned long long)((plat_clock_monotonic() - t0) / 1000000u), frame);
		plat_console_write(line, (size_t)n);
	}
	if (strstr(si->cmdline, "smash"))
		smash(si->cmdline);
	if (strstr(si->cmdline, "overflow"))
		return deep(NULL);
	return 3;
}
