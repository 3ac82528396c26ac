/*
 * Shell completion made from the command table (stitch --print-completion
 * bash|zsh writes the checked-in share/completion/ files), and the hidden
 * `stitch __complete packages` that lists the package names of the
 * repositories in use, overlays and --repo included, for those scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "usage.h"
#include "util.h"

#define MAX_COMMANDS 64

static const char *kind_word(enum usage_kind k)
{
	return k == KIND_PKG ? "pkg" : k == KIND_FILE ? "file" : "none";
}

/* opts="--a --b" vals="--a:kind"; for one set of options. */
static void print_opts(FILE *out, const struct usage_opts *o)
{
	fputs(" opts='", out);
	for (size_t i = 0; i < o->n; i++)
		fprintf(out, "%s%s", i ? " " : "", o->v[i].name);
	fputs("' vals='", out);
	for (size_t i = 0, k = 0; i < o->n; i++)
		if (o->v[i].value)
			fprintf(out, "%s%s:%s", k++ ? " " : "", o->v[i].name,
			        kind_word(o->v[i].kind));
	fputc('\'', out);
}

static void print_operands(FILE *out, const struct usage_form *f)
{
	fputs(" operands='", out);
	for (size_t i = 0; f && i < f->n_operands; i++)
		fprintf(out, "%s%s", i ? " " : "", kind_word(f->operands[i]));
	fprintf(out, "' rep='%s'", f && f->repeats ? "1" : "");
}

static void print_command_data(FILE *out, const struct cmd_entry *cmd)
{
	struct usage_model m;
	const struct usage_form *plain = NULL;
	bool subs = false;

	usage_model_read(&m, cmd);
	for (size_t i = 0; i < m.n_forms; i++) {
		const struct usage_form *f = &m.forms[i];
		if (!f->sub) {
			plain = f;
			continue;
		}
		subs = true;
		fprintf(out, "\t%s/%s)", cmd->name, f->sub);
		print_opts(out, &f->opts);
		print_operands(out, f);
		fputs(" ;;\n", out);
	}
	fprintf(out, "\t%s/*) subs='", cmd->name);
	for (size_t i = 0, k = 0; subs && i < m.n_forms; i++)
		if (m.forms[i].sub)
			fprintf(out, "%s%s", k++ ? " " : "", m.forms[i].sub);
	fputc('\'', out);
	print_opts(out, &m.opts);
	print_operands(out, plain);
	fputs(" ;;\n", out);
	usage_model_release(&m);
}

/* _stitch_data CMD SUB: the same shell function for bash and zsh. */
static void print_data(FILE *out)
{
	const struct cmd_entry *cmds[MAX_COMMANDS];
	size_t n = usage_visible_commands(cmds, MAX_COMMANDS);
	const char *main_text;
	struct usage_opts g;

	cmd_commands(NULL, &main_text);
	usage_global_opts(&g, main_text);
	fputs("# _stitch_data CMD SUB: for the command CMD ('' before one) and its\n"
	      "# subcommand SUB, sets subs (the words that may come next), opts,\n"
	      "# vals (OPTION:KIND for options taking a value), operands (the kind of\n"
	      "# each operand: pkg, file or none) and rep (the last one repeats).\n"
	      "_stitch_data() {\n"
	      "\tsubs='' opts='' vals='' operands='' rep=''\n"
	      "\tcase \"$1/$2\" in\n"
	      "\t/*) subs='",
	      out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? " " : "", cmds[i]->name);
	fputc('\'', out);
	print_opts(out, &g);
	fputs(" ;;\n", out);
	for (size_t i = 0; i < n; i++)
		print_command_data(out, cmds[i]);
	fputs("\tesac\n}\n", out);
	usage_opts_release(&g);
}

