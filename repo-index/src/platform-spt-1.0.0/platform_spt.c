/*
 * platform_spt.c: main() of an spt image.  Like a unix image it takes the
 * platform's own options and attaches the tap device; then, before the
 * application starts, it seals the process with a kill-by-default seccomp
 * filter: only reads and writes on the tap, writes on the console, the
 * clocks, a poll, memory for malloc and exit are allowed.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "platform_internal.h"

#if defined(__x86_64__)
#define SPT_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SPT_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "platform-spt supports x86_64 and aarch64"
#endif

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

#define ARG0 offsetof(struct seccomp_data, args[0])
#define NR offsetof(struct seccomp_data, nr)
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
/* Allow syscall n outright: the next two instructions. */
#define ALLOW_NR(n) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), ALLOW

/*
 * The filter.  The first argument of read and write is compared in its low
 * 32 bits: descriptors are ints.  What a static glibc image does once sealed
 * (strace): ppoll, read and write on the tap, write on the console,
 * newfstatat on the console (stdio's first printf), brk, mmap and munmap
 * (malloc), exit_group; clock_gettime goes through the vDSO but is allowed
 * for kernels without one, rt_sigreturn for SIGINT and SIGTERM and
 * restart_syscall for a ppoll interrupted by a stop.
 */
static int seal(int tap)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SPT_AUDIT_ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
	    /* read(tap) */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_read, 0, 4),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)tap, 0, 1),
	    ALLOW,
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    /* write(tap), write(1), write(2) */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 0, 6),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)tap, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, STDOUT_FILENO, 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, STDERR_FILENO, 0, 1),
	    ALLOW,
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    ALLOW_NR(__NR_ppoll),
#ifdef __NR_poll
	    ALLOW_NR(__NR_poll),
#endif
	    ALLOW_NR(__NR_clock_gettime),
	    ALLOW_NR(__NR_brk),
	    ALLOW_NR(__NR_mmap),
	    ALLOW_NR(__NR_munmap),
	    ALLOW_NR(__NR_mremap),
	    ALLOW_NR(__NR_newfstatat),
#ifdef __NR_fstat
	    ALLOW_NR(__NR_fstat),
#endif
	    ALLOW_NR(__NR_rt_sigreturn),
	    ALLOW_NR(__NR_restart_syscall),
	    ALLOW_NR(__NR_exit_group),
	    ALLOW_NR(__NR_exit),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = {.len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int main(int argc, char *argv[])
{
	struct plat_args args;
	struct plat_start_info si;
	char err[256];
	int fd, status;

	if (plat_args_parse(argc, argv, &args, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		plat_args_release(&args);
		return PLAT_EXIT_USAGE;
	}
	fd = plat_tap_open(args.net, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		plat_args_release(&args);
		return PLAT_EXIT_USAGE;
	}
	plat_net_attach(fd, args.mac);
	install_signals();
	if (seal(fd) != 0) {
		fprintf(stderr, "%s: cannot install the seccomp filter: %s\n", argv[0],
		        strerror(errno));
		plat_args_release(&args);
		return PLAT_EXIT_USAGE;
	}
	si.cmdline = args.cmdline;
	status = plat_app_main(&si);
	plat_args_release(&args);
	return status;
}
