/* blobs_s3: store/blobs.h on an S3-compatible service, AWS Signature Version 4 over libcurl. Each request
 * uses its own easy handle and the driver holds nothing but its settings (and one atomic flag), so any
 * thread may call anything. Objects live at <prefix><key> in the bucket, addressed path-style
 * (endpoint/bucket/key) or virtual-host style (bucket.endpoint/key). Every request is signed in its
 * Authorization header, with the SHA-256 of its body (request bodies are in memory: at most one part).
 *
 * Writes: a writer buffers up to STORE_BLOBS_S3_PART_SIZE bytes. An object that fits is sent at commit
 * with one PutObject (with Content-MD5); a larger one becomes a multipart upload, started when the buffer
 * first overflows, one UploadPart per full buffer, CompleteMultipartUpload at commit and
 * AbortMultipartUpload on abort, so the object appears whole or not at all. The ETag reported is
 * computed here from the bytes (for a single PUT the service's own wins when it differs, since HEAD
 * shows that one).
 *
 * Compose: a multipart upload of UploadPartCopy parts, one per source, so no byte passes through here;
 * used when every source but the last has S3's minimum part size (5 MiB) and the service copies parts.
 * Otherwise (or once the service answered NotImplemented) the sources are streamed through a writer
 * (GET into the buffer, UploadPart when full). The ETag reported is the multipart ETag of the sources'
 * MD5s either way; after a streamed compose the service's own ETag of the object may differ.
 *
 * Listing (store_blobs_s3_list): ListObjectsV2 pages of up to 1000 keys, each answer streamed into a
 * bounded buffer and read for its Key, ETag, Size and LastModified.
 *
 * XML answers (listings, InitiateMultipartUpload, UploadPartCopy, errors) are read with util/xml (expat,
 * no DTD, bounded): a listing must be well-formed; an error body is read as far as it goes.
 *
 * Errors: a failed exchange or a 5xx is 502 file/storage-unavailable, 403 (or a missing bucket) 500
 * file/bucket-not-configured; both are logged, never with a secret. */
#include "store/s3/blobs_s3.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store/blobs_driver.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/xml.h"

#define S3_PART_SIZE STORE_BLOBS_S3_PART_SIZE
#define S3_MIN_PART (5u * 1024 * 1024)          /* S3's smallest part but the last */
#define S3_MAX_COPY (5ull * 1024 * 1024 * 1024) /* the largest source one UploadPartCopy takes whole */
#define S3_MAX_PARTS 10000
#define S3_TEXT_MAX 256   /* endpoint parts, bucket, credentials, prefix, content type */
#define S3_URI_MAX 4096
#define S3_URL_MAX 8192
#define S3_ID_MAX 1024    /* an upload ID */
#define S3_QUERY_MAX (3 * S3_ID_MAX + 64)
#define S3_BODY_MAX (64 * 1024) /* the most of a response body kept (errors, XML results) */
#define S3_HDR_MAX 8
#define S3_AMZ_DATE 17    /* "YYYYMMDDTHHMMSSZ" + NUL */
#define S3_CONNECT_TIMEOUT_S 10L
#define S3_STALL_TIMEOUT_S 60L /* a transfer that moves no byte this long fails */
#define S3_UNSIGNED "UNSIGNED-PAYLOAD"

typedef struct s3_driver {
    char scheme[8];              /* "http" or "https" */
    char authority[S3_TEXT_MAX]; /* host[:port] of the endpoint */
    char base[S3_TEXT_MAX];      /* the endpoint's path without a trailing '/': "" or "/x" */
    char region[64], bucket[S3_TEXT_MAX], access_key[S3_TEXT_MAX], secret_key[S3_TEXT_MAX], prefix[S3_TEXT_MAX];
    int path_style;
    atomic_int no_copy; /* the service answered NotImplemented to UploadPartCopy */
} s3_driver;

typedef struct s3_hdr {
    const char *name, *value; /* name in lower case */
} s3_hdr;

typedef size_t (*s3_stream)(const char *data, size_t n, long status, void *arg); /* n to go on */

typedef struct s3_req {
    const char *method;
    const char *key;        /* without the prefix */
    int on_bucket;          /* a request on the bucket itself (key is then only named in logs) */
    const char *query;      /* canonical query string, "" for none */
    s3_hdr hdr[S3_HDR_MAX]; /* more headers to sign and send; the signer adds host and x-amz-* */
    size_t nhdr;
    const void *body; /* PUT and POST; NULL for none */
    size_t body_len;
    s3_stream stream; /* receives a 2xx body, which is then not kept */
    void *stream_arg;
} s3_req;

typedef struct s3_res {
    long status;
    char etag[STORE_BLOB_ETAG_MAX];
    uint64_t length;
    int64_t modified_ms;
    strbuf body;   /* a body not streamed, at most S3_BODY_MAX bytes */
    xml_doc *xml;  /* body read as XML (as far as it is well-formed); NULL when empty */
    char code[64]; /* the S3 error code the body names, "" when none */
    int stopped;   /* the stream ended the transfer */
} s3_res;

typedef struct s3_target {
    char host[2 * S3_TEXT_MAX];
    char uri[S3_URI_MAX]; /* the canonical URI, also the URL's path */
    char url[S3_URL_MAX];
} s3_target;

/* A multipart upload: its ID ("" before it starts) and the parts sent so far. */
typedef struct s3_upload {
    char id[S3_ID_MAX];
    unsigned char (*md5)[16];
    char (*etag)[STORE_BLOB_ETAG_MAX]; /* as the service answered, for CompleteMultipartUpload */
    size_t n, cap;
} s3_upload;

typedef struct s3_writer {
    store_blob_writer base;
    s3_driver *d;
    char key[STORE_BLOB_KEY_MAX + 1];
    char type[S3_TEXT_MAX];
    char *buf;
    size_t len, cap;
    uint64_t size;
    s3_upload up;
} s3_writer;

static const store_blobs_ops s3_ops;

/* ---- text ---- */

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Appends s to out[*len..size) as it is; -1 when it does not fit. */
static int raw_append(char *out, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= size) return -1;
    memcpy(out + *len, s, n + 1);
    *len += n;
    return 0;
}

/* Appends s percent-encoded the SigV4 way (strbuf_append_percent: unreserved characters kept, and '/'
 * when keep_slash) to out[*len..size); -1 when it does not fit. */
static int enc_append(char *out, size_t size, size_t *len, const char *s, int keep_slash)
{
    strbuf enc;
    strbuf_init(&enc, size);
    int rc = strbuf_append_percent(&enc, s, keep_slash) < 0 ? -1 : raw_append(out, size, len, enc.data ? enc.data : "");
    strbuf_release(&enc);
    return rc;
}

