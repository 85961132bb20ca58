/* reply_json.h: JSON replies: a jansson value serialized into a reply, and
 * the one error shape every endpoint uses,
 * {"error": {"code": "...", "message": "...", ...details}}. */
#ifndef LEDE_SERVER_REPLY_JSON_H
#define LEDE_SERVER_REPLY_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "lede/lede.h"
#include "request.h"

/* Serializes obj (stolen) as the reply body. */
void reply_json(reply *rp, int status, json_t *obj);
/* An error reply; details (stolen, may be NULL) are merged into the error object. */
void reply_error(reply *rp, int status, const char *code, json_t *details, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The error reply for a failed liblede call: status and code from the
 * lede_rc table (LEDE_RC_LIST in lede.h), so every endpoint reports a code
 * the same way; the message is err's (may be NULL), else the code's text;
 * details (stolen, may be NULL) are merged in, and a byte position in the
 * query (err->at >= 0) becomes "position" unless details give one. */
void reply_lede_error(reply *rp, int rc, const lede_err *err, json_t *details);
/* The byte offset of the first invalid UTF-8 sequence in s[0..n) by
 * lede_utf8_valid_len (lede/utf8.h), or -1: what error replies name as the
 * "position". */
long utf8_invalid_at(const unsigned char *s, size_t n);
/* json_stringn that never fails on invalid UTF-8 (bad bytes become U+FFFD). */
json_t *json_text(const char *s, size_t len);

#endif
