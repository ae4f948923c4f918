/*
 * escape.c - see escape.h. The HTML and Markdown escapes came from the
 * report renderers, the shell word from the planner's `vllm serve` line.
 */
#include "lib/escape.h"
#include "lib/utf8.h"
#include "lib/util.h"

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

void md_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
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
		default: strbuf_add(out, s, 1);
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
