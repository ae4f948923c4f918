/*
 * escape.c - see escape.h. The HTML and Markdown escapes came from the
 * report renderers, the shell word from the planner's `vllm serve` line,
 * the terminal escape from the hardening report (names that retitled the
 * terminal and cleared the screen).
 */
#include "lib/escape.h"
#include "lib/utf8.h"
#include "lib/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void html_escape(struct strbuf *out, const char *s)
{
	int n;
	for (; *s; s++) {
		switch (*s) {
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '"': strbuf_addstr(out, "&quot;"); break;
		case '\'': strbuf_addstr(out, "&#39;"); break;
		default:
			n = utf8_seq_len(s);
			if (n > 0) {
				strbuf_add(out, s, (size_t)n);
			} else {
				strbuf_addstr(out, "\xEF\xBF\xBD");	/* U+FFFD */
				n = -n;
			}
			s += n - 1;
		}
	}
}

/* Bytes of the control character at s (a C0, DEL or C1 one, or a stray 0x80-0x9F), or 0. */
static int control_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	if (c < 0x20 || c == 0x7f)
		return 1;
	if (c < 0x80)
		return 0;
	int n = utf8_seq_len(s);
	if (n == 2 && c == 0xc2 && (unsigned char)s[1] < 0xa0)
		return 2;			/* U+0080..U+009F */
	if (n < 0 && c <= 0x9f)
		return 1;			/* a lone continuation byte in the C1 range */
	return 0;
}

/* Hand each piece of term-safe text to put(arg, bytes, n). */
static void term_pieces(const char *s, int keep_lines,
			void (*put)(void *arg, const char *p, size_t n), void *arg)
{
	while (*s) {
		int n = control_len(s);
		if (n && !(keep_lines && (*s == '\n' || *s == '\t'))) {
			put(arg, "?", 1);
			s += n;
			continue;
		}
		int k = *s & 0x80 ? utf8_seq_len(s) : 1;
		if (k < 0)
			k = 1;
		put(arg, s, (size_t)k);
		s += k;
	}
}

static void put_strbuf(void *arg, const char *p, size_t n)
{
	strbuf_add(arg, p, n);
}

static void put_file(void *arg, const char *p, size_t n)
{
	fwrite(p, 1, n, arg);
}

void term_escape(struct strbuf *out, const char *s, int keep_lines)
{
	term_pieces(s, keep_lines, put_strbuf, out);
}

void term_fputs(const char *s, int keep_lines, FILE *f)
{
	term_pieces(s, keep_lines, put_file, f);
}

void tprintf(const char *fmt, ...)
{
	struct strbuf raw = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&raw, fmt, ap);
	va_end(ap);
	term_fputs(raw.buf ? raw.buf : "", 1, stdout);
	strbuf_release(&raw);
}

/*
 * 1 when a line starting with s would open a Markdown block: a heading, a
 * list, a rule or setext underline, a fence. (A '>' is written &gt;, which
 * never opens a quote.)
 */
static int md_block_start(const char *s)
{
	if (*s && strchr("#-+=~", *s))
		return 1;
	const char *p = s;
	while (*p >= '0' && *p <= '9')
		p++;
	return p > s && p - s <= 9 && (*p == '.' || *p == ')');
}

void md_escape(struct strbuf *out, const char *s)
{
	const char *start = s;
	while (*start == ' ')
		start++;
	for (; *s; s++) {
		int n;
		if (s == start && md_block_start(s)) {
			const char *p = s;
			while (*p >= '0' && *p <= '9')
				p++;
			strbuf_add(out, s, (size_t)(p - s));	/* the number, if any */
			strbuf_addstr(out, "\\");
			s = p;
		}
		switch (*s) {
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '|': strbuf_addstr(out, "\\|"); break;
		case '\\': strbuf_addstr(out, "\\\\"); break;
		case '`': strbuf_addstr(out, "\\`"); break;
		case '*': strbuf_addstr(out, "\\*"); break;
		case '_': strbuf_addstr(out, "\\_"); break;
		case '[': strbuf_addstr(out, "\\["); break;
		case ']': strbuf_addstr(out, "\\]"); break;
		case '\n': case '\r': case '\t': strbuf_addstr(out, " "); break;
		default:
			n = control_len(s);
			if (n) {
				strbuf_addstr(out, "?");
				s += n - 1;
			} else {
				strbuf_add(out, s, 1);
			}
		}
	}
}

void csv_cell(struct strbuf *out, const char *s)
{
	strbuf_addstr(out, "\"");
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r')
		strbuf_addstr(out, "'");
	for (; *s; s++) {
		if (*s == '"')
			strbuf_addstr(out, "\"\"");
		else
			strbuf_add(out, s, 1);
	}
	strbuf_addstr(out, "\"");
}

/* Characters a POSIX shell takes literally in a word. */
static int shell_safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '/' || c == '-' || c == ':' || c == '@' ||
	       c == '+' || c == '=' || c == ',';
}

/* snprintf-style appending: counts every byte, writes what fits, keeps room for the NUL. */
static void put_char(char *buf, size_t bufsz, size_t *off, char c)
{
	if (*off + 1 < bufsz)
		buf[*off] = c;
	(*off)++;
}

size_t shell_quote(char *buf, size_t bufsz, const char *s)
{
	size_t off = 0;
	int safe = *s != '\0';
	for (const char *p = s; *p; p++)
		safe &= shell_safe(*p);
	if (safe) {
		for (; *s; s++)
			put_char(buf, bufsz, &off, *s);
	} else {
		put_char(buf, bufsz, &off, '\'');
		for (; *s; s++) {
			if (*s == '\'') {
				put_char(buf, bufsz, &off, '\'');
				put_char(buf, bufsz, &off, '\\');
				put_char(buf, bufsz, &off, '\'');
			}
			put_char(buf, bufsz, &off, *s);
		}
		put_char(buf, bufsz, &off, '\'');
	}
	if (bufsz > 0)
		buf[off < bufsz ? off : bufsz - 1] = '\0';
	return off;
}
