/*
 * test_util.c - lib/util.c's parsers and formatters where the hardening
 * report found them wanting: strtod's hexadecimal and infinities taken as
 * numbers (D17), report CSV numbers with float noise (the new user's
 * 10.390000000000001). Expected values worked out by hand.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "testutil.h"

START_TEST(decimal_numbers_only)
{
	double v;
	ck_assert_int_eq(parse_double("16", &v), 0);
	ck_assert_double_eq(v, 16);
	ck_assert_int_eq(parse_double("2.5e-3", &v), 0);
	ck_assert_double_eq(v, 0.0025);
	ck_assert_int_eq(parse_double("0x10", &v), -1);	/* strtod reads 16 */
	ck_assert_int_eq(parse_double("0X1p4", &v), -1);
	ck_assert_int_eq(parse_double("inf", &v), -1);
	ck_assert_int_eq(parse_double("nan", &v), -1);
	ck_assert_int_eq(parse_double("1e999", &v), -1);	/* overflows to inf */
	ck_assert_int_eq(parse_double(" 1", &v), -1);
}
END_TEST

START_TEST(shortest_round_trip)
{
	char buf[32];
	fmt_shortest(buf, sizeof(buf), 10.39);
	ck_assert_str_eq(buf, "10.39");			/* %.17g: 10.390000000000001 */
	fmt_shortest(buf, sizeof(buf), 9.03);
	ck_assert_str_eq(buf, "9.03");			/* %.17g: 9.0299999999999994 */
	fmt_shortest(buf, sizeof(buf), 0.1 + 0.2);
	ck_assert_str_eq(buf, "0.30000000000000004");	/* the double is not 0.3 */
	fmt_shortest(buf, sizeof(buf), 30);
	ck_assert_str_eq(buf, "30");			/* not 3e+01 */
	fmt_shortest(buf, sizeof(buf), 218400);
	ck_assert_str_eq(buf, "218400");
	fmt_shortest(buf, sizeof(buf), 0.0001);
	ck_assert_str_eq(buf, "0.0001");
	fmt_shortest(buf, sizeof(buf), -2.5);
	ck_assert_str_eq(buf, "-2.5");
}
END_TEST

START_TEST(bprintf_cuts_with_an_ellipsis)
{
	char b[8];
	/* "abc" fits in 8 bytes: written whole, not cut. */
	ck_assert_int_eq(bprintf(b, sizeof(b), "%s", "abc"), 0);
	ck_assert_str_eq(b, "abc");
	/* 7 characters + NUL fit exactly. */
	ck_assert_int_eq(bprintf(b, sizeof(b), "%d", 1234567), 0);
	ck_assert_str_eq(b, "1234567");
	/* 8 do not: the first 4 and "..." (4 + 3 + NUL = 8). */
	ck_assert_int_eq(bprintf(b, sizeof(b), "%s", "abcdefgh"), 1);
	ck_assert_str_eq(b, "abcd...");
	/* A cut never splits a UTF-8 sequence. "abc" + U+00E9 (bytes C3 A9) + "def": the cut
	 * would fall at byte 4, the A9 inside U+00E9, so it backs up to byte 3. */
	ck_assert_int_eq(bprintf(b, sizeof(b), "%s", "abc\xc3\xa9" "def"), 1);
	ck_assert_str_eq(b, "abc...");
	/* "ab" + U+00E9 + "cdef": byte 4 is "c", a boundary: U+00E9 is kept whole. */
	ck_assert_int_eq(bprintf(b, sizeof(b), "%s", "ab\xc3\xa9" "cdef"), 1);
	ck_assert_str_eq(b, "ab\xc3\xa9...");
}
END_TEST

START_TEST(read_file_stops_at_its_limit)
{
	char *text = NULL;
	size_t len = 0;
	/* /dev/zero never ends: the read stops past the limit (a data error), not at OOM. */
	set_failure_status(EXIT_FAIL);
	ck_assert_int_eq(read_file_max("/dev/zero", 100000, &text, &len), -1);
	ck_assert_int_eq(failure_status(), EXIT_DATA);
	ck_assert_ptr_null(text);
	ck_assert_int_eq(read_file_max("/dev/null", 10, &text, &len), 0);
	ck_assert_uint_eq(len, 0);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	tcase_add_test(tc, decimal_numbers_only);
	tcase_add_test(tc, shortest_round_trip);
	tcase_add_test(tc, read_file_stops_at_its_limit);
	tcase_add_test(tc, bprintf_cuts_with_an_ellipsis);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
