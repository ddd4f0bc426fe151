#include "core/netrules.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int netrules_origin_valid(const char *o)
{
    const char *rest = !strncmp(o, "https://", 8) ? o + 8 : !strncmp(o, "http://", 7) ? o + 7 : NULL;
    if (!rest || !*rest || strlen(o) >= NETRULES_ORIGIN_MAX) return 0;
    for (const char *c = rest; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr(".-:[]", *c))) return 0;
    return 1;
}

/* Parses "addr[/bits]" into rule; 0 when it is not one. */
static int ip_parse(const char *text, netrules_ip *rule)
{
    char addr[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n == 0 || n >= sizeof addr) return 0;
    memcpy(addr, text, n);
    addr[n] = '\0';
    rule->v6 = strchr(addr, ':') != NULL;
    if (inet_pton(rule->v6 ? AF_INET6 : AF_INET, addr, rule->addr) != 1) return 0;
    int max = rule->v6 ? 128 : 32;
    rule->bits = max;
    if (!slash) return 1;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (*end || !slash[1] || bits < 0 || bits > max) return 0;
    rule->bits = (int)bits;
    return 1;
}

int netrules_ip_valid(const char *text)
{
    netrules_ip rule;
    return ip_parse(text, &rule);
}

/* Copies the valid strings of settings[name] into out; returns how many. */
static size_t string_list(struct json_object *settings, const char *name, size_t max, int (*keep)(const char *, void *, size_t),
                          void *out)
{
    struct json_object *list;
    size_t n = 0;
    if (!json_object_object_get_ex(settings, name, &list) || !json_object_is_type(list, json_type_array)) return 0;
    for (size_t i = 0; i < json_object_array_length(list) && n < max; i++) {
        struct json_object *s = json_object_array_get_idx(list, i);
        if (json_object_is_type(s, json_type_string) && keep(json_object_get_string(s), out, n)) n++;
    }
    return n;
}

static int keep_origin(const char *text, void *out, size_t i)
{
    if (!netrules_origin_valid(text)) return 0;
    snprintf(((netrules *)out)->origins[i], NETRULES_ORIGIN_MAX, "%s", text);
    return 1;
}

static int keep_ip(const char *text, void *out, size_t i)
{
    return ip_parse(text, &((netrules *)out)->ips[i]);
}

int netrules_parse(const char *settings_json, netrules *out)
{
    memset(out, 0, sizeof *out);
    struct json_object *s = settings_json ? json_tokener_parse(settings_json) : NULL;
    if (s && json_object_is_type(s, json_type_object)) {
        out->norigins = string_list(s, "allowedOrigins", NETRULES_MAX_ORIGINS, keep_origin, out);
        out->nips = string_list(s, "ipWhitelist", NETRULES_MAX_IPS, keep_ip, out);
    }
    json_object_put(s);
    return out->norigins > 0 || out->nips > 0;
}

int netrules_origin_allowed(const netrules *r, const char *origin)
{
    if (!origin || r->norigins == 0) return 1;
    size_t n = strlen(origin);
    while (n > 0 && origin[n - 1] == '/') n--; /* "https://a.io/" is the same origin */
    for (size_t i = 0; i < r->norigins; i++)
        if (strlen(r->origins[i]) == n && strncasecmp(r->origins[i], origin, n) == 0) return 1;
    return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0) return 0;
    if (!rest) return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int netrules_ip_allowed(const netrules *r, const char *ip)
{
    if (r->nips == 0) return 1;
    netrules_ip client;
    if (!ip || !ip_parse(ip, &client) || client.bits != (client.v6 ? 128 : 32)) return 0;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char v4[4];
    int has_v4 = !client.v6;
    if (client.v6 && memcmp(client.addr, mapped, 12) == 0) {
        memcpy(v4, client.addr + 12, 4);
        has_v4 = 1;
    } else if (!client.v6) {
        memcpy(v4, client.addr, 4);
    }
    for (size_t i = 0; i < r->nips; i++) {
        const netrules_ip *rule = &r->ips[i];
        if (rule->v6 && client.v6 && prefix_match(rule->addr, client.addr, rule->bits)) return 1;
        if (!rule->v6 && has_v4 && prefix_match(rule->addr, v4, rule->bits)) return 1;
    }
    return 0;
}
