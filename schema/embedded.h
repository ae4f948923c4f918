/*
 * embedded.h - files compiled into the binary by scripts/embed.py: the
 * schema migrations and the catalog seeds, so piqplan works from any
 * directory. Each array ends with an entry whose name is NULL.
 */
#ifndef PIQPLAN_EMBEDDED_H
#define PIQPLAN_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;	/* base name, e.g. "001_catalog.sql" */
	const char *data;	/* contents, NUL-terminated */
	size_t len;		/* bytes, without the NUL */
};

extern const struct embedded_file schema_migrations[];	/* schema/NNN_name.sql, in order */
extern const struct embedded_file seed_models[];	/* seeds/models/ORG--NAME.json */
extern const struct embedded_file seed_tables[];	/* seeds/NAME.csv */

#endif
