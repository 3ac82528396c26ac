/* platform_sys.c: console, clocks and exit on Linux. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

void plat_console_write(const char *buf, size_t size)
{
	while (size > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the console is gone: nothing useful left to do */
		buf += n;
		size -= (size_t)n;
	}
}

void plat_exit(int status)
{
	exit(status);
}

static plat_time_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (plat_time_t)ts.tv_sec * 1000000000u + (plat_time_t)ts.tv_nsec;
}

plat_time_t plat_clock_monotonic(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

plat_time_t plat_clock_wall(void)
{
	return clock_ns(CLOCK_REALTIME);
}
