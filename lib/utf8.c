/*
 * utf8.c - see utf8.h. One function decides what a well-formed sequence is;
 * everything else walks a string with it.
 */
#include "lib/utf8.h"
#include "lib/util.h"

#include <stdint.h>

int utf8_seq_len_n(const char *s, size_t avail)
{
	const unsigned char *u = (const unsigned char *)s;
	int n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	else
		return -1;
	if (u[0] == 0xe0)
		lo = 0xa0;	/* overlong */
	else if (u[0] == 0xed)
		hi = 0x9f;	/* surrogates */
	else if (u[0] == 0xf0)
		lo = 0x90;	/* overlong */
	else if (u[0] == 0xf4)
		hi = 0x8f;	/* above U+10FFFF */
	if (avail < 2 || u[1] < lo || u[1] > hi)
		return -1;
	for (int i = 2; i < n; i++)
		if ((size_t)i >= avail || u[i] < 0x80 || u[i] > 0xbf)
			return -i;
	return n;
}

int utf8_seq_len(const char *s)
{
	return utf8_seq_len_n(s, SIZE_MAX);
}

int utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		int n = utf8_seq_len_n(s + i, len - i);
		if (n < 0)
			return 0;
		i += (size_t)n;
	}
	return 1;
}

void strbuf_add_utf8(struct strbuf *sb, const char *s)
{
	while (*s) {
		int n = utf8_seq_len(s);
		if (n > 0) {
			strbuf_add(sb, s, (size_t)n);
			s += n;
		} else {
			strbuf_addstr(sb, "\xEF\xBF\xBD");	/* U+FFFD */
			s += -n;
		}
	}
}
