/* keys: the formats of Basalt's secrets and ids, and how they are made and checked.
 * Environment keys are "pk_"/"sk_" + 64 hex (32 CSPRNG bytes), operator tokens "bt_" + 64 hex.
 * Only the SHA-256 hex digest of a key is ever stored. Ids are a short prefix + 20 hex characters.
 * Pure functions over caller buffers; nothing allocates. */
#ifndef BASALT_CORE_KEYS_H
#define BASALT_CORE_KEYS_H

#include <stddef.h>

#define KEYS_HEX_LEN 64
#define KEYS_TEXT_LEN (3 + KEYS_HEX_LEN)   /* "pk_" + 64 hex */
#define KEYS_TEXT_MAX (KEYS_TEXT_LEN + 1)
#define KEYS_ID_MAX 40
#define KEYS_HINT_LEN 11                   /* what is shown of a key later: "pk_" + 8 hex */

typedef enum keys_kind {
    KEYS_INVALID = 0,
    KEYS_PUBLISHABLE,   /* pk_ */
    KEYS_SECRET,        /* sk_ */
    KEYS_OPERATOR       /* bt_ */
} keys_kind;

/* The kind a key text has by its format alone (prefix + exactly 64 hex digits), KEYS_INVALID otherwise. */
keys_kind keys_classify(const char *text);
/* Makes a new key of the kind into out (KEYS_TEXT_MAX bytes). 0, or -1 without randomness. */
int keys_generate(keys_kind kind, char out[KEYS_TEXT_MAX]);
/* SHA-256 hex digest of the key text, as stored. Hex digits are lower-cased first, so that a key
 * typed in upper case (the format allows A-F) still matches. */
void keys_hash(const char *text, char out_hex[65]);
/* Display hint: the first KEYS_HINT_LEN characters. */
void keys_hint(const char *text, char out[KEYS_HINT_LEN + 1]);
/* A new id "<prefix>_<20 hex>" into out (KEYS_ID_MAX bytes). */
int keys_new_id(const char *prefix, char out[KEYS_ID_MAX]);
const char *keys_kind_name(keys_kind kind);
/* A record id: 24 lowercase hex, time-ordered (8 hex of Unix seconds, then 16 random-and-counter hex),
 * so that ids sort roughly by creation time. */
#define KEYS_RECORD_ID_LEN 24
int keys_record_id(char out[KEYS_RECORD_ID_LEN + 1]);

#endif
