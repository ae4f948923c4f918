/*
 * opts.c - the option parser described in opts.h.
 */
#include "cli/opts.h"
#include "lib/util.h"

#include <stdio.h>
#include <string.h>

static const struct opt *find_long(const struct opt *opts, const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (; opts->name; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

static int store(const struct opt *o, const char *value)
{
	switch (o->kind) {
	case OPT_FLAG:
		*(int *)o->value = 1;
		break;
	case OPT_STRING:
		*(const char **)o->value = value;
		break;
	case OPT_INT:
		if (parse_int64(value, (int64_t *)o->value))
			return error("option '--%s' expects a whole number, not '%s'", o->name, value);
		break;
	case OPT_DOUBLE:
		if (parse_double(value, (double *)o->value))
			return error("option '--%s' expects a number, not '%s'", o->name, value);
		break;
	}
	if (o->seen)
		*o->seen = 1;
	return 0;
}

int opts_parse(int argc, char **argv, const struct opt *opts,
	       char **pos, int max_pos, int *npos)
{
	int n = 0, only_pos = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct opt *o = NULL;
		const char *value = NULL;
		if (only_pos || a[0] != '-' || !a[1]) {
			if (n >= max_pos)
				return error("unexpected argument '%s'", a);
			pos[n++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return OPTS_HELP;
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			o = find_long(opts, name, len);
			if (!o)
				return error("unknown option '--%.*s'", (int)len, name);
			if (eq) {
				if (o->kind == OPT_FLAG)
					return error("option '--%s' takes no value", o->name);
				value = eq + 1;
			}
		} else {
			if (a[2])
				return error("unknown option '%s'", a);
			o = find_short(opts, a[1]);
			if (!o)
				return error("unknown option '%s'", a);
		}
		if (o->kind != OPT_FLAG && !value) {
			if (i + 1 >= argc)
				return error("option '--%s' needs a value", o->name);
			value = argv[++i];
		}
		if (store(o, value))
			return -1;
	}
	*npos = n;
	return 0;
}
