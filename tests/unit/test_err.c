/* test_err.c: index/err.c: the first error recorded in a lede_err wins, and
 * every lede_rc of LEDE_RC_LIST has a name, a text, and an HTTP status and
 * error code that say the same thing (errors are 4xx or 5xx with a code;
 * the two non-errors are 200 without one; an unknown code is a 500). */
#include <string.h>

#include "lede/lede.h"
#include "tap.h"

static void test_first_error_wins(void)
{
    lede_err err;
    lede_err_clear(&err);
    CHECK_EQ_INT(err.rc, 0);
    CHECK_EQ_INT(err.at, -1);
    CHECK_EQ_INT(lede_err_set_at(&err, LEDE_ESYNTAX, 7, "bad %s", "quote"), LEDE_ESYNTAX);
    CHECK_EQ_INT(lede_err_set(&err, LEDE_EIO, "later"), LEDE_EIO);
    CHECK_EQ_INT(err.rc, LEDE_ESYNTAX);
    CHECK_EQ_INT(err.at, 7);
    CHECK_EQ_STR(err.msg, "bad quote");
    CHECK_EQ_INT(lede_err_set(NULL, LEDE_ENOMEM, "no struct"), LEDE_ENOMEM);
}

static void test_table(void)
{
    static const struct { int rc; const char *name; } all[] = {
#define ROW(name, value, text, status, code) {value, #name},
        LEDE_RC_LIST(ROW)
#undef ROW
    };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        int rc = all[i].rc, status = lede_rc_http_status(rc);
        const char *code = lede_rc_error_code(rc);
        CHECK_EQ_STR(lede_rc_name(rc), all[i].name);
        CHECK_MSG(strcmp(lede_rc_text(rc), "unknown error") != 0, all[i].name);
        if (rc >= 0) {
            CHECK_EQ_INT(status, 200);
            CHECK_MSG(code == NULL, all[i].name);
        } else {
            CHECK_MSG(status >= 400 && status <= 599, all[i].name);
            CHECK_MSG(code && code[0], all[i].name);
        }
    }
    /* The mapping docs/API.md documents. */
    CHECK_EQ_INT(lede_rc_http_status(LEDE_ESYNTAX), 400);
    CHECK_EQ_STR(lede_rc_error_code(LEDE_ESYNTAX), "query_syntax");
    CHECK_EQ_INT(lede_rc_http_status(LEDE_EINVAL), 400);
    CHECK_EQ_STR(lede_rc_error_code(LEDE_EINVAL), "bad_parameter");
    CHECK_EQ_INT(lede_rc_http_status(LEDE_ELIMIT), 400);
    CHECK_EQ_STR(lede_rc_error_code(LEDE_ELIMIT), "limit_exceeded");
    CHECK_EQ_INT(lede_rc_http_status(LEDE_ENOTFOUND), 404);
    CHECK_EQ_STR(lede_rc_error_code(LEDE_ENOTFOUND), "not_found");
    CHECK_EQ_INT(lede_rc_http_status(LEDE_EFORMAT), 400);
    CHECK_EQ_STR(lede_rc_error_code(LEDE_EFORMAT), "bad_request");
    CHECK_EQ_INT(lede_rc_http_status(LEDE_ENOMEM), 503);
    CHECK_EQ_INT(lede_rc_http_status(LEDE_ECORRUPT), 500);
    CHECK_EQ_STR(lede_rc_error_code(LEDE_ECORRUPT), "internal");
    CHECK_EQ_INT(lede_rc_http_status(-1000), 500);
    CHECK_EQ_STR(lede_rc_error_code(-1000), "internal");
    CHECK_EQ_STR(lede_rc_name(-1000), "LEDE_UNKNOWN");
}

int main(void)
{
    test_first_error_wins();
    test_table();
    return tap_done();
}
