/* libFuzzer target: xml_parse (util/xml.h), the reader of the S3 driver's answers. Built by CMake with
 * -DBASALT_FUZZ=ON; run it with scripts/fuzz.sh xml SECONDS (docs/security-testing.md).
 *
 * Each input is read from a heap copy of exactly its size, strictly and leniently. What must hold: a
 * strict read succeeds exactly when the lenient one is complete, with the same elements; every element
 * comes after its parent, has a name, text within XML_MAX_TEXT and depth within XML_MAX_DEPTH; there are
 * at most XML_MAX_NODES; the children xml_child walks are the root's; xml_copy never overruns. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const xml_doc *d)
{
    size_t n = xml_count(d);
    char small[8];
    if (n > XML_MAX_NODES) abort();
    for (size_t i = 0; i < n; i++) {
        int node = (int)i, parent = xml_parent(d, node), depth = 0;
        if ((i == 0) != (parent < 0) || parent >= node) abort();
        if (!xml_name(d, node)[0] || strlen(xml_text(d, node)) > XML_MAX_TEXT) abort();
        for (int p = parent; p >= 0; p = xml_parent(d, p)) depth++;
        if (depth >= XML_MAX_DEPTH) abort();
        int rc = xml_copy(d, node, small, sizeof small);
        if ((rc == 0) != (strlen(xml_text(d, node)) < sizeof small) || (rc == 0 && strcmp(small, xml_text(d, node)))) abort();
        if (xml_first(d, xml_name(d, node)) > node) abort();
    }
    for (int c = xml_child(d, 0, "Contents", -1); c >= 0; c = xml_child(d, 0, "Contents", c))
        if (xml_parent(d, c) != 0 || strcmp(xml_name(d, c), "Contents")) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    int complete = 0;
    xml_doc *strict = xml_parse(text, size, 1, NULL), *lenient = xml_parse(text, size, 0, &complete);
    free(text);
    if (!lenient || (strict != NULL) != complete) abort();
    if (strict && xml_count(strict) != xml_count(lenient)) abort();
    check(lenient);
    if (strict) check(strict);
    xml_free(strict);
    xml_free(lenient);
    return 0;
}
