/*
 * cmd.c - what every sub-command does first (cmd.h): its options parsed,
 * --help answered, the database opened as its flags say -- in that order,
 * so that a usage error or a request for help never creates or opens a
 * file -- and the usage and help texts.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/opts.h"
#include "lib/util.h"
#include "schema/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int usage_error(struct ctx *ctx)
{
	const struct subcmd *s = ctx->sub;
	if (s->name)
		fprintf(stderr, "usage: piqplan %s %s %s\n", ctx->cmd_name, s->name, s->usage);
	else
		fprintf(stderr, "usage: piqplan %s %s\n", ctx->cmd_name, s->usage);
	fprintf(stderr, "Try 'piqplan %s%s%s --help' for more.\n", ctx->cmd_name,
		s->name ? " " : "", s->name ? s->name : "");
	set_failure_status(EXIT_USAGE);
	return -1;
}

int cmd_vllm_flags_check(struct ctx *ctx, int64_t max_seqs, int64_t max_batched, int64_t block)
{
	if (max_seqs >= 0 && max_seqs <= 1000000 && max_batched >= 0 && max_batched <= 10000000 &&
	    block >= 0 && block <= 65536)
		return 0;
	error("--max-num-seqs, --max-num-batched-tokens and --block-size must be positive"
	      " whole numbers");
	return usage_error(ctx);
}

void print_cmd_help(const struct cmd *c, FILE *out)
{
	if (!c->subs[0].name) {
		const struct subcmd *s = &c->subs[0];
		fprintf(out, "usage: piqplan %s %s\n\n%s\n", c->name, s->usage, s->summary);
		if (s->help)
			fprintf(out, "\n%s", s->help);
		return;
	}
	fprintf(out, "usage: piqplan %s SUBCOMMAND [ARGS...]\n\n%s\n\nSubcommands:\n",
		c->name, c->summary);
	for (const struct subcmd *s = c->subs; s->run; s++)
		fprintf(out, "  %s %s\n      %s\n", s->name, s->usage, s->summary);
	fprintf(out, "\nRun 'piqplan %s SUBCOMMAND --help' for its options.\n", c->name);
}

void print_sub_help(const struct cmd *c, const struct subcmd *s, FILE *out)
{
	if (!s->name) {
		print_cmd_help(c, out);
		return;
	}
	fprintf(out, "usage: piqplan %s %s %s\n\n%s\n", c->name, s->name, s->usage, s->summary);
	if (s->help)
		fprintf(out, "\n%s", s->help);
}

/* opts with the global --db PATH added (it may stand among a command's options). */
static struct opt *with_db_option(const struct opt *opts, const char **db_path)
{
	size_t n = 0;
	while (opts[n].name)
		n++;
	struct opt *all = xcalloc(n + 2, sizeof(*all));
	memcpy(all, opts, n * sizeof(*all));
	all[n] = (struct opt){ "db", 0, OPT_STRING, db_path, 0 };
	return all;
}

static int open_db(struct ctx *ctx)
{
	unsigned flags = ctx->sub->flags;
	enum db_mode mode = flags & CMD_CREATES ? DB_INIT
			  : flags & CMD_WRITES ? DB_EXISTING : DB_READ;
	if (db_open_mode(ctx->db_path, mode, &ctx->db))
		return -1;
	if ((flags & (CMD_WRITES | CMD_CREATES)) && db_begin(ctx->db)) {
		db_close(ctx->db);
		ctx->db = NULL;
		return -1;
	}
	return 0;
}

int cmd_options(struct ctx *ctx, int argc, char **argv, const struct opt *opts,
		char **pos, int min_pos, int max_pos, int *npos)
{
	struct opt *all = with_db_option(opts, &ctx->db_path);
	int r = opts_parse(argc, argv, all, pos, max_pos, npos);
	free(all);
	if (r == OPTS_HELP) {
		if (ctx->cmd)
			print_sub_help(ctx->cmd, ctx->sub, stdout);
		return 1;
	}
	if (r || *npos < min_pos)
		return usage_error(ctx);
	/* A command that already has its database (a test calling it) keeps it. */
	if (!ctx->db && (ctx->sub->flags & (CMD_DB | CMD_WRITES | CMD_CREATES)))
		return open_db(ctx);
	return 0;
}
