/*
 * platform_internal.h: the pieces of the virtio platform that plat_boot()
 * glues together.  The pure ones (the command line, the date arithmetic)
 * are unit-tested on the host; the rest touch the hardware.  Not installed.
 */
#ifndef PLATFORM_INTERNAL_H
#define PLATFORM_INTERNAL_H

#include "platform.h"

#define PLAT_MTU 1500
#define PLAT_EXIT_USAGE 2

/* What QEMU's PVH boot hands over (Xen's struct hvm_start_info, version 1). */
#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 and later */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* 1: usable RAM */
	uint32_t reserved;
};

/* Called by boot.S in long mode, with the start info QEMU gave. */
void plat_boot(const struct hvm_start_info *si) __attribute__((noreturn));

struct plat_args {
	bool have_mac; /* --mac= was given */
	uint8_t mac[6];
	char *cmdline; /* everything else, space-joined; owned, never NULL after parse */
};

/*
 * Take the platform's options out of the boot command line raw (words
 * separated by spaces): --mac=XX:XX:XX:XX:XX:XX replaces the device's
 * address, --net=NAME is accepted and ignored (the NIC is the one
 * virtio-net device; runners may pass it to every target alike).  The
 * rest, and everything after "--", becomes cmdline, as on unix.  0, or -1
 * with a one-line message in err.  Release even after a failure.
 */
int plat_args_parse(const char *raw, struct plat_args *a, char *err, size_t errsize);
void plat_args_release(struct plat_args *a);
/* "02:00:5e:10:00:01" (hex, either case) into mac.  0 or -1. */
int plat_mac_parse(const char *s, uint8_t mac[6]);

/* Seconds since the Unix epoch of a UTC calendar date (year >= 1970). */
uint64_t plat_epoch_seconds(int year, int month, int day, int hour, int min, int sec);
/* BCD as the RTC keeps it, to binary. */
int plat_bcd(int v);

/* Send the CPU's exceptions to plat_crash. */
void plat_exceptions_init(void);
/* Take the 4 KiB page at addr out of the identity map, so that touching it faults. */
void plat_unmap_page(uintptr_t addr);
/* boot.S: the page below the stack. */
extern char plat_stack_guard[];
/* End the machine by a triple fault (QEMU exits 0 with -no-reboot). */
void plat_reset(void) __attribute__((noreturn));
/* From boot.S: say which exception happened where, and end the image as a crash. */
void plat_crash(uint64_t vector, uint64_t error, uint64_t rip) __attribute__((noreturn));

/* The PICs remapped to vectors 32-47, all lines masked. */
void plat_irq_init(void);
/* Let line irq (0-15) interrupt a halt. */
void plat_irq_enable(int irq);
/* For boot.S's handler: the network device's line and its ISR register's port. */
extern int32_t plat_nic_irq;
extern uint16_t plat_nic_isr_port;
/* Halt until an interrupt or for at most ns (capped at 55 ms, the PIT's reach). */
void plat_wait(plat_time_t ns);
/* boot.S: sti; hlt; cli. */
void plat_halt(void);

/* COM1 at 115200 8N1. */
void plat_console_init(void);
/* Calibrate the TSC against the PIT and read the RTC once. */
void plat_clock_init(void);
/* Find and start the virtio-net device.  false when there is none (*err
 * NULL) or when it cannot be used (*err says why). */
bool plat_net_init(const char **err);
/* Use mac instead of the device's address (--mac=). */
void plat_net_set_mac(const uint8_t mac[6]);

#endif
