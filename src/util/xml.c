#include "util/xml.h"

#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

#define XML_CHUNK (1024 * 1024) /* XML_Parse takes an int length: the input goes in pieces */

typedef struct xml_node {
    size_t name, text; /* offsets of NUL-terminated strings in the arena (text 0: "") */
    int parent, depth;
} xml_node;

struct xml_doc {
    xml_node *nodes;
    size_t n, cap;
    strbuf arena; /* starts with one NUL, the "" of every empty text */
};

typedef struct reader {
    xml_doc *d;
    XML_Parser p;
    int open[XML_MAX_DEPTH];     /* the elements not yet closed, outermost first */
    strbuf text[XML_MAX_DEPTH];  /* their character data so far */
    int depth;
    int refused;                 /* a limit was passed, or a DOCTYPE or entity declaration came */
    int oom;
} reader;

static void stop(reader *r, int oom)
{
    if (oom) r->oom = 1;
    r->refused = 1;
    XML_StopParser(r->p, XML_FALSE);
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    reader *r = arg;
    xml_doc *d = r->d;
    (void)attrs;
    if (r->refused) return;
    if (r->depth >= XML_MAX_DEPTH || d->n >= XML_MAX_NODES) {
        stop(r, 0);
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        xml_node *nodes = realloc(d->nodes, cap * sizeof *nodes);
        if (!nodes) {
            stop(r, 1);
            return;
        }
        d->nodes = nodes;
        d->cap = cap;
    }
    xml_node *node = &d->nodes[d->n];
    node->name = d->arena.len;
    node->text = 0;
    node->parent = r->depth ? r->open[r->depth - 1] : -1;
    node->depth = r->depth;
    if (strbuf_append(&d->arena, name, strlen(name) + 1) < 0) {
        stop(r, 1);
        return;
    }
    strbuf_reset(&r->text[r->depth]);
    r->open[r->depth++] = (int)d->n++;
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
    reader *r = arg;
    xml_doc *d = r->d;
    (void)name; /* expat has checked that it matches */
    if (r->refused || r->depth == 0) return;
    strbuf *t = &r->text[--r->depth];
    if (t->len == 0) return; /* text stays 0, the arena's "" */
    size_t at = d->arena.len;
    if (strbuf_append(&d->arena, t->data, t->len + 1) < 0) {
        stop(r, 1);
        return;
    }
    d->nodes[r->open[r->depth]].text = at;
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
    reader *r = arg;
    if (r->refused || r->depth == 0) return;
    strbuf *t = &r->text[r->depth - 1];
    if (t->len + (size_t)len > XML_MAX_TEXT) stop(r, 0);
    else if (strbuf_append(t, s, (size_t)len) < 0) stop(r, 1); /* within max: only memory can refuse */
}

static void XMLCALL on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid, int internal)
{
    (void)name, (void)sysid, (void)pubid, (void)internal;
    stop(arg, 0);
}

static void XMLCALL on_entity(void *arg, const XML_Char *name, int param, const XML_Char *value, int len, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
    (void)name, (void)param, (void)value, (void)len, (void)base, (void)sysid, (void)pubid, (void)notation;
    stop(arg, 0);
}

/* Feeds text to r's parser: 1 when it was a whole, well-formed document within the limits. */
static int feed(reader *r, const char *text, size_t len)
{
    if (len > XML_MAX_INPUT) return 0;
    size_t off = 0;
    do {
        size_t k = len - off < XML_CHUNK ? len - off : XML_CHUNK;
        int last = off + k == len;
        if (XML_Parse(r->p, text + off, (int)k, last) != XML_STATUS_OK) return 0;
        off += k;
    } while (off < len);
    return !r->refused;
}

xml_doc *xml_parse(const char *text, size_t len, int strict, int *complete)
{
    xml_doc *d = calloc(1, sizeof *d);
    reader r;
    memset(&r, 0, sizeof r);
    if (complete) *complete = 0;
    if (!d) return NULL;
    strbuf_init(&d->arena, 0);
    for (int i = 0; i < XML_MAX_DEPTH; i++) strbuf_init(&r.text[i], XML_MAX_TEXT);
    r.d = d;
    r.p = XML_ParserCreate(NULL);
    /* white space before the document (S3 sends it to keep a long CompleteMultipartUpload alive before an
     * answer that may still be an <Error>) is skipped: expat refuses it before an XML declaration */
    while (text && len && (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')) text++, len--;
    int ok = 0;
    if (r.p && strbuf_append(&d->arena, "", 1) == 0) {
        XML_SetUserData(r.p, &r);
        XML_SetElementHandler(r.p, on_start, on_end);
        XML_SetCharacterDataHandler(r.p, on_text);
        XML_SetStartDoctypeDeclHandler(r.p, on_doctype);
        XML_SetEntityDeclHandler(r.p, on_entity);
        XML_SetParamEntityParsing(r.p, XML_PARAM_ENTITY_PARSING_NEVER);
        ok = feed(&r, text ? text : "", text ? len : 0) && d->n > 0;
    } else {
        r.oom = 1;
    }
    if (r.p) XML_ParserFree(r.p);
    for (int i = 0; i < XML_MAX_DEPTH; i++) strbuf_release(&r.text[i]);
    if (r.oom || (strict && !ok)) {
        xml_free(d);
        return NULL;
    }
    if (complete) *complete = ok;
    return d;
}

void xml_free(xml_doc *d)
{
    if (!d) return;
    free(d->nodes);
    strbuf_release(&d->arena);
    free(d);
}

static int valid(const xml_doc *d, int node)
{
    return d && node >= 0 && (size_t)node < d->n;
}

size_t xml_count(const xml_doc *d)
{
    return d ? d->n : 0;
}

const char *xml_name(const xml_doc *d, int node)
{
    return valid(d, node) ? d->arena.data + d->nodes[node].name : "";
}

const char *xml_text(const xml_doc *d, int node)
{
    return valid(d, node) ? d->arena.data + d->nodes[node].text : "";
}

int xml_parent(const xml_doc *d, int node)
{
    return valid(d, node) ? d->nodes[node].parent : -1;
}

int xml_child(const xml_doc *d, int parent, const char *name, int after)
{
    if (!valid(d, parent) || !name) return -1;
    size_t i = after > parent && valid(d, after) ? (size_t)after + 1 : (size_t)parent + 1;
    /* parent's descendants follow it, deeper than it, up to the next element that is not */
    for (; i < d->n && d->nodes[i].depth > d->nodes[parent].depth; i++)
        if (d->nodes[i].parent == parent && !strcmp(d->arena.data + d->nodes[i].name, name)) return (int)i;
    return -1;
}

int xml_first(const xml_doc *d, const char *name)
{
    for (size_t i = 0; d && name && i < d->n; i++)
        if (!strcmp(d->arena.data + d->nodes[i].name, name)) return (int)i;
    return -1;
}

int xml_copy(const xml_doc *d, int node, char *out, size_t size)
{
    if (!size) return -1;
    out[0] = '\0';
    if (!valid(d, node)) return -1;
    const char *t = xml_text(d, node);
    size_t n = strlen(t);
    if (n >= size) return -1;
    memcpy(out, t, n + 1);
    return 0;
}
