/* tap.c: counters and reporting for tap.h. */
#include "tap.h"

int tap_checks, tap_failures;

void tap_fail(const char *file, int line, const char *expr, const char *detail)
{
    tap_failures++;
    fprintf(stderr, "FAIL %s:%d: %s%s%s\n", file, line, expr, detail ? ": " : "", detail ? detail : "");
}

int tap_done(void)
{
    printf("%d checks, %d failed\n", tap_checks, tap_failures);
    return tap_failures ? 1 : 0;
}
