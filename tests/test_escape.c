/*
 * test_escape.c - lib/escape.c: what reaches a terminal and a Markdown
 * report from a stored string (the hardening report's D9 and D10). The
 * expected strings are worked out by hand from the rules in escape.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/util.h"
#include "testutil.h"

static char *term(const char *s, int keep_lines)
{
	struct strbuf sb = STRBUF_INIT;
	term_escape(&sb, s, keep_lines);
	return strbuf_detach(&sb);
}

static char *md(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	md_escape(&sb, s);
	return strbuf_detach(&sb);
}

#define CHECK_STR(expr, want)                          \
	do {                                           \
		char *got_ = (expr);                   \
		ck_assert_str_eq(got_, want);          \
		free(got_);                            \
	} while (0)

START_TEST(terminal_controls_become_question_marks)
{
	/* OSC title, BEL, clear screen, colour: every ESC and the BEL go. */
	CHECK_STR(term("\x1b]0;pwned\a\x1b[2J\x1b[31mRED", 0), "?]0;pwned??[2J?[31mRED");
	CHECK_STR(term("a\rb\x7f" "c", 1), "a?b?c");		/* CR and DEL */
	CHECK_STR(term("a\nb\tc", 1), "a\nb\tc");		/* lines kept */
	CHECK_STR(term("a\nb\tc", 0), "a?b?c");			/* a table cell */
	CHECK_STR(term("x\xc2\x9b" "2J", 0), "x?2J");		/* U+009B, the C1 CSI */
	CHECK_STR(term("x\x9b" "2J", 0), "x?2J");		/* a raw 0x9B byte */
}
END_TEST

START_TEST(terminal_keeps_other_bytes)
{
	CHECK_STR(term("\xc4\x9b", 0), "\xc4\x9b");		/* U+011B: 0x9B as a continuation */
	CHECK_STR(term("caf\xc3\xa9 \xe2\x82\xac", 0), "caf\xc3\xa9 \xe2\x82\xac");
	CHECK_STR(term("bad \xff\xfe bytes", 0), "bad \xff\xfe bytes");	/* not controls */
}
END_TEST

START_TEST(markdown_cannot_open_a_block)
{
	/* The report's D10: "# Injected\n---" became a heading (and a rule). */
	CHECK_STR(md("# Injected\n---"), "\\# Injected ---");
	CHECK_STR(md("-1+1"), "\\-1+1");
	CHECK_STR(md("+ item"), "\\+ item");
	CHECK_STR(md("==="), "\\===");
	CHECK_STR(md("~~~"), "\\~~~");
	CHECK_STR(md("12. twelve"), "12\\. twelve");
	CHECK_STR(md("3) three"), "3\\) three");
	CHECK_STR(md("  # late"), "  \\# late");
	/* Not at the start, or not a block: unchanged. */
	CHECK_STR(md("a # b - c"), "a # b - c");
	CHECK_STR(md("2027Q1"), "2027Q1");
	CHECK_STR(md("> quote"), "&gt; quote");
}
END_TEST

START_TEST(markdown_has_no_control_characters)
{
	CHECK_STR(md("\x1b[2Jcleared"), "?\\[2Jcleared");	/* [ is markup */
	CHECK_STR(md("a\x7f\xc2\x85z"), "a??z");		/* DEL, U+0085 */
	CHECK_STR(md("two\nlines\r\tx"), "two lines  x");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("escape");
	tcase_add_test(tc, terminal_controls_become_question_marks);
	tcase_add_test(tc, terminal_keeps_other_bytes);
	tcase_add_test(tc, markdown_cannot_open_a_block);
	tcase_add_test(tc, markdown_has_no_control_characters);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
