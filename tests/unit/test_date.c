/* test_date.c: unit tests of index/base/date.c through lede/date.h: tables
 * of document dates (lede_parse_date), partial dates and the spans they name
 * (lede_date_span, what qparse's date: and the server's from=/to= read),
 * leap years and month lengths, the next and previous day at every boundary,
 * formatting, and inputs that once overflowed or could (long digit runs,
 * from=2017206). */
#include <stdio.h>
#include <string.h>

#include "lede/date.h"
#include "lede/lede.h"
#include "tap.h"

static void test_parse_date(void)
{
    static const struct {
        const char *text;
        int32_t want;   /* 0: rejected */
    } dates[] = {
        {"2017-06-13", 20170613},
        {"2016-02-29", 20160229},
        {"2000-02-29", 20000229},
        {"2400-02-29", 24000229},
        {"1900-02-28", 19000228},
        {"0001-01-01", 10101},
        {"9999-12-31", 99991231},
        {"2017-01-31", 20170131},
        {"2017-04-30", 20170430},
        {"2017-06-13T10:20:30Z", 20170613},
        {"2017-06-13T", 20170613},
        {"2017-06-13 anything", 20170613},
        {"1900-02-29", 0},
        {"2100-02-29", 0},
        {"2017-02-29", 0},
        {"2016-02-30", 0},
        {"2017-04-31", 0},
        {"2017-09-31", 0},
        {"2017-11-31", 0},
        {"2017-12-32", 0},
        {"2017-13-01", 0},
        {"2017-00-01", 0},
        {"2017-01-00", 0},
        {"0000-01-01", 0},
        {"2017-06-1", 0},
        {"2017-06-13x", 0},
        {"2017-06-13t", 0},
        {"2017_06_13", 0},
        {"+017-06-13", 0},
        {"2017-0a-13", 0},
        {"201-06-130", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        int32_t got = -1;
        int rc = lede_parse_date(dates[i].text, strlen(dates[i].text), &got);
        char detail[128];
        snprintf(detail, sizeof detail, "%s: rc %d, got %d, want %d", dates[i].text, rc, (int)got,
                 (int)dates[i].want);
        if (dates[i].want)
            CHECK_MSG(rc == 0 && got == dates[i].want, detail);
        else
            CHECK_MSG(rc == -1, detail);
    }
    /* only len bytes count: a valid prefix followed by garbage not in len */
    int32_t got = 0;
    CHECK_EQ_INT(lede_parse_date("2017-06-13garbage", 10, &got), 0);
    CHECK_EQ_INT(got, 20170613);
    CHECK_EQ_INT(lede_parse_date("2017-06-13", 9, &got), -1);
    CHECK_EQ_INT(lede_parse_date(NULL, 0, &got), -1);
    CHECK_EQ_INT(lede_parse_date("2017-06-13", 10, NULL), 0);
}

static void test_span(void)
{
    static const struct {
        const char *text;
        int32_t first, last;   /* 0, 0: rejected */
    } spans[] = {
        {"2017", 20170101, 20171231},
        {"0001", 10101, 11231},
        {"9999", 99990101, 99991231},
        {"2017-06", 20170601, 20170630},
        {"2017-01", 20170101, 20170131},
        {"2017-12", 20171201, 20171231},
        {"2016-02", 20160201, 20160229},
        {"2017-02", 20170201, 20170228},
        {"2000-02", 20000201, 20000229},
        {"1900-02", 19000201, 19000228},
        {"2017-04", 20170401, 20170430},
        {"2017-06-13", 20170613, 20170613},
        {"2016-02-29", 20160229, 20160229},
        {"0000", 0, 0},
        {"0000-01", 0, 0},
        {"2017-00", 0, 0},
        {"2017-13", 0, 0},
        {"2017-1", 0, 0},
        {"2017-1a", 0, 0},
        {"2017_06", 0, 0},
        {"2017206", 0, 0},          /* once a signed overflow in the server */
        {"201", 0, 0},
        {"20170", 0, 0},
        {"20170613", 0, 0},
        {"2017-06-13T10:00", 0, 0}, /* a span is a day at most: no time */
        {"2017-06-13 ", 0, 0},
        {"2017-02-29", 0, 0},
        {"-017", 0, 0},
        {"+2017", 0, 0},
        {" 2017", 0, 0},
        {"2o17", 0, 0},
        {"99999", 0, 0},
        {"99999999999999999999", 0, 0},
        {"9999999-99-99", 0, 0},
        {"2147483647", 0, 0},
        {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
        int32_t first = -1, last = -1;
        int rc = lede_date_span(spans[i].text, strlen(spans[i].text), &first, &last);
        char detail[160];
        snprintf(detail, sizeof detail, "%s: rc %d, got [%d, %d], want [%d, %d]", spans[i].text,
                 rc, (int)first, (int)last, (int)spans[i].first, (int)spans[i].last);
        if (spans[i].first)
            CHECK_MSG(rc == 0 && first == spans[i].first && last == spans[i].last, detail);
        else
            CHECK_MSG(rc == LEDE_EFORMAT && first == -1 && last == -1, detail);
    }
    int32_t first = 0, last = 0;
    /* only len bytes count, and a NUL inside them is not a digit */
    CHECK_EQ_INT(lede_date_span("2017-06-13", 4, &first, &last), 0);
    CHECK_EQ_INT(first, 20170101);
    CHECK_EQ_INT(lede_date_span("2017-06-13", 7, &first, &last), 0);
    CHECK_EQ_INT(last, 20170630);
    CHECK_EQ_INT(lede_date_span("20\0007", 4, &first, &last), LEDE_EFORMAT);
    CHECK_EQ_INT(lede_date_span(NULL, 4, &first, &last), LEDE_EFORMAT);
}

static void test_calendar(void)
{
    static const struct {
        int year;
        bool leap;
    } years[] = {{1, false}, {4, true}, {100, false}, {400, true}, {1900, false},
                 {1996, true}, {2000, true}, {2016, true}, {2017, false}, {2100, false},
                 {2400, true}, {9996, true}, {9999, false}};
    for (size_t i = 0; i < sizeof years / sizeof years[0]; i++) {
        CHECK_EQ_INT(lede_date_is_leap(years[i].year), years[i].leap);
        CHECK_EQ_INT(lede_date_days_in_month(years[i].year, 2), years[i].leap ? 29 : 28);
    }
    static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m <= 12; m++) {
        CHECK_EQ_INT(lede_date_days_in_month(2017, m), days[m]);
        CHECK(lede_date_valid(2017, m, days[m]));
        CHECK(!lede_date_valid(2017, m, days[m] + 1));
        CHECK(!lede_date_valid(2017, m, 0));
    }
    CHECK_EQ_INT(lede_date_days_in_month(2017, 0), 0);
    CHECK_EQ_INT(lede_date_days_in_month(2017, 13), 0);
    CHECK_EQ_INT(lede_date_days_in_month(2017, -1), 0);
    CHECK(lede_date_valid(1, 1, 1));
    CHECK(lede_date_valid(9999, 12, 31));
    CHECK(!lede_date_valid(0, 1, 1));
    CHECK(!lede_date_valid(10000, 1, 1));
    CHECK(!lede_date_valid(-2017, 1, 1));
    CHECK(!lede_date_valid(2017, 13, 1));
    CHECK(lede_date_valid_packed(20160229));
    CHECK(!lede_date_valid_packed(20170229));
    CHECK(!lede_date_valid_packed(0));
    CHECK(!lede_date_valid_packed(-20170101));
    CHECK(!lede_date_valid_packed(100000101));
    CHECK(!lede_date_valid_packed(INT32_MAX));
    CHECK(!lede_date_valid_packed(INT32_MIN));
}

static void test_next_prev(void)
{
    static const struct {
        int32_t day, next;
    } steps[] = {
        {20170613, 20170614}, {20170131, 20170201}, {20170228, 20170301},
        {20160228, 20160229}, {20160229, 20160301}, {20170430, 20170501},
        {20171231, 20180101}, {10101, 10102}, {19991231, 20000101},
        {99991230, 99991231}, {99991231, 100000101},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        CHECK_EQ_INT(lede_date_next(steps[i].day), steps[i].next);
        if (steps[i].next <= LEDE_DATE_MAX)
            CHECK_EQ_INT(lede_date_prev(steps[i].next), steps[i].day);
    }
    CHECK_EQ_INT(lede_date_prev(LEDE_DATE_MIN), -1);
    CHECK_EQ_INT(lede_date_prev(20170101), 20161231);
    /* every day of a leap year and its neighbours, walked both ways */
    int32_t d = 20151231;
    int n = 0;
    while (d < 20170101) {
        int32_t next = lede_date_next(d);
        CHECK(lede_date_valid_packed(next) && lede_date_prev(next) == d);
        d = next;
        n++;
    }
    CHECK_EQ_INT(n, 367);
}

static void test_format(void)
{
    char out[LEDE_DATE_TEXT];
    static const struct {
        int32_t day;
        const char *text;
    } cases[] = {{20170613, "2017-06-13"}, {10101, "0001-01-01"}, {99991231, "9999-12-31"},
                 {20160229, "2016-02-29"}, {20170229, ""}, {0, ""}, {-1, ""},
                 {100000101, ""}, {INT32_MAX, ""}, {INT32_MIN, ""}, {20171301, ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(out, 'x', sizeof out);
        CHECK_EQ_INT(lede_date_format(cases[i].day, out), strlen(cases[i].text));
        CHECK_EQ_STR(out, cases[i].text);
        int32_t back = 0;
        if (cases[i].text[0])
            CHECK(lede_parse_date(out, strlen(out), &back) == 0 && back == cases[i].day);
    }
}

int main(void)
{
    test_parse_date();
    test_span();
    test_calendar();
    test_next_prev();
    test_format();
    return tap_done();
}
