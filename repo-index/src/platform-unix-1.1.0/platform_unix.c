/*
 * platform_unix.c: main() of a unix image.  It takes the platform's own
 * options, attaches the tap device and hands the rest of the command line
 * to the application.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "platform_internal.h"

static void on_stop(int sig)
{
	(void)sig;
	/* Nothing is buffered (the console is unbuffered), so leaving at once is clean. */
	_exit(0);
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed console must not kill the image; writes just fail. */
	signal(SIGPIPE, SIG_IGN);
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
	si.cmdline = args.cmdline;
	status = plat_app_main(&si);
	plat_args_release(&args);
	return status;
}
