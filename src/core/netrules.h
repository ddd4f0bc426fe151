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

/* 1 when an address may not receive the server's own requests (webhooks) unless the operator allows it:
 * unspecified, loopback, private (RFC 1918), CGNAT (100.64/10), link-local (169.254/16 with the cloud
 * metadata address, fe80::/10), unique-local (fc00::/7), site-local, multicast, broadcast, reserved and
 * documentation ranges; IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16) addresses are judged by the IPv4 address they carry. addr: 4 bytes (v6 = 0) or 16. */
int netrules_addr_internal(const unsigned char *addr, int v6);
/* The same for an address in text form; an unparsable text is internal (refused). */
int netrules_ip_internal(const char *text);

#endif
