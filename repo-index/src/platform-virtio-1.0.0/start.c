/*
 * start.c: from boot.S to the application, and back out through QEMU.
 *
 * plat_boot sets up the console, the exception table, the stack's guard
 * page, the interrupt controller, the heap (the RAM after the image), the
 * clocks and the network device, takes the platform's options out of the
 * command line and calls plat_app_main; its status ends the image.
 */
#include "io.h"
#include "libc.h"
#include "platform_internal.h"

/*
 * QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=0x04)
 * ends QEMU with the status (v << 1) | 1 for a write of v.  Writing
 * status + 1 keeps QEMU's own statuses apart: 1 is QEMU failing (a
 * missing tap, say), 0 a reset (a crash, with -no-reboot).  So a runner
 * reads status (rc - 3) / 2 from an odd rc of 3 or more; statuses past
 * MAX_STATUS (abort's 134 among them) arrive as MAX_STATUS.
 */
#define DEBUG_EXIT_PORT 0xf4
#define MAX_STATUS 126 /* (126 + 1) << 1 | 1 is 255, the largest exit status */
#define FALLBACK_HEAP (8u << 20)
#define MAX_RAM_END 0x100000000ull /* what boot.S maps */

#define MSR_FS_BASE 0xc0000100

extern char _end[];

/*
 * Code built with -fstack-protector (the default of some distributions'
 * gcc) reads its canary at %fs:0x28, where glibc keeps it: give %fs a
 * block with one there, different on every boot.
 */
static void canary_setup(void)
{
	static uint64_t block[8];
	uint64_t base = (uint64_t)(uintptr_t)block;

	block[5] = rdtsc() * 0x9e3779b97f4a7c15ull;
	__asm__ volatile("wrmsr"
	                 :
	                 : "c"(MSR_FS_BASE), "a"((uint32_t)base), "d"((uint32_t)(base >> 32)));
}

static void say(const char *msg)
{
	plat_console_write(msg, strlen(msg));
}

/* Without the exit device the write does nothing: then the machine resets. */
void plat_exit(int status)
{
	if (status < 0 || status > MAX_STATUS)
		status = MAX_STATUS;
	outl(DEBUG_EXIT_PORT, (uint32_t)status + 1);
	plat_reset();
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

/*
 * No device is not an error here: plat_net_info says so to those who ask.
 * A device that cannot be used is worth a line on the console.
 */
static void net_setup(const struct plat_args *args)
{
	const char *err;

	if (plat_net_init(&err)) {
		if (args->have_mac)
			plat_net_set_mac(args->mac);
	} else if (err) {
		say("platform-virtio: virtio-net: ");
		say(err);
		say("\n");
	}
}

void plat_boot(const struct hvm_start_info *si)
{
	struct plat_args args;
	struct plat_start_info start;
	const char *raw = "";
	char err[160];

	canary_setup();
	plat_console_init();
	plat_exceptions_init();
	plat_unmap_page((uintptr_t)plat_stack_guard);
	plat_irq_init();
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
	/* QEMU leaves its memory map in page 0: it has been read, the command line copied. */
	plat_unmap_page(0);
	net_setup(&args);
	start.cmdline = args.cmdline;
	plat_exit(plat_app_main(&start));
}
