/* schema.h: the document schema, declared once. Every document has the six
 * fields below; lede_doc and lede_stored (lede/index.h) get their members
 * from this list, the stored record (docs/FORMAT.md) its presence bits and
 * field order, the JSON Lines reader its keys, and lede-server and
 * lede-index the fields they write for a document or a hit.
 *
 * X(member, "json key", ordinal, flags). The ordinal is the field's place in
 * the list, its bit in a stored record's presence byte and its position in
 * the record: indexes on disk depend on it, so a field is only ever added at
 * the end (a reader then finds the new bit clear in old records). Every
 * field is stored. Flags say what else a field is:
 *   LEDE_SCHEMA_KEY      the document's unique id (required when adding)
 *   LEDE_SCHEMA_INDEXED  analyzed into postings (title, then body)
 *   LEDE_SCHEMA_COLUMN   kept in a per-document column (source ordinal,
 *                        yyyymmdd date) for filters, facets and date order
 *   LEDE_SCHEMA_SUMMARY  written with every hit and every /doc reply; body is
 *                        not: hits carry its highlights, /doc writes it last */
#ifndef LEDE_SCHEMA_H
#define LEDE_SCHEMA_H

#define LEDE_SCHEMA_KEY 1u
#define LEDE_SCHEMA_INDEXED 2u
#define LEDE_SCHEMA_COLUMN 4u
#define LEDE_SCHEMA_SUMMARY 8u

#define LEDE_SCHEMA_FIELDS(X)                                   \
    X(id, "id", 0, LEDE_SCHEMA_KEY)                             \
    X(title, "title", 1, LEDE_SCHEMA_INDEXED | LEDE_SCHEMA_SUMMARY) \
    X(body, "body", 2, LEDE_SCHEMA_INDEXED)                     \
    X(source, "source", 3, LEDE_SCHEMA_COLUMN | LEDE_SCHEMA_SUMMARY) \
    X(date, "date", 4, LEDE_SCHEMA_COLUMN | LEDE_SCHEMA_SUMMARY) \
    X(url, "url", 5, LEDE_SCHEMA_SUMMARY)

/* The ordinals by name (LEDE_FIELD_ORD_id ... LEDE_FIELD_ORD_url; the
 * member names, lowercase, because LEDE_FIELD_TITLE and LEDE_FIELD_BODY are
 * query scopes) and their count. */
typedef enum lede_field_ord {
#define LEDE_SCHEMA_ORD(member, key, ord, flags) LEDE_FIELD_ORD_##member = ord,
    LEDE_SCHEMA_FIELDS(LEDE_SCHEMA_ORD)
#undef LEDE_SCHEMA_ORD
    LEDE_NFIELDS
} lede_field_ord;

/* The presence bit of a field in a stored record. */
#define LEDE_SCHEMA_BIT(ord) (1u << (ord))

#endif
