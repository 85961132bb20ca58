/* tap.h: the tiny test harness of lede's unit tests: checks that count and
 * report failures with file and line, and a summary at exit. A test binary
 * exits non-zero if any check failed. */
#ifndef LEDE_TAP_H
#define LEDE_TAP_H

#include <stdio.h>
#include <string.h>

extern int tap_checks, tap_failures;
void tap_fail(const char *file, int line, const char *expr, const char *detail);
int tap_done(void);   /* prints "N checks, N failed"; returns the exit code */

#define CHECK(expr) do { tap_checks++; if (!(expr)) tap_fail(__FILE__, __LINE__, #expr, NULL); } while (0)
#define CHECK_MSG(expr, msg) do { tap_checks++; if (!(expr)) tap_fail(__FILE__, __LINE__, #expr, (msg)); } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); char d_[96]; \
    snprintf(d_, sizeof d_, "%lld != %lld", a_, b_); tap_checks++; \
    if (a_ != b_) tap_fail(__FILE__, __LINE__, #a " == " #b, d_); } while (0)
#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); tap_checks++; \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { char d_[512]; \
      snprintf(d_, sizeof d_, "\"%.240s\" != \"%.240s\"", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
      tap_fail(__FILE__, __LINE__, #a " == " #b, d_); } } while (0)

#endif