/* Copies src (NULL as "") into dst; -1 when it does not fit or has a space or control character. */
static int copy_plain(char *dst, size_t size, const char *src)
{
    src = src ? src : "";
    size_t n = strlen(src);
    if (n >= size) return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)src[i] <= ' ' || src[i] == 0x7f) return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* A content type as SigV4 canonicalizes a header value (trimmed, runs of blanks as one space) into out;
 * 400 when it is too long or has control characters (it goes into a header line). */
static int type_copy(char out[S3_TEXT_MAX], const char *type, bs_err *err)
{
    size_t n = 0;
    for (const char *p = type; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < ' ' && c != '\t') || c == 0x7f) return bs_err_set(err, 400, "common/invalid-parameters", "Invalid content type");
        if (c == ' ' || c == '\t') {
            if (n && out[n - 1] != ' ') c = ' ';
            else continue;
        }
        if (n + 1 >= S3_TEXT_MAX) return bs_err_set(err, 400, "common/invalid-parameters", "Content type too long");
        out[n++] = (char)c;
    }
    while (n && out[n - 1] == ' ') n--;
    out[n] = '\0';
    return 0;
}

/* ---- settings ---- */

static int parse_endpoint(s3_driver *d, const char *endpoint)
{
    const char *rest = NULL;
    if (endpoint && !strncmp(endpoint, "https://", 8)) snprintf(d->scheme, sizeof d->scheme, "https"), rest = endpoint + 8;
    else if (endpoint && !strncmp(endpoint, "http://", 7)) snprintf(d->scheme, sizeof d->scheme, "http"), rest = endpoint + 7;
    if (!rest) return -1;
    size_t host = strcspn(rest, "/");
    if (host == 0 || host >= sizeof d->authority || strpbrk(rest, "?#")) return -1;
    memcpy(d->authority, rest, host);
    d->authority[host] = '\0';
    if (copy_plain(d->base, sizeof d->base, rest + host) < 0 || copy_plain(d->authority, sizeof d->authority, d->authority) < 0)
        return -1;
    size_t n = strlen(d->base);
    while (n && d->base[n - 1] == '/') d->base[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (d->base[i] != '/' && !unreserved((unsigned char)d->base[i])) return -1; /* it goes into the URI as it is */
    return 0;
}

/* Loads cfg into d; NULL, or the name of the setting that is wrong. */
static const char *s3_config_read(s3_driver *d, const store_s3_config *cfg)
{
    if (parse_endpoint(d, cfg->endpoint) < 0) return "endpoint";
    if (copy_plain(d->region, sizeof d->region, cfg->region && *cfg->region ? cfg->region : "us-east-1") < 0) return "region";
    if (!cfg->bucket || !*cfg->bucket || copy_plain(d->bucket, sizeof d->bucket, cfg->bucket) < 0) return "bucket";
    if (!cfg->access_key || !*cfg->access_key || copy_plain(d->access_key, sizeof d->access_key, cfg->access_key) < 0)
        return "access key";
    if (!cfg->secret_key || !*cfg->secret_key || copy_plain(d->secret_key, sizeof d->secret_key, cfg->secret_key) < 0)
        return "secret key";
    if (copy_plain(d->prefix, sizeof d->prefix, cfg->prefix) < 0) return "prefix";
    d->path_style = cfg->path_style;
    return NULL;
}

store_blobs *store_blobs_s3_new(const store_s3_config *cfg, bs_err *err)
{
    s3_driver *d = calloc(1, sizeof *d);
    if (!d) {
        bs_err_internal(err);
        return NULL;
    }
    const char *bad = cfg ? s3_config_read(d, cfg) : "whole";
    if (bad) {
        log_error("blobs s3: the %s setting is missing or invalid", bad);
        OPENSSL_cleanse(d, sizeof *d);
        free(d);
        bs_err_set(err, 500, "file/bucket-not-configured", "The file storage bucket is not configured");
        return NULL;
    }
    atomic_init(&d->no_copy, 0);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { /* reference-counted and thread-safe in this libcurl */
        log_error("blobs s3: libcurl failed to initialize");
        OPENSSL_cleanse(d, sizeof *d);
        free(d);
        bs_err_internal(err);
        return NULL;
    }
    return store_blobs_wrap(&s3_ops, d, err);
}

static void s3_free(void *driver)
{
    if (!driver) return;
    OPENSSL_cleanse(driver, sizeof(s3_driver));
    free(driver);
    curl_global_cleanup();
}

/* ---- signing (AWS Signature Version 4) ---- */

static void amz_now(char out[S3_AMZ_DATE])
{
    time_t t = time(NULL); /* the service checks real time: no test clock here */
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, S3_AMZ_DATE, "%Y%m%dT%H%M%SZ", &tm);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int hdr_cmp(const void *a, const void *b) { return strcmp(((const s3_hdr *)a)->name, ((const s3_hdr *)b)->name); }

static void signed_names(strbuf *out, const s3_hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) strbuf_appendf(out, "%s%s", i ? ";" : "", h[i].name);
}

/* The canonical request (SigV4 task 1) with headers h[0..n) sorted by name. */
static int canonical_request(strbuf *out, const char *method, const char *uri, const char *query, const s3_hdr *h, size_t n,
                             const char *payload_hash)
{
    strbuf_appendf(out, "%s\n%s\n%s\n", method, uri, query);
    for (size_t i = 0; i < n; i++) strbuf_appendf(out, "%s:%s\n", h[i].name, h[i].value);
    strbuf_append_char(out, '\n');
    signed_names(out, h, n);
    strbuf_appendf(out, "\n%s", payload_hash);
    return out->overflow ? -1 : 0;
}

/* The hex signature of canonical request creq made at amz_date (SigV4 tasks 2 to 4). */
static void sign_request(const s3_driver *d, const char *amz_date, const char *creq, char sig[CRYPTO_SHA256_HEX])
{
    char hash[CRYPTO_SHA256_HEX], sts[256], k0[S3_TEXT_MAX + 4];
    uint8_t k1[CRYPTO_SHA256_LEN], k2[CRYPTO_SHA256_LEN], k3[CRYPTO_SHA256_LEN], k4[CRYPTO_SHA256_LEN], mac[CRYPTO_SHA256_LEN];
    crypto_sha256_hex(creq, strlen(creq), hash);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/s3/aws4_request\n%s", amz_date, amz_date, d->region, hash);
    snprintf(k0, sizeof k0, "AWS4%s", d->secret_key);
    crypto_hmac_sha256(k0, strlen(k0), amz_date, 8, k1);
    crypto_hmac_sha256(k1, sizeof k1, d->region, strlen(d->region), k2);
    crypto_hmac_sha256(k2, sizeof k2, "s3", 2, k3);
    crypto_hmac_sha256(k3, sizeof k3, "aws4_request", 12, k4);
    crypto_hmac_sha256(k4, sizeof k4, sts, strlen(sts), mac);
    crypto_hex(mac, sizeof mac, sig);
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(k4, sizeof k4);
}

