#include "util/regex.h"

#include <pcre2.h>
#include <stdlib.h>

struct regex {
    pcre2_code *code;
    pcre2_match_context *mctx;
};

regex *regex_compile(const char *pattern, size_t len, int icase, const char *what, bs_err *err)
{
    int code = 0;
    PCRE2_SIZE offset = 0;
    uint32_t flags = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | (icase ? PCRE2_CASELESS : 0);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, flags, &code, &offset, NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(code, msg, sizeof msg);
        bs_err_set(err, 400, "data/validation-error", "%s: invalid regular expression at offset %zu: %s", what,
                   (size_t)offset, (const char *)msg);
        return NULL;
    }
    regex *out = calloc(1, sizeof *out);
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    if (!out || !mctx) {
        pcre2_code_free(re);
        pcre2_match_context_free(mctx);
        free(out);
        bs_err_internal(err);
        return NULL;
    }
    pcre2_set_match_limit(mctx, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(mctx, REGEX_DEPTH_LIMIT);
    out->code = re;
    out->mctx = mctx;
    return out;
}

void regex_free(regex *re)
{
    if (!re) return;
    pcre2_code_free(re->code);
    pcre2_match_context_free(re->mctx);
    free(re);
}

int regex_match(const regex *re, const char *subject, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!md) return -1;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
    pcre2_match_data_free(md);
    if (rc >= 0) return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}
