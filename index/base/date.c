/* date.c: the one calendar of liblede and lede-server (include/lede/date.h):
 * parsing document dates and partial dates, the spans a partial date names,
 * leap years and month lengths, the next and previous day, formatting.
 * Calls nothing but libc.
 *
 * Every number is read from a fixed count of digits (four for the year, two
 * for month and day), so no input can overflow an int, and a packed date is
 * at most 99991231 (its next day 100000101), well inside int32_t. */
#include "base/base.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The value of n digits at s, or -1 if one of them is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int32_t pack(int year, int month, int day)
{
    return (int32_t)(year * 10000 + month * 100 + day);
}

bool lede_date_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int lede_date_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return month == 2 && lede_date_is_leap(year) ? 29 : days[month - 1];
}

/* Year 0 would pack below 10000, where a month and day no longer fit
 * unambiguously; nothing in a news corpus needs it. */
bool lede_date_valid(int year, int month, int day)
{
    return year >= 1 && year <= 9999 && day >= 1 && day <= lede_date_days_in_month(year, month);
}

bool lede_date_valid_packed(int32_t d)
{
    return d > 0 && lede_date_valid(d / 10000, d / 100 % 100, d % 100);
}

int lede_parse_date(const char *s, size_t len, int32_t *yyyymmdd)
{
    if (!s || len < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (len > 10 && s[10] != 'T' && s[10] != ' ')
        return -1;
    int year = digits(s, 4), month = digits(s + 5, 2), day = digits(s + 8, 2);
    if (year < 0 || month < 0 || day < 0 || !lede_date_valid(year, month, day))
        return -1;
    if (yyyymmdd)
        *yyyymmdd = pack(year, month, day);
    return 0;
}

int lede_date_span(const char *s, size_t len, int32_t *first, int32_t *last)
{
    if (!s || (len != 4 && len != 7 && len != 10))
        return LEDE_EFORMAT;
    if (len == 10) {
        /* Exactly ten bytes: lede_parse_date also takes a time after the
         * day, which a span has no use for. */
        int32_t day;
        if (lede_parse_date(s, len, &day) != 0)
            return LEDE_EFORMAT;
        *first = *last = day;
        return 0;
    }
    int year = digits(s, 4);
    if (year < 1)
        return LEDE_EFORMAT;
    if (len == 4) {
        *first = pack(year, 1, 1);
        *last = pack(year, 12, 31);
        return 0;
    }
    int month = s[4] == '-' ? digits(s + 5, 2) : -1;
    if (month < 1 || month > 12)
        return LEDE_EFORMAT;
    *first = pack(year, month, 1);
    *last = pack(year, month, lede_date_days_in_month(year, month));
    return 0;
}

int32_t lede_date_next(int32_t d)
{
    int year = d / 10000, month = d / 100 % 100, day = d % 100;
    if (day < lede_date_days_in_month(year, month))
        return d + 1;
    if (month < 12)
        return pack(year, month + 1, 1);
    return pack(year + 1, 1, 1);
}

int32_t lede_date_prev(int32_t d)
{
    int year = d / 10000, month = d / 100 % 100, day = d % 100;
    if (day > 1)
        return d - 1;
    if (month > 1)
        return pack(year, month - 1, lede_date_days_in_month(year, month - 1));
    if (year <= 1)
        return -1;
    return pack(year - 1, 12, 31);
}

size_t lede_date_format(int32_t d, char out[LEDE_DATE_TEXT])
{
    if (!lede_date_valid_packed(d)) {
        out[0] = '\0';
        return 0;
    }
    /* Valid, so eight digits: yyyy mm dd with the dashes between. */
    static const int at[8] = {9, 8, 6, 5, 3, 2, 1, 0};
    for (int i = 0; i < 8; i++, d /= 10)
        out[at[i]] = (char)('0' + d % 10);
    out[4] = out[7] = '-';
    out[10] = '\0';
    return 10;
}
