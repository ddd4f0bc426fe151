/* xml: a small reader of XML answers (S3's ListObjectsV2, multipart and error documents) on expat.
 * xml_parse reads a document into a flat list of its elements in document order, each with its name,
 * its parent and its own character data (entities and character references decoded; the text of child
 * elements is theirs, not the parent's). Attributes, comments and processing instructions are dropped.
 *
 * Hostile input is refused, never expanded: any DOCTYPE (so no entity is ever declared: no "billion
 * laughs", no external entity, no DTD fetch), more than XML_MAX_DEPTH open elements, more than
 * XML_MAX_NODES elements, an element's text over XML_MAX_TEXT bytes, input over XML_MAX_INPUT bytes.
 * Memory stays within a small multiple of the input. Text never holds a NUL (expat refuses it).
 *
 * White space before the document is skipped (S3 may send some before an answer, even before its XML
 * declaration, to keep a connection alive).
 *
 * Element 0 is the root. An index is valid until xml_free; -1 stands for "none" everywhere, and every
 * reader accepts a NULL document and -1 (returning none), so lookups chain without checks. */
#ifndef BASALT_UTIL_XML_H
#define BASALT_UTIL_XML_H

#include <stddef.h>

#define XML_MAX_DEPTH 32
#define XML_MAX_NODES 65536
#define XML_MAX_TEXT (16 * 1024)
#define XML_MAX_INPUT (64 * 1024 * 1024)

typedef struct xml_doc xml_doc;

/* Reads text[0..len). strict: NULL unless the whole text is one well-formed document within the limits.
 * Lenient (strict 0): the elements completed before the first error or limit, so a clipped error body
 * still names its code; NULL only when out of memory. *complete (when not NULL): 1 for a whole, well-formed
 * document within the limits. Free with xml_free. */
xml_doc *xml_parse(const char *text, size_t len, int strict, int *complete);
void xml_free(xml_doc *d);

size_t xml_count(const xml_doc *d);                 /* elements read */
const char *xml_name(const xml_doc *d, int node);   /* "" for none */
const char *xml_text(const xml_doc *d, int node);   /* its own character data; "" for none */
int xml_parent(const xml_doc *d, int node);         /* -1 for the root */
/* The first child of parent named name after the element `after` (-1: from the first child). */
int xml_child(const xml_doc *d, int parent, const char *name, int after);
/* The first element named name anywhere in the document (the root included). */
int xml_first(const xml_doc *d, const char *name);
/* Copies the text of node into out: 0, or -1 (out "") when node is none or its text does not fit. */
int xml_copy(const xml_doc *d, int node, char *out, size_t size);

#endif
