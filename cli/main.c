/*
 * main.c - piqplan's entry point: global options, the table of commands,
 * help, and the one place that ends the write transaction around a command
 * (cli/cmd.c's cmd_options begins it, once the options are known good).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "lib/util.h"
#include "schema/db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PIQPLAN_VERSION
#define PIQPLAN_VERSION "unknown"
#endif

/* In the order a new user meets them: catalog, traffic, one server, the fleet. */
static const struct cmd *const commands[] = {
	&cmd_init,
	&cmd_model,
	&cmd_gpu,
	&cmd_price,
	&cmd_cluster,
	&cmd_workload,
	&cmd_estimate,
	&cmd_plan,
	&cmd_measurement,
	&cmd_calibrate,
	&cmd_scenario,
	&cmd_report,
};

static const char main_usage[] =
	"usage: piqplan [--db PATH] COMMAND [ARGS...]\n"
	"       piqplan help [COMMAND [SUBCOMMAND]]\n"
	"       piqplan --version\n";

static const char main_help_tail[] =
	"\n"
	"Global options (before or after the command):\n"
	"  --db PATH     the database file (default: $PIQPLAN_DB, else ./piqplan.db)\n"
	"  -h, --help    help for piqplan or for a command\n"
	"  --version     print the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error, 65 bad input data,\n"
	"75 database busy or locked.\n"
	"\n"
	"A first plan:\n"
	"  piqplan init\n"
	"  piqplan workload import chat requests.csv --model deepseek-ai/DeepSeek-V3\n"
	"  piqplan plan chat\n"
	"  piqplan scenario create q1 --workload chat --start 2027Q1 --quarters 4 --growth 15%\n"
	"  piqplan scenario run q1 && piqplan report quarterly q1 --format html -o q1.html\n"
	"  sqlite3 piqplan.db 'select * from v_shortfall'\n";

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static const struct subcmd *find_sub(const struct cmd *c, const char *name)
{
	for (const struct subcmd *s = c->subs; s->run; s++)
		if (s->name && !strcmp(s->name, name))
			return s;
	return NULL;
}

static int has_subs(const struct cmd *c)
{
	return c->subs[0].name != NULL;
}

static void print_main_help(FILE *out)
{
	fputs(main_usage, out);
	fputs("\npiqplan plans GPU capacity for LLM inference fleets, in a SQLite database.\n"
	      "\nCommands:\n", out);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs(main_help_tail, out);
}

/* `piqplan help [COMMAND [SUB]]` */
static int help(int argc, char **argv)
{
	if (argc < 2) {
		print_main_help(stdout);
		return 0;
	}
	const struct cmd *c = find_cmd(argv[1]);
	if (!c) {
		error("unknown command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	if (argc >= 3 && has_subs(c)) {
		const struct subcmd *s = find_sub(c, argv[2]);
		if (!s) {
			error("unknown subcommand '%s %s'", argv[1], argv[2]);
			return EXIT_USAGE;
		}
		print_sub_help(c, s, stdout);
	} else {
		print_cmd_help(c, stdout);
	}
	return 0;
}

/*
 * Take --db PATH / --db=PATH out of argv[from..] while they lead it (global
 * options before the command name, or between a command and its
 * sub-command); among a sub-command's own options cmd_options() takes it,
 * so an option's value is never mistaken for it. Returns the new argc, or
 * -1 if --db lacks its value.
 */
static int take_db_option(int argc, char **argv, int from, const char **db_path)
{
	int i = from;
	while (i < argc) {
		if (!strcmp(argv[i], "--db")) {
			if (i + 1 >= argc)
				return -1;
			*db_path = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--db=", 5)) {
			*db_path = argv[i] + 5;
			i++;
		} else {
			break;
		}
	}
	int out = from;
	while (i < argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	return out;
}

/*
 * Run a sub-command; for a writing one, its transaction (begun by
 * cmd_options) is committed only when the command succeeded and all it
 * wrote to stdout is out: a report redirected to a full disk must not
 * leave a committed run behind an exit status of 1.
 */
static int run_sub(struct ctx *ctx, int argc, char **argv)
{
	int ret = ctx->sub->run(ctx, argc, argv);
	int writes = ctx->sub->flags & (CMD_WRITES | CMD_CREATES);

	if (ret == 1) {			/* --help was printed */
		ret = 0;
	} else if (ctx->db && writes) {
		if (ret == 0 && finish_stdout())
			ret = -1;
		if (ret == 0 && db_commit(ctx->db))
			ret = -1;
		if (ret != 0)
			db_rollback(ctx->db);
		if (ctx->finish && ctx->finish(ctx, ret == 0) && ret == 0)
			ret = -1;
	}
	db_close(ctx->db);
	ctx->db = NULL;
	if (ret == 0 && finish_stdout())
		ret = -1;
	return ret == 0 ? EXIT_OK : failure_status();
}

int main(int argc, char **argv)
{
	struct ctx ctx = { 0 };
	ctx.db_path = getenv("PIQPLAN_DB");
	if (!ctx.db_path || !*ctx.db_path)
		ctx.db_path = "piqplan.db";

	argc = take_db_option(argc, argv, 1, &ctx.db_path);
	if (argc < 0) {
		error("option '--db' needs a value");
		fputs(main_usage, stderr);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		fputs(main_usage, stderr);
		fputs("Try 'piqplan --help'.\n", stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("piqplan %s (schema %d)\n", PIQPLAN_VERSION, db_schema_version());
		return finish_stdout() ? EXIT_FAIL : EXIT_OK;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
		print_main_help(stdout);
		return finish_stdout() ? EXIT_FAIL : EXIT_OK;
	}
	if (!strcmp(name, "help")) {
		int st = help(argc - 1, argv + 1);
		return st ? st : (finish_stdout() ? EXIT_FAIL : EXIT_OK);
	}

	const struct cmd *c = find_cmd(name);
	if (!c) {
		error("unknown command '%s'", name);
		fputs("Try 'piqplan --help' for the list of commands.\n", stderr);
		return EXIT_USAGE;
	}
	ctx.cmd_name = c->name;
	ctx.cmd = c;
	argc--;
	argv++;		/* argv[0] is now the command name */

	if (!has_subs(c)) {
		ctx.sub = &c->subs[0];
		return run_sub(&ctx, argc, argv);
	}
	argc = take_db_option(argc, argv, 1, &ctx.db_path);
	if (argc < 0) {
		error("option '--db' needs a value");
		return EXIT_USAGE;
	}

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		FILE *out = argc < 2 ? stderr : stdout;
		print_cmd_help(c, out);
		if (argc < 2)
			return EXIT_USAGE;
		return finish_stdout() ? EXIT_FAIL : EXIT_OK;
	}
	const struct subcmd *s = find_sub(c, argv[1]);
	if (!s) {
		error("unknown subcommand '%s %s'", c->name, argv[1]);
		fprintf(stderr, "Try 'piqplan %s --help'.\n", c->name);
		return EXIT_USAGE;
	}
	ctx.sub = s;
	argc--;
	argv++;
	return run_sub(&ctx, argc, argv);
}
