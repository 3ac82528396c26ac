/*
 * start.c: from boot.S to the application, and back out through QEMU.
 *
 * plat_boot sets up the console, the heap (the RAM after the image), the
 * clocks and the network device, takes the platform's options out of the
 * command line and calls plat_app_main; its status ends the image.
 */
#include "io.h"
#include "libc.h"
#include "platform_internal.h"

/*
 * QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=0x04)
 * ends QEMU with the status (v << 1) | 1 for a write of v.
 */
#define DEBUG_EXIT_PORT 0xf4
#define FALLBACK_HEAP (8u << 20)
#define MAX_RAM_END 0x100000000ull /* what boot.S maps */

extern char _end[];

static void say(const char *msg)
{
	plat_console_write(msg, strlen(msg));
}

/*
 * Without the exit device the write does nothing; then a triple fault
 * (no IDT, then an exception) resets the machine, which ends QEMU when
 * run with -no-reboot.
 */
void plat_exit(int status)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = {0, 0};

	outl(DEBUG_EXIT_PORT, (uint32_t)status & 0x7f);
	__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* The heap: from the end of the image to the end of the RAM range holding it. */
static void heap_setup(const struct hvm_start_info *si)
{
	uintptr_t start = (uintptr_t)_end;
	uint64_t end = start + FALLBACK_HEAP; /* no memory map before version 1 */

	if (si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *m =
			(const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;

		for (uint32_t i = 0; i < si->memmap_entries; i++)
			if (m[i].type == 1 && m[i].addr <= start && start < m[i].addr + m[i].size)
				end = m[i].addr + m[i].size;
	}
	if (end > MAX_RAM_END)
		end = MAX_RAM_END;
	plat_heap_init((void *)start, (size_t)(end - start));
}

void plat_boot(const struct hvm_start_info *si)
{
	struct plat_args args;
	struct plat_start_info start;
	const char *raw = "";
	char err[160];

	plat_console_init();
	if (si->magic != HVM_START_MAGIC) {
		say("platform-virtio: not started through PVH\n");
		plat_exit(PLAT_EXIT_USAGE);
	}
	heap_setup(si);
	plat_clock_init();
	if (si->cmdline_paddr)
		raw = (const char *)(uintptr_t)si->cmdline_paddr;
	if (plat_args_parse(raw, &args, err, sizeof(err)) < 0) {
		say("platform-virtio: ");
		say(err);
		say("\n");
		plat_exit(PLAT_EXIT_USAGE);
	}
	/* No device is not an error here: plat_net_info says so to those who ask. */
	if (plat_net_init() && args.have_mac)
		plat_net_set_mac(args.mac);
	start.cmdline = args.cmdline;
	plat_exit(plat_app_main(&start));
}
