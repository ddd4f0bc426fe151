/* Unit tests of util/xml.h: S3's documents (a ListObjectsV2 page, an error, InitiateMultipartUpload),
 * entities and character references, mixed content, and hostile input: entity declarations (billion
 * laughs, external entities), deep nesting, huge text, too many elements, NUL bytes, junk, clipped
 * documents (strict refuses them, lenient keeps what came before). Built with ASan: a leak fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/xml.h"

static const char LIST[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>p/</Prefix>"
    "<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>"
    "<Contents><Key>p/a&amp;b &lt;c&gt;.png</Key><LastModified>2025-01-15T10:30:00.000Z</LastModified>"
    "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>12</Size>"
    "<Owner><ID>o</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>\n"
    "<Contents><Key>p/&#233;t&#xE9; &#34;x&#39;s&apos;</Key><ETag>&#34;e&#34;</ETag><Size>0</Size></Contents>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "</ListBucketResult>";

static xml_doc *parse(const char *text, int strict, int *complete)
{
    return xml_parse(text, strlen(text), strict, complete);
}

static void test_list_page(void **state)
{
    (void)state;
    int complete = 0;
    xml_doc *d = parse(LIST, 1, &complete);
    assert_non_null(d);
    assert_int_equal(complete, 1);
    assert_string_equal(xml_name(d, 0), "ListBucketResult");
    assert_int_equal(xml_parent(d, 0), -1);
    assert_string_equal(xml_text(d, xml_child(d, 0, "IsTruncated", -1)), "true");
    int c1 = xml_child(d, 0, "Contents", -1), c2 = xml_child(d, 0, "Contents", c1);
    assert_true(c1 > 0 && c2 > c1);
    assert_int_equal(xml_child(d, 0, "Contents", c2), -1);
    assert_string_equal(xml_text(d, xml_child(d, c1, "Key", -1)), "p/a&b <c>.png");
    assert_string_equal(xml_text(d, xml_child(d, c1, "ETag", -1)), "\"9b2cf535f27731c974343645a3985328\"");
    assert_string_equal(xml_text(d, xml_child(d, c1, "Size", -1)), "12");
    assert_int_equal(xml_child(d, c1, "ID", -1), -1); /* a grandchild is not a child */
    assert_string_equal(xml_text(d, xml_first(d, "ID")), "o");
    assert_string_equal(xml_text(d, xml_child(d, c2, "Key", -1)), "p/\xc3\xa9t\xc3\xa9 \"x's'");
    assert_int_equal(xml_child(d, c2, "LastModified", -1), -1); /* stops at the end of c2 */
    assert_string_equal(xml_text(d, xml_child(d, 0, "NextContinuationToken", -1)), "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    char small[4], big[64];
    assert_int_equal(xml_copy(d, xml_child(d, c1, "Size", -1), big, sizeof big), 0);
    assert_string_equal(big, "12");
    assert_int_equal(xml_copy(d, xml_child(d, c1, "Key", -1), small, sizeof small), -1); /* does not fit */
    assert_string_equal(small, "");
    assert_int_equal(xml_copy(d, -1, big, sizeof big), -1);
    assert_string_equal(big, "");
    xml_free(d);
}

static void test_none_chains(void **state)
{
    (void)state;
    char out[8] = "x";
    assert_int_equal(xml_first(NULL, "Code"), -1);
    assert_int_equal(xml_child(NULL, 0, "Code", -1), -1);
    assert_string_equal(xml_name(NULL, 0), "");
    assert_string_equal(xml_text(NULL, -1), "");
    assert_int_equal(xml_count(NULL), 0);
    assert_int_equal(xml_copy(NULL, 0, out, sizeof out), -1);
    assert_string_equal(out, "");
    xml_free(NULL);
}

static void refused(const char *text, size_t len);

static void test_error_and_upload(void **state)
{
    (void)state;
    xml_doc *d = parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>NoSuchKey</Code>"
                       "<Message>The resource you requested does not exist</Message><Resource>/b/k</Resource></Error>",
                       1, NULL);
    assert_non_null(d);
    assert_int_equal(xml_first(d, "Error"), 0);
    assert_string_equal(xml_text(d, xml_first(d, "Code")), "NoSuchKey");
    xml_free(d);
    d = parse("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE-&amp;=</UploadId>"
              "</InitiateMultipartUploadResult>",
              1, NULL);
    assert_string_equal(xml_text(d, xml_first(d, "UploadId")), "VXBsb2FkIElE-&=");
    assert_int_equal(xml_first(d, "Error"), -1);
    xml_free(d);
    /* white space before the declaration, as S3 sends to keep a CompleteMultipartUpload alive */
    d = parse("  \r\n \n\t <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code></Error>", 1, NULL);
    assert_non_null(d);
    assert_int_equal(xml_first(d, "Error"), 0);
    assert_string_equal(xml_text(d, xml_first(d, "Code")), "InternalError");
    xml_free(d);
    d = parse("\n\n<CompleteMultipartUploadResult><ETag>&quot;x-2&quot;</ETag></CompleteMultipartUploadResult>", 1, NULL);
    assert_int_equal(xml_first(d, "Error"), -1);
    assert_string_equal(xml_text(d, xml_first(d, "ETag")), "\"x-2\"");
    xml_free(d);
    refused("   ", 3);
    /* mixed content: the element's own text, not its children's; CDATA is text */
    d = parse("<a>one<b>two</b>three<![CDATA[<four>]]><!-- no --><?pi x?></a>", 1, NULL);
    assert_string_equal(xml_text(d, 0), "onethree<four>");
    assert_string_equal(xml_text(d, 1), "two");
    assert_int_equal(xml_count(d), 2);
    xml_free(d);
}

