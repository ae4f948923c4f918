/*
 * listing.h - printing the rows of a query, the one way every list command
 * prints: an aligned table for people, or one JSON array for programs.
 *
 * The query decides what is shown. In table form the column names are the
 * headers (a name starting with '>' is right-aligned, the '>' dropped) and
 * NULL shows as "-". In JSON form each row is an object keyed by column
 * name, integers and reals as numbers, NULL as null, text as strings.
 */
#ifndef PIQPLAN_LISTING_H
#define PIQPLAN_LISTING_H

#include <cjson/cJSON.h>

struct stmt;

/*
 * SQL for a count in human units (671.03B, 1.03T) in a table column: x is
 * an SQL expression, pasted three times.
 */
/* printf(fmt, x) in SQL, but NULL (shown "-") when x is NULL. */
#define SQL_FMT(fmt, x) "CASE WHEN " x " IS NOT NULL THEN printf('" fmt "', " x ") END"

#define SQL_HUMAN_COUNT(x) \
	"CASE WHEN " x " >= 1e12 THEN printf('%.2fT', " x " / 1e12)" \
	" WHEN " x " >= 1e9 THEN printf('%.2fB', " x " / 1e9)" \
	" WHEN " x " >= 1e6 THEN printf('%.2fM', " x " / 1e6) ELSE " x " END"

/* The current row as one JSON object (keys: column names). */
cJSON *row_object(struct stmt *st);

/* Step st to the end and print its rows. 0, or -1 after error(). */
int print_rows_table(struct stmt *st);
int print_rows_json(struct stmt *st);

/* One or the other; finalizes st either way. NULL st (a failed prepare) is -1. */
int print_rows(struct stmt *st, int json);

#endif
