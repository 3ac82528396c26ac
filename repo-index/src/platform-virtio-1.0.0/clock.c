/*
 * clock.c: the clocks.  Monotonic time is the TSC, whose rate is measured
 * once at boot against the PIT (its input runs at a fixed 1.193182 MHz);
 * wall time is the CMOS RTC, read once at boot, plus the monotonic time
 * since.  Both are read when asked: no timer interrupt keeps them.
 */
#include "io.h"
#include "platform_internal.h"

#define PIT_HZ 1193182u
#define PIT_CALIBRATE_TICKS 11932u /* 10 ms */
#define NS_PER_S 1000000000ull

static uint64_t tsc_at_boot;
static uint64_t ns_per_tick_q32; /* nanoseconds per TSC tick, 32.32 fixed point */
static plat_time_t wall_at_boot;

/* TSC ticks per second, counted over a one-shot of PIT channel 2 (Linux's way). */
static uint64_t tsc_hz(void)
{
	uint64_t t0, t1;

	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0); /* channel 2, lo/hi byte, mode 0: OUT rises at zero */
	outb(0x42, PIT_CALIBRATE_TICKS & 0xff);
	outb(0x42, PIT_CALIBRATE_TICKS >> 8);
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		cpu_relax();
	t1 = rdtsc();
	return (t1 - t0) * PIT_HZ / PIT_CALIBRATE_TICKS;
}

static int cmos(int reg)
{
	outb(0x70, (uint8_t)reg);
	return inb(0x71);
}

struct rtc {
	int sec, min, hour, day, mon, year, century;
};

static void rtc_read(struct rtc *t)
{
	while (cmos(0x0a) & 0x80) /* an update is in progress */
		cpu_relax();
	*t = (struct rtc){cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07),
	                  cmos(0x08), cmos(0x09), cmos(0x32)};
}

/* Seconds since the epoch from the RTC, read until two reads agree. */
static uint64_t rtc_seconds(void)
{
	struct rtc a, b;
	int status_b, pm;

	rtc_read(&b);
	do {
		a = b;
		rtc_read(&b);
	} while (a.sec != b.sec || a.min != b.min || a.hour != b.hour || a.day != b.day);
	status_b = cmos(0x0b);
	pm = a.hour & 0x80;
	a.hour &= 0x7f;
	if (!(status_b & 0x04)) { /* BCD, QEMU's default */
		a.sec = plat_bcd(a.sec), a.min = plat_bcd(a.min), a.hour = plat_bcd(a.hour);
		a.day = plat_bcd(a.day), a.mon = plat_bcd(a.mon), a.year = plat_bcd(a.year);
		a.century = plat_bcd(a.century);
	}
	if (!(status_b & 0x02) && pm) /* 12-hour clock */
		a.hour = (a.hour % 12) + 12;
	if (a.century < 19)
		a.century = 20;
	return plat_epoch_seconds(a.century * 100 + a.year, a.mon, a.day, a.hour, a.min, a.sec);
}

void plat_clock_init(void)
{
	uint64_t hz = tsc_hz();

	ns_per_tick_q32 = (NS_PER_S << 32) / (hz ? hz : 1);
	tsc_at_boot = rdtsc();
	wall_at_boot = rtc_seconds() * NS_PER_S;
}

plat_time_t plat_clock_monotonic(void)
{
	unsigned __int128 ns = (unsigned __int128)(rdtsc() - tsc_at_boot) * ns_per_tick_q32;

	return (plat_time_t)(ns >> 32);
}

plat_time_t plat_clock_wall(void)
{
	return wall_at_boot + plat_clock_monotonic();
}
