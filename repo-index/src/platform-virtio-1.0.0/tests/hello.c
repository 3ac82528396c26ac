/* hello.c: the smallest image: print the command line, exit 3. */
#include <stdio.h>
#include <string.h>

#include "platform.h"

int plat_app_main(const struct plat_start_info *si)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "hello: cmdline='%s'\n", si->cmdline);

	plat_console_write(line, (size_t)n);
	return 3;
}