/* Appends the Authorization header line of a request with headers h[0..n) (sorted here; they include
 * host, x-amz-content-sha256 and x-amz-date). */
static int authorization(const s3_driver *d, const char *method, const char *uri, const char *query, s3_hdr *h, size_t n,
                         const char *payload_hash, const char *amz_date, strbuf *out)
{
    char sig[CRYPTO_SHA256_HEX];
    strbuf creq;
    strbuf_init(&creq, 0);
    qsort(h, n, sizeof *h, hdr_cmp);
    int rc = canonical_request(&creq, method, uri, query, h, n, payload_hash);
    if (rc == 0) sign_request(d, amz_date, creq.data, sig);
    strbuf_release(&creq);
    if (rc < 0) return -1;
    strbuf_appendf(out, "Authorization: AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/s3/aws4_request,SignedHeaders=", d->access_key,
                   amz_date, d->region);
    signed_names(out, h, n);
    strbuf_appendf(out, ",Signature=%s", sig);
    return out->overflow ? -1 : 0;
}

/* Where key (without the prefix; NULL for the bucket itself) lives; query ("" for none, already
 * canonical) ends the URL. */
static int target_of(const s3_driver *d, const char *key, const char *query, s3_target *t)
{
    size_t n = 0;
    int rc = 0;
    if (d->path_style) snprintf(t->host, sizeof t->host, "%s", d->authority);
    else snprintf(t->host, sizeof t->host, "%s.%s", d->bucket, d->authority);
    t->uri[0] = '\0';
    rc |= raw_append(t->uri, sizeof t->uri, &n, d->base);
    if (d->path_style) rc |= raw_append(t->uri, sizeof t->uri, &n, "/") | enc_append(t->uri, sizeof t->uri, &n, d->bucket, 0);
    if (key || !d->path_style) rc |= raw_append(t->uri, sizeof t->uri, &n, "/");
    if (key) rc |= enc_append(t->uri, sizeof t->uri, &n, d->prefix, 1) | enc_append(t->uri, sizeof t->uri, &n, key, 1);
    int len = snprintf(t->url, sizeof t->url, "%s://%s%s%s%s", d->scheme, t->host, t->uri, *query ? "?" : "", query);
    return rc == 0 && len > 0 && (size_t)len < sizeof t->url ? 0 : -1;
}

/* ---- one request ---- */

static void req_hdr(s3_req *req, const char *name, const char *value)
{
    if (req->nhdr < S3_HDR_MAX) req->hdr[req->nhdr++] = (s3_hdr){name, value};
}

static struct curl_slist *slist_add(struct curl_slist *list, const char *line)
{
    struct curl_slist *next = curl_slist_append(list, line);
    if (!next) curl_slist_free_all(list);
    return next;
}

/* The header lines of req to t, signed now; NULL when they do not fit or memory ran out. */
static struct curl_slist *request_headers(const s3_driver *d, const s3_req *req, const s3_target *t)
{
    char amz_date[S3_AMZ_DATE], hash[CRYPTO_SHA256_HEX];
    s3_hdr h[S3_HDR_MAX + 3];
    size_t n = req->nhdr;
    if (n > S3_HDR_MAX) return NULL;
    amz_now(amz_date);
    crypto_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0, hash);
    memcpy(h, req->hdr, n * sizeof *h);
    h[n++] = (s3_hdr){"host", t->host};
    h[n++] = (s3_hdr){"x-amz-content-sha256", hash};
    h[n++] = (s3_hdr){"x-amz-date", amz_date};
    strbuf line;
    strbuf_init(&line, 0);
    struct curl_slist *list = authorization(d, req->method, t->uri, req->query, h, n, hash, amz_date, &line) == 0
                                  ? slist_add(NULL, line.data)
                                  : NULL;
    for (size_t i = 0; list && i < n; i++) {
        strbuf_reset(&line);
        strbuf_appendf(&line, "%s: %s", h[i].name, h[i].value);
        list = line.overflow ? (curl_slist_free_all(list), NULL) : slist_add(list, line.data);
    }
    if (list) list = slist_add(list, "Expect:"); /* no 100-continue round trip */
    strbuf_release(&line);
    return list;
}

typedef struct s3_xfer {
    const s3_req *req;
    s3_res *res;
    CURL *curl;
    size_t sent;
} s3_xfer;

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
    s3_res *res = arg;
    size_t len = size * n;
    if (len >= 5 && !strncmp(line, "HTTP/", 5)) res->etag[0] = '\0'; /* a new response (after a 1xx) */
    if (len <= 5 || strncasecmp(line, "etag:", 5)) return len;
    const char *v = line + 5;
    size_t vlen = len - 5;
    while (vlen && (*v == ' ' || *v == '\t')) v++, vlen--;
    while (vlen && strchr(" \t\r\n", v[vlen - 1])) vlen--;
    if (vlen < sizeof res->etag) {
        memcpy(res->etag, v, vlen);
        res->etag[vlen] = '\0';
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    s3_xfer *x = arg;
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    if (x->req->stream && status >= 200 && status < 300) {
        if (x->req->stream(data, len, status, x->req->stream_arg) == len) return len;
        x->res->stopped = 1;
        return 0;
    }
    if (x->res->body.len + len <= S3_BODY_MAX) strbuf_append(&x->res->body, data, len);
    return len;
}

static size_t on_send(char *buf, size_t size, size_t n, void *arg)
{
    s3_xfer *x = arg;
    size_t left = x->req->body_len - x->sent, k = size * n < left ? size * n : left;
    if (k) memcpy(buf, (const char *)x->req->body + x->sent, k);
    x->sent += k;
    return k;
}

