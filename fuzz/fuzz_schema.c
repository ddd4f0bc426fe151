/* libFuzzer target: the record schema (core/schema.h): compiling a table's schema document and applying
 * it to record bodies. scripts/fuzz.sh schema SECONDS.
 *
 * The input is "schema\nrecord", two JSON texts (the first byte's low bit picks create or update mode).
 * A schema that does not compile, or a record refused, must be 400 data/validation-error. An accepted
 * record is what gets stored: applying the schema to it again must accept it and change nothing
 * (coercion and defaults are idempotent), and it must serialize to JSON the strict parser accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "util/json.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect_validation_error(const bs_err *err)
{
    if (err->status != 400 || strcmp(err->code, "data/validation-error")) abort();
}

static struct json_object *parse(const uint8_t *p, size_t n)
{
    bs_err err;
    bs_err_clear(&err);
    return json_parse_strict((const char *)p, n, NULL, NULL, &err);
}

/* The stored form of an accepted record, re-checked. */
static void check_accepted(const schema *s, struct json_object *record, schema_mode mode)
{
    strbuf once, twice;
    strbuf_init(&once, 0);
    strbuf_init(&twice, 0);
    json_append(&once, record);
    struct json_object *again = parse((const uint8_t *)once.data, once.len);
    bs_err err;
    bs_err_clear(&err);
    if (!again || schema_apply(s, again, mode, &err) < 0) abort();
    json_append(&twice, again);
    if (once.len != twice.len || memcmp(once.data, twice.data, once.len)) abort();
    json_object_put(again);
    strbuf_release(&once);
    strbuf_release(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    schema_mode mode = data[0] & 1 ? SCHEMA_UPDATE : SCHEMA_CREATE;
    const uint8_t *text = data + 1, *nl = memchr(text, '\n', size - 1);
    if (!nl) return 0;
    struct json_object *doc = parse(text, (size_t)(nl - text)), *record = parse(nl + 1, size - 1 - (size_t)(nl + 1 - text));
    bs_err err;
    bs_err_clear(&err);
    schema *s = doc ? schema_compile(doc, &err) : NULL;
    if (doc && !s) expect_validation_error(&err);
    if (s && record) {
        bs_err_clear(&err);
        if (schema_apply(s, record, mode, &err) == 0) check_accepted(s, record, mode);
        else expect_validation_error(&err);
    }
    schema_free(s);
    json_object_put(doc);
    json_object_put(record);
    return 0;
}
