/* json_writer.h: a streaming JSON writer for the one large reply, /search,
 * where building a jansson tree and serializing it cost more than the
 * search. Commas are placed by the writer; strings are escaped and invalid
 * UTF-8 repaired (U+FFFD) as json_text does; reals use 8 significant
 * digits like the jansson replies. Memory errors are sticky: check
 * jw_finish once. */
#ifndef LEDE_SERVER_JSON_WRITER_H
#define LEDE_SERVER_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 32

typedef struct jw {
    char *p;
    size_t len, cap;
    int failed;
    int depth;
    uint8_t first[JW_MAX_DEPTH]; /* 1 until the first member of each open container */
    int after_key;
} jw;

void jw_init(jw *w, size_t cap);
void jw_obj(jw *w);             /* { */
void jw_arr(jw *w);             /* [ */
void jw_end_obj(jw *w);         /* } */
void jw_end_arr(jw *w);         /* ] */
void jw_key(jw *w, const char *key); /* ASCII keys, written as they are */
void jw_str(jw *w, const char *s, size_t len); /* NULL s = null */
void jw_cstr(jw *w, const char *s);
void jw_int(jw *w, long long v);
void jw_real(jw *w, double v);
void jw_bool(jw *w, int v);
void jw_null(jw *w);
/* Writes n spaces as a placeholder value and returns its offset, for a
 * value known only at the end (took_ms); jw_patch_real writes it there and
 * removes the spaces left over. One placeholder per reply: later offsets
 * move. */
size_t jw_placeholder(jw *w, size_t n);
void jw_patch_real(jw *w, size_t at, size_t n, double v);
/* Ends the document with a newline; returns the buffer (caller frees) or NULL. */
char *jw_finish(jw *w, size_t *len);

#endif
