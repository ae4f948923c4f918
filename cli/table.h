/*
 * table.h - aligned plain-text tables for list commands.
 *
 * Cells are copied in; columns whose name starts with '>' are right-aligned
 * (numbers). Output: a header line, then one line per row, columns separated
 * by two spaces, no trailing blanks -- easy to read and to cut/awk.
 */
#ifndef PIQPLAN_TABLE_H
#define PIQPLAN_TABLE_H

#include <stdio.h>

struct table;

struct table *table_new(int ncols, const char *const *headers);
/* Add one cell to the current row; a row ends after ncols cells. */
void table_cell(struct table *t, const char *text);
void table_cellf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);

#endif
