/*
 * fake_platform.h: the platform contract played by the tests.  Frames the
 * stack writes are captured in fake_out; frames pushed with fake_in_push
 * are what plat_net_read returns; the clock is fake_now.
 */
#ifndef FAKE_PLATFORM_H
#define FAKE_PLATFORM_H

#include "platform.h"

#define FAKE_FRAMES 64

struct fake_frame {
	uint8_t data[1600];
	size_t len;
};

extern struct fake_frame fake_out[FAKE_FRAMES];
extern size_t fake_out_n;
extern plat_time_t fake_now;
extern uint8_t fake_mac[6];
extern int fake_has_net; /* 0: plat_net_info fails */
extern plat_result_t fake_write_result;

void fake_reset(void);
void fake_in_push(const void *frame, size_t len);
size_t fake_in_pending(void);

#endif
