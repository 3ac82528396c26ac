/* clock_date.c: calendar arithmetic for the RTC, free of hardware so it is unit-tested. */
#include "platform_internal.h"

int plat_bcd(int v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

uint64_t plat_epoch_seconds(int year, int month, int day, int hour, int min, int sec)
{
	int64_t days = days_from_civil(year, month, day);

	return (uint64_t)(days * 86400 + hour * 3600 + min * 60 + sec);
}
