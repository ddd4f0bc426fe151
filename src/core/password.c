#include "core/password.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>


#define PASSWORD_OPSLIMIT 2
#define PASSWORD_MEMLIMIT (19456u * 1024u)

static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

int password_init(bs_err *err)
{
    if (sodium_init() < 0) return bs_err_set(err, 500, "common/internal-error", "libsodium failed to start");
    return 0;
}

password_policy password_policy_default(void)
{
    return (password_policy){.min_length = 6, .max_length = 128};
}

int password_check(const password_policy *p, const char *password, size_t len, bs_err *err)
{
    if (!password || len > PASSWORD_MAX_BYTES || memchr(password, '\0', len))
        return bs_err_set(err, 400, "auth/invalid-password-format", "The password must be %d to %d characters",
                          p->min_length, p->max_length);
    long chars = 0;
    for (size_t i = 0; i < len; i++) chars += ((unsigned char)password[i] & 0xC0) != 0x80; /* lead bytes */
    if (chars < p->min_length || chars > p->max_length)
        return bs_err_set(err, 400, "auth/invalid-password-format", "The password must be %d to %d characters",
                          p->min_length, p->max_length);
    int upper = 0, lower = 0, digit = 0, special = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)password[i];
        if (c >= 'A' && c <= 'Z') upper = 1;
        else if (c >= 'a' && c <= 'z') lower = 1;
        else if (c >= '0' && c <= '9') digit = 1;
        else special = 1; /* punctuation, spaces and any non-ASCII character */
    }
    if ((p->require_upper && !upper) || (p->require_lower && !lower) || (p->require_digit && !digit) ||
        (p->require_special && !special))
        return bs_err_set(err, 400, "auth/weak-password", "The password needs%s%s%s%s",
                          p->require_upper ? " an upper-case letter," : "", p->require_lower ? " a lower-case letter," : "",
                          p->require_digit ? " a digit," : "", p->require_special ? " a special character" : "");
    return 0;
}

int password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX], bs_err *err)
{
    if (crypto_pwhash_str_alg(out, password, len, PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return bs_err_internal(err);
    return 0;
}

int password_verify(const char *hash, const char *password, size_t len)
{
    return crypto_pwhash_str_verify(hash, password, len) == 0;
}

static void make_dummy(void)
{
    bs_err err;
    password_hash("not a password of anyone", 24, dummy_hash, &err);
}

void password_verify_dummy(const char *password, size_t len)
{
    pthread_once(&dummy_once, make_dummy);
    (void)password_verify(dummy_hash, password, len);
}
