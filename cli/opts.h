/*
 * opts.h - a small declarative option parser for sub-commands.
 *
 * Options and positional arguments may be interleaved ("model show ID
 * --json"); "--" ends options; "--name=value" and "--name value" both work.
 * An unknown option, a missing value or a value of the wrong type is a
 * usage error: opts_parse() prints what was wrong and returns -1 before
 * the command does any work.
 */
#ifndef PIQPLAN_OPTS_H
#define PIQPLAN_OPTS_H

#include <stdint.h>

enum opt_kind {
	OPT_FLAG,	/* int *: set to 1 */
	OPT_STRING,	/* const char **: the argument */
	OPT_INT,	/* int64_t *: a whole number */
	OPT_DOUBLE,	/* double *: a real number */
};

struct opt {
	const char *name;	/* long name without "--" */
	char short_name;	/* 0 for none */
	enum opt_kind kind;
	void *value;
	int *seen;		/* optional: set to 1 when given */
};

#define OPT_END { 0, 0, OPT_FLAG, 0, 0 }

/*
 * Parse argv[1..argc-1] (argv[0] is the command's own name). Positional
 * arguments are collected, in order, into pos (at most max_pos; more is a
 * usage error); their count goes to *npos. Returns 0, -1 after error()
 * (a usage error), or OPTS_HELP when -h or --help stands where an option
 * may (not as the value of one: `--source --help` is a source), leaving
 * the rest unparsed.
 */
#define OPTS_HELP 1
int opts_parse(int argc, char **argv, const struct opt *opts,
	       char **pos, int max_pos, int *npos);

#endif
