/* libFuzzer target: json_parse_strict (util/json.h). Built by CMake with -DBASALT_FUZZ=ON; run it with
 * scripts/fuzz.sh json SECONDS (docs/security-testing.md).
 *
 * Each input is parsed from a heap copy of exactly its size (so ASan sees any read past the end) with
 * the default limits and with small ones, chosen by the first byte. An accepted document must serialize
 * (json_append) to JSON that json_parse_strict accepts again and that serializes to the same bytes; a
 * rejection must carry 400 common/invalid-parameters. Anything else aborts, which libFuzzer reports. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *serialize(struct json_object *obj, size_t *len)
{
    strbuf sb;
    strbuf_init(&sb, 0);
    if (json_append(&sb, obj) < 0) abort();
    return strbuf_steal(&sb, len);
}

static void check_roundtrip(struct json_object *obj, const json_limits *limits)
{
    size_t n1 = 0, n2 = 0;
    char *s1 = serialize(obj, &n1);
    if (!s1) abort();
    char *exact = malloc(n1 ? n1 : 1);
    if (!exact) abort();
    memcpy(exact, s1, n1);
    bs_err err;
    bs_err_clear(&err);
    struct json_object *again = json_parse_strict(exact, n1, limits, NULL, &err);
    free(exact);
    if (!again) abort(); /* serialized output must parse again */
    char *s2 = serialize(again, &n2);
    if (!s2 || n1 != n2 || memcmp(s1, s2, n1) != 0) abort();
    free(s2);
    free(s1);
    json_object_put(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const json_limits small = {4, 16};
    const json_limits *limits = size && (data[0] & 1) ? &small : NULL;
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    bs_err err;
    bs_err_clear(&err);
    int is_null = 0;
    struct json_object *obj = json_parse_strict(text, size, limits, &is_null, &err);
    free(text);
    if (obj) {
        if (err.status || is_null) abort();
        check_roundtrip(obj, limits);
        json_object_put(obj);
    } else if (is_null) {
        if (err.status) abort();
    } else if (err.status != 400 || strcmp(err.code, "common/invalid-parameters") != 0) {
        abort();
    }
    return 0;
}
