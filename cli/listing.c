/*
 * listing.c - see listing.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/listing.h"
#include "cli/table.h"
#include "lib/json.h"
#include "lib/util.h"
#include "schema/db.h"

#include <stdio.h>
#include <stdlib.h>

int print_rows_table(struct stmt *st)
{
	int n = stmt_column_count(st), r;
	const char **headers = xcalloc((size_t)n, sizeof(*headers));
	for (int c = 0; c < n; c++)
		headers[c] = stmt_column_name(st, c);
	struct table *t = table_new(n, headers);
	while ((r = stmt_step(st)) == 1)
		for (int c = 0; c < n; c++)
			table_cell(t, stmt_is_null(st, c) ? "-" : stmt_text(st, c));
	if (r == 0)
		table_print(t, stdout);
	table_free(t);
	free(headers);
	return r < 0 ? -1 : 0;
}

cJSON *row_object(struct stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	for (int c = 0, n = stmt_column_count(st); c < n; c++) {
		const char *key = stmt_column_name(st, c);
		switch (stmt_type(st, c)) {
		case 'i':
			cJSON_AddNumberToObject(o, key, (double)stmt_int64(st, c));
			break;
		case 'r':
			cJSON_AddNumberToObject(o, key, stmt_double(st, c));
			break;
		case 'n':
			cJSON_AddNullToObject(o, key);
			break;
		default:
			cJSON_AddStringToObject(o, key, stmt_text(st, c));
		}
	}
	return o;
}

int print_rows_json(struct stmt *st)
{
	int r;
	cJSON *arr = cJSON_CreateArray();
	while ((r = stmt_step(st)) == 1)
		cJSON_AddItemToArray(arr, row_object(st));
	if (r == 0)
		print_json(arr);
	else
		cJSON_Delete(arr);
	return r < 0 ? -1 : 0;
}

int print_rows(struct stmt *st, int json)
{
	if (!st)
		return -1;
	int r = json ? print_rows_json(st) : print_rows_table(st);
	stmt_finalize(st);
	return r;
}