static CURLcode transfer(CURL *c, const s3_target *t, struct curl_slist *headers, s3_xfer *x)
{
    const s3_req *req = x->req;
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, S3_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, S3_STALL_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_FILETIME, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x->res);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    if (!strcmp(req->method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(req->method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_send);
        curl_easy_setopt(c, CURLOPT_READDATA, x);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else if (!strcmp(req->method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }
    return curl_easy_perform(c);
}

static void res_info(CURL *c, s3_res *res)
{
    curl_off_t len = -1, mtime = -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    curl_easy_getinfo(c, CURLINFO_FILETIME_T, &mtime);
    res->length = len > 0 ? (uint64_t)len : 0;
    res->modified_ms = mtime > 0 ? (int64_t)mtime * 1000 : 0;
    res->xml = res->body.len ? xml_parse(res->body.data, res->body.len, 0, NULL) : NULL;
    xml_copy(res->xml, xml_first(res->xml, "Code"), res->code, sizeof res->code);
}

static void res_release(s3_res *res)
{
    strbuf_release(&res->body);
    xml_free(res->xml);
    res->xml = NULL;
}

/* Sends req and fills res (released by the caller with res_release, whatever the outcome). 0 when an
 * answer came, of any status (res->stopped when the stream ended it), -1 with err when none did. */
static int s3_perform(const s3_driver *d, const s3_req *req, s3_res *res, bs_err *err)
{
    s3_target t;
    struct curl_slist *headers = NULL;
    memset(res, 0, sizeof *res);
    strbuf_init(&res->body, 0);
    if (target_of(d, req->on_bucket ? NULL : req->key, req->query, &t) < 0 || !(headers = request_headers(d, req, &t))) {
        log_error("blobs s3: %s %s: the request does not fit", req->method, req->key);
        return bs_err_internal(err);
    }
    CURL *c = curl_easy_init();
    s3_xfer x = {req, res, c, 0};
    CURLcode rc = c ? transfer(c, &t, headers, &x) : CURLE_FAILED_INIT;
    if (c) res_info(c, res);
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && res->stopped)) return 0;
    log_error("blobs s3: %s %s: %s", req->method, req->key, curl_easy_strerror(rc));
    return bs_err_set(err, 502, "file/storage-unavailable", "The file storage is unavailable");
}

/* A success (S3 can answer 200 with an error document to a long request). */
static int answered_ok(const s3_res *res)
{
    return res->status >= 200 && res->status < 300 && xml_first(res->xml, "Error") < 0;
}

/* The error for an answer that is not a success, logged when it is not the caller's fault. */
static int answer_err(const s3_driver *d, const s3_req *req, const s3_res *res, bs_err *err)
{
    long s = res->status;
    const char *code = res->code[0] ? res->code : "no error code";
    int bucket = s == 403 || s == 301 || !strcmp(res->code, "NoSuchBucket") || !strcmp(res->code, "AuthorizationHeaderMalformed");
    if (s == 404 && (!res->code[0] || !strcmp(res->code, "NoSuchKey"))) /* not NoSuchUpload, NoSuchBucket */
        return bs_err_set(err, 404, "file/not-found", "No such object");
    if (s == 416) return bs_err_set(err, 416, "file/invalid-range", "Range beyond the object");
    if (bucket) {
        log_error("blobs s3: %s %s: %ld (%s): check the bucket %s, its region %s and the credentials", req->method, req->key, s,
                  code, d->bucket, d->region);
        return bs_err_set(err, 500, "file/bucket-not-configured", "The file storage bucket is not configured");
    }
    log_error("blobs s3: %s %s: %ld (%s)", req->method, req->key, s, code);
    if (s >= 500 || s < 300) return bs_err_set(err, 502, "file/storage-unavailable", "The file storage is unavailable");
    return bs_err_set(err, 500, "common/internal-error", "File storage failed");
}

/* perform, then answer_err unless the answer is a success. */
static int s3_call(const s3_driver *d, const s3_req *req, s3_res *res, bs_err *err)
{
    if (s3_perform(d, req, res, err) < 0) return -1;
    return answered_ok(res) ? 0 : answer_err(d, req, res, err);
}

static int bad_answer(const s3_req *req, const char *what, bs_err *err)
{
    log_error("blobs s3: %s %s: the answer has no %s", req->method, req->key, what);
    return bs_err_set(err, 502, "file/storage-unavailable", "The file storage is unavailable");
}

/* ---- stat, read, delete ---- */

static int s3_stat(void *driver, const char *key, store_blob_info *info, int *found, bs_err *err)
{
    s3_req req = {.method = "HEAD", .key = key, .query = ""};
    s3_res res;
    int rc = s3_perform(driver, &req, &res, err);
    if (rc == 0 && answered_ok(&res)) {
        *found = 1;
        info->size = res.length;
        info->modified_ms = res.modified_ms;
        snprintf(info->etag, sizeof info->etag, "%s", res.etag);
    } else if (rc == 0 && res.status != 404) {
        rc = answer_err(driver, &req, &res, err);
    }
    res_release(&res);
    return rc;
}

typedef struct read_state {
    store_blob_sink sink;
    void *arg;
    uint64_t skip, left;
    int sink_stopped;
} read_state;

static size_t read_chunk(const char *data, size_t n, long status, void *arg)
{
    read_state *s = arg;
    if (status == 206) s->skip = 0; /* the service applied the range (a 200 is the whole object) */
    size_t off = s->skip < n ? (size_t)s->skip : n;
    s->skip -= off;
    size_t take = n - off < s->left ? n - off : (size_t)s->left;
    if (take && s->sink(data + off, take, s->arg) < 0) {
        s->sink_stopped = 1;
        return 0;
    }
    s->left -= take;
    return off + take == n ? n : 0; /* past the range: stop */
}

/* A read of no bytes: only whether the object is there. */
static int read_nothing(void *driver, const char *key, bs_err *err)
{
    store_blob_info info;
    int found = 0;
    if (s3_stat(driver, key, &info, &found, err) < 0) return -1;
    return found ? 0 : bs_err_set(err, 404, "file/not-found", "No such object");
}

static int s3_read(void *driver, const char *key, uint64_t offset, uint64_t len, store_blob_sink sink, void *arg, bs_err *err)
{
    if (len == 0) return read_nothing(driver, key, err);
    if (len > UINT64_MAX - offset) return bs_err_set(err, 416, "file/invalid-range", "Range beyond the object");
    char range[64];
    snprintf(range, sizeof range, "bytes=%" PRIu64 "-%" PRIu64, offset, offset + len - 1);
    read_state st = {sink, arg, offset, len, 0};
    s3_req req = {.method = "GET", .key = key, .query = "", .stream = read_chunk, .stream_arg = &st};
    req_hdr(&req, "range", range);
    s3_res res;
    int rc = s3_perform(driver, &req, &res, err);
    if (rc == 0 && st.sink_stopped) rc = -1;
    else if (rc == 0 && !answered_ok(&res)) rc = answer_err(driver, &req, &res, err);
    else if (rc == 0 && st.left) rc = bs_err_set(err, 416, "file/invalid-range", "Range beyond the object");
    res_release(&res);
    return rc;
}

