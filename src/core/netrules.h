/* netrules: a project's network settings (platform.md §4.3) as rules a request is checked against:
 * allowedOrigins (CORS: "scheme://host[:port]", compared case-insensitively) and ipWhitelist (IPv4/IPv6
 * addresses and CIDR ranges; an IPv4-mapped IPv6 client address matches IPv4 rules). An empty list
 * allows everyone. Pure: no I/O, no globals. */
#ifndef BASALT_CORE_NETRULES_H
#define BASALT_CORE_NETRULES_H

#include <stddef.h>

#define NETRULES_MAX_ORIGINS 20
#define NETRULES_MAX_IPS 100
#define NETRULES_ORIGIN_MAX 256

typedef struct netrules_ip {
    unsigned char addr[16];
    int v6;   /* 0: addr[0..3] is IPv4 */
    int bits; /* prefix length */
} netrules_ip;

typedef struct netrules {
    size_t norigins, nips;
    char origins[NETRULES_MAX_ORIGINS][NETRULES_ORIGIN_MAX];
    netrules_ip ips[NETRULES_MAX_IPS];
} netrules;

/* 1 when text is an origin the settings may hold: http(s)://host[:port], no path, no wildcard. */
int netrules_origin_valid(const char *text);
/* 1 when text is an IPv4/IPv6 address or CIDR range. */
int netrules_ip_valid(const char *text);
/* Fills out from a project's settings JSON text; invalid members are skipped. Returns 1 when any rule
 * applies (some list is not empty), 0 when none. */
int netrules_parse(const char *settings_json, netrules *out);
/* 1 when a request with this Origin header (NULL: none, always allowed) may proceed. */
int netrules_origin_allowed(const netrules *r, const char *origin);
/* 1 when a client at ip (text form) may proceed; an unparsable ip is refused when a list is set. */
int netrules_ip_allowed(const netrules *r, const char *ip);

#endif
