/* callbacks: the one check of every caller-given URL the server sends a browser, or a mailed secret, to
 * (the sign-up confirmation's callbackUrl, magic links, the OAuth redirect flow's app URL). A URL is
 * allowed when it is a plain http(s) URL (no control characters, spaces or backslashes, no user info)
 * and either its origin is one of the project's allowedOrigins, or it is one of the environment's
 * OAuth providers' redirectUris (compared without the query string). No list at all allows nothing:
 * an open redirect is never the default. */
#include <stdlib.h>
#include <string.h>

#include "api/v1/auth/auth_users.h"
#include "core/netrules.h"

#define CALLBACK_URL_MAX 1024

int api_callback_origin(const char *url, char *out, size_t size)
{
    const char *rest = !url ? NULL : !strncmp(url, "https://", 8) ? url + 8 : !strncmp(url, "http://", 7) ? url + 7 : NULL;
    if (!rest || strlen(url) >= CALLBACK_URL_MAX) return 0;
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= ' ' || *c == 0x7f || *c == '\\') return 0; /* browsers read "\" as "/" */
    size_t len = (size_t)(rest - url) + strcspn(rest, "/?#");
    if (len >= size || len >= NETRULES_ORIGIN_MAX) return 0;
    memcpy(out, url, len);
    out[len] = '\0';
    return netrules_origin_valid(out); /* host[:port] only: "@" (user info) is refused there */
}

int api_url_listed(const char *list_json, const char *url)
{
    struct json_object *list = json_tokener_parse(list_json);
    size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0, len = strcspn(url, "?");
    int ok = 0;
    for (size_t i = 0; i < n && !ok; i++) {
        const char *entry = json_object_get_string(json_object_array_get_idx(list, i));
        ok = entry && strcspn(entry, "?") == len && !strncmp(entry, url, len);
    }
    json_object_put(list);
    return ok;
}

/* 1 when origin is one of the project's allowedOrigins (an empty list allows none here). */
static int project_lists(api_ctx *ctx, const char *origin)
{
    store_project *p = malloc(sizeof *p);
    netrules *rules = malloc(sizeof *rules);
    int found = 0, ok = 0;
    bs_err err;
    if (p && rules && store_control_project_get(ctx->app->control, ctx->key.project_id, p, &found, &err) == 0 && found)
        ok = netrules_parse(p->settings, rules) && rules->norigins > 0 && netrules_origin_allowed(rules, origin);
    free(p);
    free(rules);
    return ok;
}

/* 1 when url is one of the redirectUris of one of the environment's OAuth providers. */
static int providers_list(api_ctx *ctx, const char *url)
{
    static const char *const names[] = {"google", "github"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        store_provider p;
        int found = 0;
        bs_err err;
        if (store_control_provider_get(ctx->app->control, ctx->key.environment_id, names[i], &p, &found, &err) == 0 && found &&
            api_url_listed(p.redirect_uris, url))
            return 1;
    }
    return 0;
}

int api_callback_allowed(api_ctx *ctx, const char *url)
{
    char origin[NETRULES_ORIGIN_MAX];
    if (!api_callback_origin(url, origin, sizeof origin)) return 0;
    return project_lists(ctx, origin) || providers_list(ctx, url);
}

int api_callback_check(api_ctx *ctx, const char *name, const char *url, bs_err *err)
{
    if (api_callback_allowed(ctx, url)) return 0;
    return bs_err_set(err, 400, "auth/invalid-request",
                      "%s must be an http(s) URL this environment allows: its origin in the project's allowedOrigins, "
                      "or one of the OAuth providers' redirectUris", name);
}