static int s3_del(void *driver, const char *key, int *found, bs_err *err)
{
    store_blob_info info;
    if (s3_stat(driver, key, &info, found, err) < 0) return -1; /* S3 answers 204 whether or not it was there */
    if (!*found) return 0;
    s3_req req = {.method = "DELETE", .key = key, .query = ""};
    s3_res res;
    int rc = s3_perform(driver, &req, &res, err);
    if (rc == 0 && !answered_ok(&res) && res.status != 404) rc = answer_err(driver, &req, &res, err);
    res_release(&res);
    return rc;
}

/* ---- whole objects and multipart uploads ---- */

/* The MD5 of data: bytes, base64 (for Content-MD5) and the quoted hex of an ETag. */
static void md5_of(const void *data, size_t len, unsigned char md5[16], char b64[25], char etag[STORE_BLOB_ETAG_MAX])
{
    char hex[33];
    EVP_Digest(data ? data : "", len, md5, NULL, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)b64, md5, 16);
    crypto_hex(md5, 16, hex);
    snprintf(etag, STORE_BLOB_ETAG_MAX, "\"%s\"", hex);
}

/* PutObject of data; fills info->etag. */
static int put_whole(const s3_driver *d, const char *key, const char *type, const void *data, size_t len, store_blob_info *info,
                     bs_err *err)
{
    unsigned char md5[16];
    char b64[25];
    md5_of(data, len, md5, b64, info->etag);
    s3_req req = {.method = "PUT", .key = key, .query = "", .body = data, .body_len = len};
    req_hdr(&req, "content-md5", b64);
    req_hdr(&req, "content-type", type);
    s3_res res;
    int rc = s3_call(d, &req, &res, err);
    if (rc == 0 && res.etag[0] && strcasecmp(res.etag, info->etag)) {
        log_warn("blobs s3: PUT %s: the service's ETag %s is not the MD5 %s; reporting the service's", key, res.etag, info->etag);
        snprintf(info->etag, sizeof info->etag, "%s", res.etag);
    }
    res_release(&res);
    return rc;
}

static int upload_query(const s3_upload *up, size_t part, char *out, size_t size)
{
    size_t n = 0;
    int k = part ? snprintf(out, size, "partNumber=%zu&uploadId=", part) : snprintf(out, size, "uploadId=");
    if (k < 0 || (size_t)k >= size) return -1;
    n = (size_t)k;
    return enc_append(out, size, &n, up->id, 0);
}

static int upload_start(const s3_driver *d, const char *key, const char *type, s3_upload *up, bs_err *err)
{
    s3_req req = {.method = "POST", .key = key, .query = "uploads="};
    req_hdr(&req, "content-type", type);
    s3_res res;
    int rc = s3_call(d, &req, &res, err);
    if (rc == 0 && (xml_copy(res.xml, xml_first(res.xml, "UploadId"), up->id, sizeof up->id) < 0 || !up->id[0]))
        rc = bad_answer(&req, "UploadId", err);
    res_release(&res);
    return rc;
}

static int upload_add(s3_upload *up, const unsigned char md5[16], const char *etag, bs_err *err)
{
    if (up->n == up->cap) {
        size_t cap = up->cap ? up->cap * 2 : 16;
        unsigned char (*m)[16] = realloc(up->md5, cap * sizeof *m);
        if (m) up->md5 = m;
        char (*e)[STORE_BLOB_ETAG_MAX] = m ? realloc(up->etag, cap * sizeof *e) : NULL;
        if (!e) return bs_err_internal(err);
        up->etag = e;
        up->cap = cap;
    }
    memcpy(up->md5[up->n], md5, 16);
    snprintf(up->etag[up->n], STORE_BLOB_ETAG_MAX, "%s", etag);
    up->n++;
    return 0;
}

static void upload_release(s3_upload *up)
{
    free(up->md5);
    free(up->etag);
    memset(up, 0, sizeof *up);
}

/* UploadPart of data as the next part of up. */
static int upload_part(const s3_driver *d, const char *key, s3_upload *up, const void *data, size_t len, bs_err *err)
{
    unsigned char md5[16];
    char b64[25], own[STORE_BLOB_ETAG_MAX], query[S3_QUERY_MAX];
    if (up->n == S3_MAX_PARTS) return bs_err_set(err, 413, "file/too-large", "The object is too large for the file storage");
    if (upload_query(up, up->n + 1, query, sizeof query) < 0) return bs_err_internal(err);
    md5_of(data, len, md5, b64, own);
    s3_req req = {.method = "PUT", .key = key, .query = query, .body = data, .body_len = len};
    req_hdr(&req, "content-md5", b64);
    s3_res res;
    int rc = s3_call(d, &req, &res, err);
    if (rc == 0) rc = upload_add(up, md5, res.etag[0] ? res.etag : own, err);
    res_release(&res);
    return rc;
}

static int upload_complete(const s3_driver *d, const char *key, const s3_upload *up, bs_err *err)
{
    char query[S3_QUERY_MAX];
    strbuf xml;
    strbuf_init(&xml, 0);
    strbuf_append_str(&xml, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < up->n; i++)
        strbuf_appendf(&xml, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1, up->etag[i]);
    strbuf_append_str(&xml, "</CompleteMultipartUpload>");
    int rc = xml.overflow || upload_query(up, 0, query, sizeof query) < 0 ? bs_err_internal(err) : 0;
    s3_req req = {.method = "POST", .key = key, .query = query, .body = xml.data, .body_len = xml.len};
    req_hdr(&req, "content-type", "application/xml");
    s3_res res;
    if (rc == 0) {
        rc = s3_call(d, &req, &res, err);
        res_release(&res);
    }
    strbuf_release(&xml);
    return rc;
}

/* AbortMultipartUpload of up, when it started; a failure is only logged (the bucket's lifecycle rules
 * must then clean it). */
static void upload_abort(const s3_driver *d, const char *key, const s3_upload *up)
{
    char query[S3_QUERY_MAX];
    if (!up->id[0] || upload_query(up, 0, query, sizeof query) < 0) return;
    s3_req req = {.method = "DELETE", .key = key, .query = query};
    s3_res res;
    bs_err ignored;
    bs_err_clear(&ignored);
    if (s3_perform(d, &req, &res, &ignored) < 0 || !(answered_ok(&res) || res.status == 404))
        log_warn("blobs s3: could not abort an upload of %s (%ld %s)", key, res.status, res.code);
    res_release(&res);
}

