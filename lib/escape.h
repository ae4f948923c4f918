/*
 * escape.h - writing a stored string into another language without it
 * being read as that language: HTML text and attributes, Markdown, a CSV
 * cell, a shell word. Every renderer and command line piqplan emits escapes
 * through here, so a hostile name (a <script>, a spreadsheet formula, a
 * quote that ends a shell word) stays text wherever it lands.
 */
#ifndef PIQPLAN_ESCAPE_H
#define PIQPLAN_ESCAPE_H

#include <stddef.h>

struct strbuf;

/*
 * HTML text or a quoted attribute value: < > & " ' as entities, and every
 * byte that is not well-formed UTF-8 as U+FFFD (the page declares UTF-8).
 */
void html_escape(struct strbuf *out, const char *s);

/*
 * A Markdown table cell or paragraph: no raw HTML (< > & as entities, since
 * Markdown passes HTML through), the characters that would start markup or
 * break a table row (| \ ` * _ [ ]) backslash-escaped, line breaks and tabs
 * as spaces. Other bytes pass unchanged.
 */
void md_escape(struct strbuf *out, const char *s);

/*
 * A CSV text cell: always quoted, quotes doubled, and text a spreadsheet
 * would run as a formula (starting with = + - @, a tab or a CR) prefixed
 * with a '. Other bytes pass unchanged.
 */
void csv_cell(struct strbuf *out, const char *s);

/*
 * s as one POSIX shell word: as it is when it is not empty and every byte
 * is in [A-Za-z0-9._/:@+=,-], else in single quotes with each ' written
 * '\'' -- so a pasted command line never runs what a hostile word smuggles
 * in. Like snprintf: writes at most bufsz bytes including the NUL (buf may
 * be NULL when bufsz is 0) and returns the length the whole word needs.
 * Pure: no allocation, no I/O (the planner uses it).
 */
size_t shell_quote(char *buf, size_t bufsz, const char *s);

#endif
