/* test_api.c: what this version of the API says about itself. */
#include "check.h"
#include "wire.h"

void run_api_tests(void);

static void test_api_version(void)
{
	CHECK(TCP_API_VERSION == 0x010000);
}

void run_api_tests(void)
{
	CHECK_TEST(test_api_version);
}
