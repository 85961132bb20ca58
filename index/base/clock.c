/* clock.c: the monotonic clock behind time budgets and timings
 * (CLOCK_MONOTONIC in nanoseconds). Calls nothing else of liblede. */
#include <time.h>

#include "base/base.h"

uint64_t lede_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
