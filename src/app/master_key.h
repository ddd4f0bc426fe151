/* master_key: the key that seals secrets at rest (OAuth client secrets, cluster URLs): DATA/master.key,
 * 32 random bytes, mode 0600, made on the first start. Kept out of every database, so a copied database
 * reveals no secret; every server of a fleet and every command that registers clusters needs the same
 * file (docs/operations.md). */
#ifndef BASALT_APP_MASTER_KEY_H
#define BASALT_APP_MASTER_KEY_H

#include <stdint.h>

#include "util/err.h"

#define MASTER_KEY_LEN 32

/* Reads data_dir/master.key into key: 1. When the file does not exist: made (create = 1, then 1) or 0
 * (create = 0). -1 with err when it is damaged or cannot be written. */
int master_key_load(const char *data_dir, int create, uint8_t key[MASTER_KEY_LEN], bs_err *err);

#endif