static const char bash_main[] =
    "# _stitch_takes OPTION VALS: OPTION takes a value, whose kind goes to _k.\n"
    "_stitch_takes() {\n"
    "\tlocal v\n"
    "\tfor v in $2; do\n"
    "\t\tif [[ ${v%%:*} == \"$1\" ]]; then\n"
    "\t\t\t_k=${v#*:}\n"
    "\t\t\treturn 0\n"
    "\t\tfi\n"
    "\tdone\n"
    "\treturn 1\n"
    "}\n"
    "\n"
    "_stitch_value() {\n"
    "\tcase $1 in\n"
    "\tpkg) COMPREPLY=($(compgen -W \"$(\"${COMP_WORDS[0]}\" \"${g[@]}\" __complete packages "
    "2>/dev/null)\" -- \"$cur\")) ;;\n"
    "\tfile) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
    "\tesac\n"
    "}\n"
    "\n"
    "_stitch() {\n"
    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} cmd='' sub='' w i n=0 _k gvals\n"
    "\tlocal subs opts vals operands rep\n"
    "\tlocal -a g=() ops\n"
    "\tCOMPREPLY=()\n"
    "\t_stitch_data '' ''\n"
    "\tgvals=$vals\n"
    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
    "\t\tw=${COMP_WORDS[i]}\n"
    "\t\tcase $w in --root=* | --repo=*) g+=(\"$w\"); continue ;; esac\n"
    "\t\tif _stitch_takes \"$w\" \"$gvals $vals\"; then\n"
    "\t\t\tif ((i + 1 == COMP_CWORD)); then\n"
    "\t\t\t\t_stitch_value \"$_k\"\n"
    "\t\t\t\treturn\n"
    "\t\t\tfi\n"
    "\t\t\tcase $w in --root | --repo) g+=(\"$w\" \"${COMP_WORDS[i + 1]}\") ;; esac\n"
    "\t\t\t((i++))\n"
    "\t\t\tcontinue\n"
    "\t\tfi\n"
    "\t\t[[ $w == -* ]] && continue\n"
    "\t\tif [[ -z $cmd ]]; then\n"
    "\t\t\tcmd=$w\n"
    "\t\t\t_stitch_data \"$cmd\" ''\n"
    "\t\telif [[ -n $subs && -z $sub ]]; then\n"
    "\t\t\tsub=$w\n"
    "\t\t\t_stitch_data \"$cmd\" \"$sub\"\n"
    "\t\telse\n"
    "\t\t\t((n++))\n"
    "\t\tfi\n"
    "\tdone\n"
    "\tif [[ $cur == -* ]]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
    "\telif [[ -n $subs && -z $sub ]]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
    "\telse\n"
    "\t\tread -ra ops <<<\"$operands\"\n"
    "\t\tif ((n < ${#ops[@]})); then\n"
    "\t\t\t_stitch_value \"${ops[n]}\"\n"
    "\t\telif [[ -n $rep ]]; then\n"
    "\t\t\t_stitch_value \"${ops[${#ops[@]} - 1]}\"\n"
    "\t\tfi\n"
    "\tfi\n"
    "}\n"
    "complete -F _stitch stitch\n";

