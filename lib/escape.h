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
#include <stdio.h>

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
 * as spaces, other control characters as '?' (as term_escape does: the
 * report is read in terminals too). A first character that would open a
 * block where the text lands at the start of a line -- # - + = ~, or a
 * number and . or ) -- is backslash-escaped, so a name cannot make a
 * heading, list, rule or fence. Other bytes pass unchanged.
 */
void md_escape(struct strbuf *out, const char *s);

/*
 * Text for a terminal: every character a terminal acts on instead of
 * showing it becomes '?' -- C0 controls (ESC, BEL, CR, ...; a line feed and
 * a tab are kept when keep_lines is set), DEL, the C1 controls U+0080 to
 * U+009F, and a byte 0x80-0x9F that is not part of well-formed UTF-8 (an
 * 8-bit terminal reads 0x9B as CSI). Other bytes, well-formed UTF-8 or
 * not, pass unchanged.
 */
void term_escape(struct strbuf *out, const char *s, int keep_lines);
/* The same written to f, allocating nothing (the error voice uses it). */
void term_fputs(const char *s, int keep_lines, FILE *f);

/* printf to stdout, the formatted text passed through term_escape (lines kept). */
void tprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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
