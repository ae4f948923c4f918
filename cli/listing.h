/*
 * listing.h - printing the rows of a query, the one way every list command
 * prints: an aligned table for people, or one JSON array for programs.
 *
 * The query decides what is shown (schema/listings.h holds them). In table
 * form the column names are the headers (a name starting with '>' is
 * right-aligned, the '>' dropped) and NULL shows as "-". In JSON form each row is an object keyed by column
 * name, integers and reals as numbers, NULL as null, text as strings.
 */
#ifndef PIQPLAN_LISTING_H
#define PIQPLAN_LISTING_H

#include <cjson/cJSON.h>

struct stmt;

/* The current row as one JSON object (keys: column names). */
cJSON *row_object(struct stmt *st);

/* Step st to the end and print its rows. 0, or -1 after error(). */
int print_rows_table(struct stmt *st);
int print_rows_json(struct stmt *st);

/* One or the other; finalizes st either way. NULL st (a failed prepare) is -1. */
int print_rows(struct stmt *st, int json);

#endif
