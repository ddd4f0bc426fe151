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

typedef struct net_range {
    unsigned char addr[16];
    int bits;
} net_range;

static const net_range v4_internal[] = {
    {{0, 0, 0, 0}, 8},        {{10, 0, 0, 0}, 8},      {{100, 64, 0, 0}, 10},   {{127, 0, 0, 0}, 8},
    {{169, 254, 0, 0}, 16},   {{172, 16, 0, 0}, 12},   {{192, 0, 0, 0}, 24},    {{192, 0, 2, 0}, 24},
    {{192, 88, 99, 0}, 24},   {{192, 168, 0, 0}, 16},  {{198, 18, 0, 0}, 15},   {{198, 51, 100, 0}, 24},
    {{203, 0, 113, 0}, 24},   {{224, 0, 0, 0}, 4},     {{240, 0, 0, 0}, 4},
};

static const net_range v6_internal[] = {
    {{0}, 128},                                   /* :: */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128}, /* ::1 */
    {{0x01, 0x00}, 64},                           /* 100::/64 discard */
    {{0x20, 0x01, 0x0d, 0xb8}, 32},               /* documentation */
    {{0x20, 0x01, 0x00, 0x00}, 23},               /* IETF protocol assignments (Teredo, ORCHID...) */
    {{0xfc}, 7},                                  /* unique local */
    {{0xfe, 0x80}, 10},                           /* link-local */
    {{0xfe, 0xc0}, 10},                           /* site-local (deprecated) */
    {{0xff}, 8},                                  /* multicast */
};

static int in_ranges(const unsigned char *addr, const net_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (prefix_match(r[i].addr, addr, r[i].bits)) return 1;
    return 0;
}

/* The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4) into v4; 0 when none. */
static int embedded_v4(const unsigned char *a, unsigned char v4[4])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, compat[12] = {0},
                               nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12) || (!memcmp(a, compat, 12) && (a[12] | a[13]))) {
        memcpy(v4, a + 12, 4);
        return 1;
    }
    if (a[0] == 0x20 && a[1] == 0x02) { /* 2002:V4ADDR::/48 */
        memcpy(v4, a + 2, 4);
        return 1;
    }
    return 0;
}

int netrules_addr_internal(const unsigned char *addr, int v6)
{
    unsigned char v4[4];
    if (!v6) return in_ranges(addr, v4_internal, sizeof v4_internal / sizeof v4_internal[0]);
    if (embedded_v4(addr, v4)) return netrules_addr_internal(v4, 0);
    return in_ranges(addr, v6_internal, sizeof v6_internal / sizeof v6_internal[0]);
}

int netrules_ip_internal(const char *text)
{
    netrules_ip ip;
    if (!text || !ip_parse(text, &ip) || ip.bits != (ip.v6 ? 128 : 32)) return 1;
    return netrules_addr_internal(ip.addr, ip.v6);
}
