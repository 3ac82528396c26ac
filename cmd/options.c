/* Parsing a subcommand's options: see cmd_parse_opts in cmd.h. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "util.h"

int cmd_parse_opts(struct stitch_ctx *ctx, int argc, char **argv, const struct option *opts,
                   int (*on_opt)(int val, const char *arg, void *data), void *data,
                   char ***operands, int *n_operands)
{
	char shortopts[64] = "+";
	size_t ns = 1;
	int c;

	for (const struct option *o = opts; o && o->name; o++) {
		if (o->val > 0 && o->val < 128 && ns + 3 < sizeof(shortopts)) {
			shortopts[ns++] = (char)o->val;
			if (o->has_arg == required_argument)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	/* Operands may come before options: permute by hand, keeping order. */
	*operands = xcalloc((size_t)argc + 1, sizeof(char *));
	*n_operands = 0;
	optind = 1;
	opterr = 0;
	while (optind < argc) {
		int before = optind;
		c = getopt_long(argc, argv, shortopts, opts, NULL);
		if (c == -1) {
			if (optind == before + 1 && strcmp(argv[before], "--") == 0) {
				while (optind < argc)
					(*operands)[(*n_operands)++] = argv[optind++];
				break;
			}
			(*operands)[(*n_operands)++] = argv[optind++];
			continue;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			free(*operands);
			*operands = NULL;
			if (c == ':' || (optopt && strchr(shortopts, optopt) && optopt != '?'))
				return cmd_usage_error(ctx, "option '%s' needs a value", bad);
			return cmd_usage_error(ctx, "unknown option '%s'", bad);
		}
		if (on_opt(c, optarg, data) != EXIT_OK) {
			free(*operands);
			*operands = NULL;
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}
