/*
 * test_header.c: platform.h compiles on its own and says what the stack
 * relies on: its result codes are distinct and OK is zero, a frame's size
 * fits the MTU the contract promises.
 */
#include <stdio.h>

#include "platform.h"

/* The application's entry, which the contract leaves to the image. */
int plat_app_main(const struct plat_start_info *si)
{
	return si->cmdline != NULL;
}

int main(void)
{
	int failed = 0;
	struct plat_net_info info = {{0}, 1500};

	failed += PLAT_R_OK != 0;
	failed += PLAT_R_AGAIN == PLAT_R_EINVAL || PLAT_R_EINVAL == PLAT_R_EUNSPEC;
	failed += sizeof(plat_time_t) != 8;
	failed += info.mtu != 1500 || sizeof(info.mac_address) != 6;
	printf("platform-api: %s\n", failed ? "the contract is broken" : "the contract holds");
	return failed != 0;
}
