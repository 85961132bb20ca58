/* date.h: calendar dates as lede stores and filters them. A date is an
 * int32_t yyyymmdd (20170613) in the proleptic Gregorian calendar, year 1 to
 * 9999; 0 means "no date" (a document without one). The library parses
 * document dates and query filters with these functions, and lede-server its
 * from=/to= parameters, so every place agrees on what a date is.
 *
 * Parsers take (pointer, length), read only inside it and never overflow,
 * whatever the bytes: a year has exactly four digits. They return 0 or
 * LEDE_EFORMAT (lede_parse_date keeps its historical -1) and leave the
 * message to the caller, who knows which parameter or field was wrong. */
#ifndef LEDE_DATE_H
#define LEDE_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first and last days a date can name. */
#define LEDE_DATE_MIN 10101
#define LEDE_DATE_MAX 99991231
/* "YYYY-MM-DD" and its NUL. */
#define LEDE_DATE_TEXT 11

/* Parses "YYYY-MM-DD" optionally followed by 'T' or ' ' and anything (the
 * time of an ISO 8601 timestamp, ignored), into yyyymmdd (may be NULL to
 * validate only). Returns 0 on success, -1 if not a valid date. */
int lede_parse_date(const char *s, size_t len, int32_t *yyyymmdd);

/* A date that names a span: "YYYY" (the whole year), "YYYY-MM" (the month)
 * or "YYYY-MM-DD" (the day; nothing may follow it). *first and *last get the
 * inclusive range of days. Returns 0 or LEDE_EFORMAT. */
int lede_date_span(const char *s, size_t len, int32_t *first, int32_t *last);

bool lede_date_is_leap(int year);
/* Days in the month (28 to 31); 0 when month is not 1 to 12. */
int lede_date_days_in_month(int year, int month);
/* Whether year-month-day is a day of the calendar (year 1 to 9999). */
bool lede_date_valid(int year, int month, int day);
/* Whether yyyymmdd is a valid packed date. */
bool lede_date_valid_packed(int32_t yyyymmdd);

/* The day after and the day before a valid date. The day after 9999-12-31
 * is 100000101 (past every stored date, so "date>9999" matches nothing) and
 * the day before 0001-01-01 is -1 (before every one). */
int32_t lede_date_next(int32_t yyyymmdd);
int32_t lede_date_prev(int32_t yyyymmdd);

/* Writes "YYYY-MM-DD" and a NUL into out (LEDE_DATE_TEXT bytes); returns
 * 10, or 0 (and writes "") when yyyymmdd is not a valid date. */
size_t lede_date_format(int32_t yyyymmdd, char out[LEDE_DATE_TEXT]);

#endif
