/* libFuzzer target: the fleet bus's message parser (store/bus.h store_bus_msg_parse), which reads what
 * arrives on the installation's Redis channel ("<seq> <kind> <id>"). scripts/fuzz.sh busmsg SECONDS.
 *
 * The input is a message's bytes, read from a heap copy of exactly that many bytes (no NUL), so
 * AddressSanitizer sees a read past the end. A message the parser takes must hold what the format rules
 * say (seq >= 1, kind 1..STORE_BUS_KIND_MAX, an id without spaces or controls that fits), and formatting its
 * fields again must give a message that parses to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/bus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = malloc(size ? size : 1);
    if (!msg) return 0;
    if (size) memcpy(msg, data, size);
    int64_t seq = 0, seq2 = 0;
    int kind = 0, kind2 = 0;
    char id[STORE_BUS_ID_MAX], id2[STORE_BUS_ID_MAX], again[STORE_BUS_MSG_MAX];
    if (store_bus_msg_parse(msg, size, &seq, &kind, id) == 0) {
        if (seq < 1 || kind < 1 || kind > STORE_BUS_KIND_MAX || !id[0] || strlen(id) >= STORE_BUS_ID_MAX) abort();
        for (const char *p = id; *p; p++)
            if ((unsigned char)*p <= ' ' || *p == 0x7f) abort();
        if (store_bus_msg_format(again, sizeof again, seq, kind, id) != 0) abort();
        if (store_bus_msg_parse(again, strlen(again), &seq2, &kind2, id2) != 0) abort();
        if (seq2 != seq || kind2 != kind || strcmp(id, id2)) abort();
    }
    free(msg);
    return 0;
}