static const char zsh_main[] =
    "_stitch_takes() {\n"
    "\tlocal v\n"
    "\tfor v in ${=2}; do\n"
    "\t\tif [[ ${v%%:*} == \"$1\" ]]; then\n"
    "\t\t\t_k=${v#*:}\n"
    "\t\t\treturn 0\n"
    "\t\tfi\n"
    "\tdone\n"
    "\treturn 1\n"
    "}\n"
    "\n"
    "_stitch_value() {\n"
    "\tcase $1 in\n"
    "\tpkg) compadd -- ${(f)\"$(${words[1]} $g __complete packages 2>/dev/null)\"} ;;\n"
    "\tfile) _files ;;\n"
    "\tesac\n"
    "}\n"
    "\n"
    "_stitch() {\n"
    "\tlocal cur=${words[CURRENT]} cmd='' sub='' w i n=0 _k gvals\n"
    "\tlocal subs opts vals operands rep\n"
    "\tlocal -a g ops\n"
    "\t_stitch_data '' ''\n"
    "\tgvals=$vals\n"
    "\tfor ((i = 2; i < CURRENT; i++)); do\n"
    "\t\tw=${words[i]}\n"
    "\t\tcase $w in --root=* | --repo=*) g+=($w); continue ;; esac\n"
    "\t\tif _stitch_takes \"$w\" \"$gvals $vals\"; then\n"
    "\t\t\tif ((i + 1 == CURRENT)); then\n"
    "\t\t\t\t_stitch_value $_k\n"
    "\t\t\t\treturn\n"
    "\t\t\tfi\n"
    "\t\t\tcase $w in --root | --repo) g+=($w ${words[i + 1]}) ;; esac\n"
    "\t\t\t((i++))\n"
    "\t\t\tcontinue\n"
    "\t\tfi\n"
    "\t\t[[ $w == -* ]] && continue\n"
    "\t\tif [[ -z $cmd ]]; then\n"
    "\t\t\tcmd=$w\n"
    "\t\t\t_stitch_data $cmd ''\n"
    "\t\telif [[ -n $subs && -z $sub ]]; then\n"
    "\t\t\tsub=$w\n"
    "\t\t\t_stitch_data $cmd $sub\n"
    "\t\telse\n"
    "\t\t\t((n++))\n"
    "\t\tfi\n"
    "\tdone\n"
    "\tif [[ $cur == -* ]]; then\n"
    "\t\tcompadd -- ${=opts}\n"
    "\telif [[ -z $cmd ]]; then\n"
    "\t\t_describe -t commands 'stitch command' _stitch_commands\n"
    "\telif [[ -n $subs && -z $sub ]]; then\n"
    "\t\tcompadd -- ${=subs}\n"
    "\telse\n"
    "\t\tops=(${=operands})\n"
    "\t\tif ((n < ${#ops})); then\n"
    "\t\t\t_stitch_value ${ops[n + 1]}\n"
    "\t\telif [[ -n $rep ]] && ((${#ops})); then\n"
    "\t\t\t_stitch_value ${ops[-1]}\n"
    "\t\tfi\n"
    "\tfi\n"
    "}\n"
    "\n"
    "_stitch \"$@\"\n";

/* 'text' for a shell, single quotes closed and reopened around a quote. */
static void print_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

int cmd_print_completion(FILE *out, const char *shell)
{
	const struct cmd_entry *cmds[MAX_COMMANDS];
	size_t n = usage_visible_commands(cmds, MAX_COMMANDS);

	if (strcmp(shell, "bash") == 0) {
		fputs("# bash completion for stitch.  Made by 'stitch --print-completion bash'\n"
		      "# from the command table in cmd/main.c: do not edit.\n",
		      out);
		print_data(out);
		fputs(bash_main, out);
		return EXIT_OK;
	}
	if (strcmp(shell, "zsh") == 0) {
		fputs("#compdef stitch\n"
		      "# zsh completion for stitch.  Made by 'stitch --print-completion zsh'\n"
		      "# from the command table in cmd/main.c: do not edit.\n",
		      out);
		print_data(out);
		fputs("_stitch_commands=(\n", out);
		for (size_t i = 0; i < n; i++) {
			char *item = xasprintf("%s:%s", cmds[i]->name, cmds[i]->summary);
			fputc('\t', out);
			print_quoted(out, item);
			fputc('\n', out);
			free(item);
		}
		fputs(")\n\n", out);
		fputs(zsh_main, out);
		return EXIT_OK;
	}
	return cmd_usage_error(NULL, "no completion for the shell '%s' (bash, zsh)", shell);
}

int cmd_complete(int argc, char **argv, struct stitch_ctx *ctx)
{
	if (argc != 2 || strcmp(argv[1], "packages") != 0)
		return cmd_usage_error(ctx, "__complete takes 'packages'");
	for (size_t i = 0; i < ctx->index->n_visible; i++)
		printf("%s\n", ctx->index->visible[i]->name);
	return EXIT_OK;
}