static void refused(const char *text, size_t len)
{
    int complete = 1;
    assert_null(xml_parse(text, len, 1, &complete));
    assert_int_equal(complete, 0);
    xml_doc *d = xml_parse(text, len, 0, &complete); /* lenient: what came before, never more */
    assert_non_null(d);
    assert_int_equal(complete, 0);
    xml_free(d);
}

static void test_entities_refused(void **state)
{
    (void)state;
    static const char laughs[] = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                                 "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                                 "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
                                 "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>"
                                 "<lolz>&lol4;</lolz>";
    static const char external[] = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
    static const char param[] = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/x.dtd\"> %p;]><r/>";
    static const char dtd[] = "<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"http://127.0.0.1:1/r.dtd\"><r>x</r>";
    refused(laughs, sizeof laughs - 1);
    refused(external, sizeof external - 1);
    refused(param, sizeof param - 1);
    refused(dtd, sizeof dtd - 1);
    int complete = 1;
    xml_doc *d = parse(laughs, 0, &complete);
    assert_int_equal(xml_count(d), 0); /* refused at the DOCTYPE, before any element */
    xml_free(d);
    refused("<r>&undeclared;</r>", 19);
    refused("<r>&#0;</r>", 11);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    enum { DEEP = 100000 };
    strbuf sb;
    strbuf_init(&sb, 0);
    for (int i = 0; i < DEEP; i++) strbuf_append_str(&sb, "<a>");
    for (int i = 0; i < DEEP; i++) strbuf_append_str(&sb, "</a>");
    assert_false(sb.overflow);
    refused(sb.data, sb.len);
    xml_doc *d = xml_parse(sb.data, sb.len, 0, NULL);
    assert_int_equal(xml_count(d), XML_MAX_DEPTH); /* lenient: the elements up to the limit */
    xml_free(d);
    strbuf_reset(&sb); /* exactly the limit is fine */
    for (int i = 0; i < XML_MAX_DEPTH; i++) strbuf_append_str(&sb, "<a>");
    for (int i = 0; i < XML_MAX_DEPTH; i++) strbuf_append_str(&sb, "</a>");
    d = xml_parse(sb.data, sb.len, 1, NULL);
    assert_non_null(d);
    assert_int_equal(xml_count(d), XML_MAX_DEPTH);
    assert_int_equal(xml_parent(d, XML_MAX_DEPTH - 1), XML_MAX_DEPTH - 2);
    xml_free(d);
    strbuf_release(&sb);
}

static void test_huge_text_and_many_nodes(void **state)
{
    (void)state;
    strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_append_str(&sb, "<Error><Code>SlowDown</Code><Message>");
    for (int i = 0; i < 8 * 1024 * 1024 / 64; i++) strbuf_append_str(&sb, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    strbuf_append_str(&sb, "</Message></Error>");
    assert_false(sb.overflow);
    refused(sb.data, sb.len);
    xml_doc *d = xml_parse(sb.data, sb.len, 0, NULL);
    assert_string_equal(xml_text(d, xml_first(d, "Code")), "SlowDown"); /* what came before the limit */
    assert_int_equal(xml_first(d, "Message"), 2);
    assert_string_equal(xml_text(d, 2), ""); /* not closed: no text */
    xml_free(d);
    strbuf_reset(&sb); /* text of exactly the limit is fine, in many pieces (entities split it) */
    strbuf_append_str(&sb, "<a>");
    for (int i = 0; i < XML_MAX_TEXT / 2; i++) strbuf_append_str(&sb, "&amp;x");
    strbuf_append_str(&sb, "</a>");
    d = xml_parse(sb.data, sb.len, 1, NULL);
    assert_non_null(d);
    assert_int_equal(strlen(xml_text(d, 0)), XML_MAX_TEXT);
    xml_free(d);
    strbuf_reset(&sb);
    strbuf_append_str(&sb, "<r>");
    for (int i = 0; i < XML_MAX_NODES; i++) strbuf_append_str(&sb, "<e/>");
    strbuf_append_str(&sb, "</r>");
    refused(sb.data, sb.len); /* the root and XML_MAX_NODES more */
    strbuf_release(&sb);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char nul[] = "<r>a\0b</r>";
    refused(nul, sizeof nul - 1);
    refused("", 0);
    refused("not xml at all", 14);
    refused("<r></r><second/>", 16);
    refused("<a><b></a></b>", 14);
    int complete = 1;
    assert_null(xml_parse(NULL, 5, 1, &complete));
    static const char clipped[] = "<Error><Code>InternalError</Code><Message>We encountered an int";
    xml_doc *d = xml_parse(clipped, sizeof clipped - 1, 0, &complete);
    assert_int_equal(complete, 0);
    assert_string_equal(xml_text(d, xml_first(d, "Code")), "InternalError");
    xml_free(d);
    assert_null(xml_parse(clipped, sizeof clipped - 1, 1, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_page),
        cmocka_unit_test(test_none_chains),
        cmocka_unit_test(test_error_and_upload),
        cmocka_unit_test(test_entities_refused),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_huge_text_and_many_nodes),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