/* ---- writers ---- */

static store_blob_writer *s3_put_begin(void *driver, const char *key, const char *content_type, bs_err *err)
{
    s3_writer *w = calloc(1, sizeof *w);
    if (!w) {
        bs_err_internal(err);
        return NULL;
    }
    if (type_copy(w->type, content_type, err) < 0) {
        free(w);
        return NULL;
    }
    w->base.ops = &s3_ops;
    w->d = driver;
    snprintf(w->key, sizeof w->key, "%s", key);
    return &w->base; /* nothing is sent before the first full buffer */
}

static int buf_reserve(s3_writer *w, size_t need)
{
    if (need <= w->cap) return 0;
    size_t cap = w->cap ? w->cap : 64 * 1024;
    while (cap < need) cap *= 2;
    if (cap > S3_PART_SIZE) cap = S3_PART_SIZE;
    char *p = realloc(w->buf, cap);
    if (!p) return -1;
    w->buf = p;
    w->cap = cap;
    return 0;
}

/* Sends the full buffer as the next part (starting the upload with the first). */
static int flush_part(s3_writer *w, bs_err *err)
{
    if (!w->up.id[0] && upload_start(w->d, w->key, w->type, &w->up, err) < 0) return -1;
    if (upload_part(w->d, w->key, &w->up, w->buf, w->len, err) < 0) return -1;
    w->len = 0;
    return 0;
}

static int s3_write(store_blob_writer *base, const void *data, size_t len, bs_err *err)
{
    s3_writer *w = (s3_writer *)base;
    const char *p = data;
    while (len) {
        if (w->len == S3_PART_SIZE && flush_part(w, err) < 0) return -1;
        size_t k = S3_PART_SIZE - w->len < len ? S3_PART_SIZE - w->len : len;
        if (buf_reserve(w, w->len + k) < 0) return bs_err_internal(err);
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        w->size += k;
        p += k;
        len -= k;
    }
    return 0;
}

static void writer_free(s3_writer *w)
{
    free(w->buf);
    upload_release(&w->up);
    free(w);
}

static int commit_multipart(s3_writer *w, store_blob_info *info, bs_err *err)
{
    int rc = w->len ? upload_part(w->d, w->key, &w->up, w->buf, w->len, err) : 0;
    if (rc == 0) rc = upload_complete(w->d, w->key, &w->up, err);
    if (rc < 0) {
        upload_abort(w->d, w->key, &w->up);
        return -1;
    }
    store_blobs_multipart_etag((const unsigned char (*)[16])w->up.md5, w->up.n, info->etag);
    return 0;
}

static int s3_commit(store_blob_writer *base, store_blob_info *info, bs_err *err)
{
    s3_writer *w = (s3_writer *)base;
    int rc = w->up.id[0] ? commit_multipart(w, info, err) : put_whole(w->d, w->key, w->type, w->buf, w->len, info, err);
    if (rc == 0) {
        info->size = w->size;
        info->modified_ms = wall_ms();
    }
    writer_free(w);
    return rc;
}

static void s3_abort(store_blob_writer *base)
{
    s3_writer *w = (s3_writer *)base;
    upload_abort(w->d, w->key, &w->up);
    writer_free(w);
}

/* ---- compose ---- */

/* x-amz-copy-source of key: /bucket/<prefix><key>, encoded. */
static int copy_source(const s3_driver *d, const char *key, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    return raw_append(out, size, &n, "/") | enc_append(out, size, &n, d->bucket, 0) | raw_append(out, size, &n, "/") |
           enc_append(out, size, &n, d->prefix, 1) | enc_append(out, size, &n, key, 1);
}

/* UploadPartCopy of the whole object src as the next part of up: 0, -1 with err, or 1 when the service
 * does not copy parts. */
static int upload_copy(const s3_driver *d, const char *key, s3_upload *up, const char *src, bs_err *err)
{
    char query[S3_QUERY_MAX], source[S3_URI_MAX], etag[STORE_BLOB_ETAG_MAX];
    unsigned char md5[16];
    if (upload_query(up, up->n + 1, query, sizeof query) < 0 || copy_source(d, src, source, sizeof source) < 0)
        return bs_err_internal(err);
    s3_req req = {.method = "PUT", .key = key, .query = query};
    req_hdr(&req, "x-amz-copy-source", source);
    s3_res res;
    int rc = s3_perform(d, &req, &res, err);
    if (rc == 0 && (res.status == 501 || !strcmp(res.code, "NotImplemented"))) rc = 1;
    else if (rc == 0 && !answered_ok(&res)) rc = answer_err(d, &req, &res, err);
    else if (rc == 0 && (xml_copy(res.xml, xml_first(res.xml, "ETag"), etag, sizeof etag) < 0 || store_blobs_etag_md5(etag, md5) < 0))
        rc = bad_answer(&req, "part ETag", err);
    if (rc == 0) rc = upload_add(up, md5, etag, err);
    res_release(&res);
    return rc;
}

/* Sizes (and their sum) of the objects keys[0..n); 400 when one is missing. */
static int part_sizes(s3_driver *d, const char *const *keys, size_t n, uint64_t *sizes, uint64_t *total, bs_err *err)
{
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        store_blob_info info;
        int found = 0;
        if (s3_stat(d, keys[i], &info, &found, err) < 0) return -1;
        if (!found) return bs_err_set(err, 400, "file/invalid-parts-array", "A part is missing");
        sizes[i] = info.size;
        *total += info.size;
    }
    return 0;
}

static int copy_fits(s3_driver *d, const uint64_t *sizes, size_t n)
{
    if (atomic_load(&d->no_copy)) return 0;
    for (size_t i = 0; i < n; i++)
        if (sizes[i] > S3_MAX_COPY || (i + 1 < n && sizes[i] < S3_MIN_PART)) return 0;
    return 1;
}

/* Compose by UploadPartCopy: 0 (md5s filled), -1 with err, or 1 when the service does not copy parts. */
static int compose_copy(s3_driver *d, const char *key, const char *const *part_keys, size_t n, const char *type,
                        unsigned char (*md5s)[16], bs_err *err)
{
    s3_upload up;
    memset(&up, 0, sizeof up);
    int rc = upload_start(d, key, type, &up, err);
    for (size_t i = 0; rc == 0 && i < n; i++) rc = upload_copy(d, key, &up, part_keys[i], err);
    if (rc == 0) rc = upload_complete(d, key, &up, err);
    if (rc != 0) upload_abort(d, key, &up);
    if (rc == 0) memcpy(md5s, up.md5, n * 16);
    if (rc == 1) {
        atomic_store(&d->no_copy, 1);
        log_info("blobs s3: the service does not copy parts (UploadPartCopy); composing by streaming from now on");
    }
    upload_release(&up);
    return rc;
}

