/*
 * utf8.h - the one UTF-8 validator: well-formed sequences as RFC 3629
 * defines them (no overlong forms, no surrogates, nothing above
 * U+10FFFF), and the Unicode "maximal subpart" rule for how many bytes one
 * U+FFFD replaces when a sequence is ill-formed (as browsers and Python
 * decode). JSON and HTML output use it to stay valid UTF-8 whatever bytes
 * a stored name holds; the workload importer uses it to tell a text header
 * from binary junk.
 */
#ifndef PIQPLAN_UTF8_H
#define PIQPLAN_UTF8_H

#include <stddef.h>

struct strbuf;

/*
 * Length of the well-formed UTF-8 sequence at s (1-4), looking at no more
 * than avail bytes; if there is none, minus the number of bytes one U+FFFD
 * replaces (1-3). avail must be at least 1.
 */
int utf8_seq_len_n(const char *s, size_t avail);

/*
 * The same on a NUL-terminated string: a truncated sequence stops at the
 * NUL (which is never a continuation byte). A NUL itself has length 1.
 */
int utf8_seq_len(const char *s);

/* 1 if the len bytes at s are all well-formed UTF-8 (NUL bytes count as ASCII), else 0. */
int utf8_valid(const char *s, size_t len);

/* Append s, replacing every byte that is not well-formed UTF-8 by U+FFFD. */
void strbuf_add_utf8(struct strbuf *sb, const char *s);

#endif