typedef struct compose_feed {
    store_blob_writer *w;
    EVP_MD_CTX *md5;
    bs_err *err;
} compose_feed;

static int feed_sink(const void *data, size_t len, void *arg)
{
    compose_feed *f = arg;
    EVP_DigestUpdate(f->md5, data, len);
    return s3_write(f->w, data, len, f->err);
}

/* Compose by streaming every part through a writer (GET → buffer → UploadPart); fills md5s. */
static int compose_stream(s3_driver *d, const char *key, const char *const *part_keys, size_t n, const char *type,
                          const uint64_t *sizes, unsigned char (*md5s)[16], bs_err *err)
{
    compose_feed f = {s3_put_begin(d, key, type, err), EVP_MD_CTX_new(), err};
    int rc = f.w ? 0 : -1;
    if (rc == 0 && !f.md5) rc = bs_err_internal(err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        EVP_DigestInit_ex(f.md5, EVP_md5(), NULL);
        rc = s3_read(d, part_keys[i], 0, sizes[i], feed_sink, &f, err); /* a failed write has set err */
        if (rc == 0) EVP_DigestFinal_ex(f.md5, md5s[i], NULL);
    }
    store_blob_info ignored; /* its ETag counts the writer's parts, not the sources */
    if (rc == 0) rc = s3_commit(f.w, &ignored, err);
    else if (f.w) s3_abort(f.w);
    EVP_MD_CTX_free(f.md5);
    return rc;
}

static int s3_compose(void *driver, const char *key, const char *const *part_keys, size_t n, const char *content_type,
                      store_blob_info *info, bs_err *err)
{
    s3_driver *d = driver;
    char type[S3_TEXT_MAX];
    uint64_t total = 0;
    if (type_copy(type, content_type, err) < 0) return -1;
    if (n > S3_MAX_PARTS) return bs_err_set(err, 400, "file/invalid-parts-array", "At most %d parts", S3_MAX_PARTS);
    uint64_t *sizes = calloc(n, sizeof *sizes);
    unsigned char (*md5s)[16] = calloc(n, 16);
    int rc = sizes && md5s ? part_sizes(d, part_keys, n, sizes, &total, err) : bs_err_internal(err);
    if (rc == 0) rc = copy_fits(d, sizes, n) ? compose_copy(d, key, part_keys, n, type, md5s, err) : 1;
    if (rc == 1) rc = compose_stream(d, key, part_keys, n, type, sizes, md5s, err);
    if (rc == 0) {
        info->size = total;
        info->modified_ms = wall_ms();
        store_blobs_multipart_etag((const unsigned char (*)[16])md5s, n, info->etag);
    }
    free(sizes);
    free(md5s);
    return rc;
}

/* ---- listing ---- */

#define S3_LIST_XML_MAX (4 * 1024 * 1024) /* one ListObjectsV2 page (at most 1000 keys) fits many times over */

/* A listing prefix: a key, or a key and '/'. */
static int prefix_valid(const char *prefix)
{
    char key[STORE_BLOB_KEY_MAX + 1];
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0 || n > STORE_BLOB_KEY_MAX) return 0;
    memcpy(key, prefix, n + 1);
    if (key[n - 1] == '/') key[n - 1] = '\0';
    return store_blob_key_valid(key);
}

static size_t list_chunk(const char *data, size_t n, long status, void *arg)
{
    (void)status;
    return strbuf_append(arg, data, n) == 0 ? n : 0;
}

/* The canonical query of one ListObjectsV2 request: its parameters in name order, values encoded. */
static int list_query(const s3_driver *d, const char *prefix, const char *token, char *out, size_t size)
{
    size_t n = 0;
    int rc = 0;
    out[0] = '\0';
    if (*token)
        rc |= raw_append(out, size, &n, "continuation-token=") | enc_append(out, size, &n, token, 0) | raw_append(out, size, &n, "&");
    rc |= raw_append(out, size, &n, "list-type=2&prefix=") | enc_append(out, size, &n, d->prefix, 0) | enc_append(out, size, &n, prefix, 0);
    return rc ? -1 : 0;
}

/* One <Contents> element el of listing doc: fn with the key without the store's prefix. 0, 1 for an
 * element outside the prefix (skipped), -1 when fn stopped the listing, -2 when el is malformed. */
static int list_entry(const s3_driver *d, const xml_doc *doc, int el, store_blobs_s3_list_fn fn, void *arg)
{
    char key[S3_TEXT_MAX + STORE_BLOB_KEY_MAX + 1], size[32], modified[40], *end = NULL;
    store_blob_info info;
    memset(&info, 0, sizeof info);
    if (xml_copy(doc, xml_child(doc, el, "Key", -1), key, sizeof key) < 0 ||
        xml_copy(doc, xml_child(doc, el, "ETag", -1), info.etag, sizeof info.etag) < 0 ||
        xml_copy(doc, xml_child(doc, el, "Size", -1), size, sizeof size) < 0 || size[0] < '0' || size[0] > '9')
        return -2;
    info.size = strtoull(size, &end, 10);
    if (*end) return -2;
    if (xml_copy(doc, xml_child(doc, el, "LastModified", -1), modified, sizeof modified) == 0)
        clock_parse_iso8601(modified, &info.modified_ms);
    size_t plen = strlen(d->prefix);
    if (strncmp(key, d->prefix, plen)) return 1;
    return fn(key + plen, &info, arg) < 0 ? -1 : 0;
}

/* Calls fn for each object of one ListObjectsV2 answer doc and copies its continuation token into token
 * ("" on the last page). 0, 1 when fn stopped the listing, -1 with err when the answer is malformed. */
static int list_doc(const s3_driver *d, const s3_req *req, const xml_doc *doc, store_blobs_s3_list_fn fn, void *arg, char *token,
                    size_t token_size, bs_err *err)
{
    char truncated[8];
    if (strcmp(xml_name(doc, 0), "ListBucketResult")) return bad_answer(req, "well-formed ListBucketResult", err);
    for (int el = xml_child(doc, 0, "Contents", -1); el >= 0; el = xml_child(doc, 0, "Contents", el)) {
        int rc = list_entry(d, doc, el, fn, arg);
        if (rc == -2) return bad_answer(req, "well-formed Contents", err);
        if (rc == -1) return 1;
    }
    token[0] = '\0';
    if (xml_copy(doc, xml_child(doc, 0, "IsTruncated", -1), truncated, sizeof truncated) < 0 || strcmp(truncated, "true")) return 0;
    if (xml_copy(doc, xml_child(doc, 0, "NextContinuationToken", -1), token, token_size) < 0 || !token[0])
        return bad_answer(req, "NextContinuationToken", err);
    return 0;
}

/* list_doc of the text of one answer, which must be a well-formed document. */
static int list_page(const s3_driver *d, const s3_req *req, const strbuf *text, store_blobs_s3_list_fn fn, void *arg, char *token,
                     size_t token_size, bs_err *err)
{
    xml_doc *doc = xml_parse(text->data, text->len, 1, NULL);
    int rc = list_doc(d, req, doc, fn, arg, token, token_size, err);
    xml_free(doc);
    return rc;
}

/* One ListObjectsV2 request (query made by list_query) and its page. */
static int list_once(const s3_driver *d, const char *prefix, const char *query, store_blobs_s3_list_fn fn, void *arg, char *token,
                     size_t token_size, bs_err *err)
{
    strbuf xml;
    strbuf_init(&xml, S3_LIST_XML_MAX);
    s3_req req = {.method = "GET", .key = prefix, .on_bucket = 1, .query = query, .stream = list_chunk, .stream_arg = &xml};
    s3_res res;
    int rc = s3_perform(d, &req, &res, err);
    if (rc == 0 && xml.overflow) rc = bad_answer(&req, "listing that fits", err);
    else if (rc == 0 && !answered_ok(&res)) rc = answer_err(d, &req, &res, err);
    else if (rc == 0) rc = list_page(d, &req, &xml, fn, arg, token, token_size, err);
    res_release(&res);
    strbuf_release(&xml);
    return rc;
}

int store_blobs_s3_list(store_blobs *b, const char *prefix, store_blobs_s3_list_fn fn, void *arg, bs_err *err)
{
    const s3_driver *d = store_blobs_driver_data(b, &s3_ops);
    char token[S3_ID_MAX] = "", query[S3_URL_MAX];
    int rc = 0;
    if (!d) return bs_err_set(err, 500, "common/internal-error", "This file storage does not list objects");
    if (!prefix_valid(prefix)) return bs_err_set(err, 400, "file/invalid-path", "Invalid key prefix");
    do {
        rc = list_query(d, prefix, token, query, sizeof query) < 0 ? bs_err_internal(err)
                                                                    : list_once(d, prefix, query, fn, arg, token, sizeof token, err);
    } while (rc == 0 && token[0]);
    return rc == 0 ? 0 : -1;
}

/* ---- presigned URLs ---- */

static int presign_query(const s3_driver *d, const char *amz_date, int64_t expires, int with_type, char *out, size_t size)
{
    char cred[2 * S3_TEXT_MAX];
    size_t n = 0;
    snprintf(cred, sizeof cred, "%s/%.8s/%s/s3/aws4_request", d->access_key, amz_date, d->region);
    if (raw_append(out, size, &n, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=") < 0 || enc_append(out, size, &n, cred, 0) < 0)
        return -1;
    int k = snprintf(out + n, size - n, "&X-Amz-Date=%s&X-Amz-Expires=%" PRId64 "&X-Amz-SignedHeaders=%s", amz_date, expires,
                     with_type ? "content-type%3Bhost" : "host");
    return k > 0 && (size_t)k < size - n ? 0 : -1;
}

/* store_blobs_s3_presign at amz_date. */
static int presign_at(const s3_driver *d, const char *method, const char *key, int64_t expires, const char *content_type,
                      const char *amz_date, char *out, size_t size, bs_err *err)
{
    char type[S3_TEXT_MAX], query[S3_URL_MAX], sig[CRYPTO_SHA256_HEX];
    s3_target t;
    int with_type = content_type && *content_type;
    if (!method || (strcmp(method, "GET") && strcmp(method, "PUT")))
        return bs_err_set(err, 400, "common/invalid-parameters", "Presigned URLs are for GET or PUT");
    if (!store_blob_key_valid(key)) return bs_err_set(err, 400, "file/invalid-path", "Invalid object key");
    if (expires < 1 || expires > STORE_BLOBS_S3_EXPIRES_MAX)
        return bs_err_set(err, 400, "common/invalid-parameters", "A presigned URL lasts 1 to %d seconds", STORE_BLOBS_S3_EXPIRES_MAX);
    if (with_type && type_copy(type, content_type, err) < 0) return -1;
    if (presign_query(d, amz_date, expires, with_type, query, sizeof query) < 0 || target_of(d, key, "", &t) < 0)
        return bs_err_internal(err);
    s3_hdr h[2] = {{"content-type", type}, {"host", t.host}};
    strbuf creq;
    strbuf_init(&creq, 0);
    int rc = canonical_request(&creq, method, t.uri, query, with_type ? h : h + 1, with_type ? 2 : 1, S3_UNSIGNED);
    if (rc == 0) sign_request(d, amz_date, creq.data, sig);
    strbuf_release(&creq);
    int len = rc == 0 ? snprintf(out, size, "%s://%s%s?%s&X-Amz-Signature=%s", d->scheme, t.host, t.uri, query, sig) : -1;
    if (len < 0 || (size_t)len >= size) return bs_err_set(err, 500, "common/internal-error", "The presigned URL does not fit");
    return 0;
}

int store_blobs_s3_presign(store_blobs *b, const char *method, const char *key, int64_t expires_in_s, const char *content_type,
                           char *out, size_t size, bs_err *err)
{
    const s3_driver *d = store_blobs_driver_data(b, &s3_ops);
    char amz_date[S3_AMZ_DATE];
    if (!d) return bs_err_set(err, 500, "common/internal-error", "This file storage does not presign URLs");
    amz_now(amz_date);
    return presign_at(d, method, key, expires_in_s, content_type, amz_date, out, size, err);
}

static const store_blobs_ops s3_ops = {
    .name = "s3",
    .free = s3_free,
    .put_begin = s3_put_begin,
    .write = s3_write,
    .commit = s3_commit,
    .abort = s3_abort,
    .stat = s3_stat,
    .read = s3_read,
    .open_fd = NULL, /* no descriptors: store_blobs_read streams instead */
    .del = s3_del,
    .compose = s3_compose,
};
