/* control_pg_team: see control_pg_parts.h. Members, the organization's operator tokens, invitations,
 * monthly users, usage alerts, webhook deliveries and the usage rows with their roll-ups, with exactly
 * the semantics of the SQLite driver's sq_* functions of the same names (store/sqlite/control_sqlite.c).
 *
 * Translation notes: SQLite's COLLATE NOCASE e-mails compare as lower(email) = lower($n) (the schema's
 * members_organization_email index); instr(lower(..)) searches are strpos(lower(..)); text sort keys use
 * COLLATE "C" (SQLite's BINARY order); SQLite's LIMIT -1 ("no limit") is LIMIT NULL and a negative
 * OFFSET reads as 0; SQLite's max()/min() of two values are GREATEST/LEAST; the bare column of a
 * max() aggregate is a DISTINCT ON; json_group_object is built with string_agg so that the text is the
 * same byte for byte. Team changes that must keep an owner lock the organization's row (FOR NO KEY
 * UPDATE) so that two of them cannot both see a second owner; usage batches and the roll-up each take an
 * advisory lock (one at a time, as SQLite's writers: batches that upsert the same rows in another order
 * would otherwise deadlock). A batch's monthly users and endpoint counts are bound as one text[] / bigint[]
 * parameter each (quoted array literals), so a delta costs at most three statements. */
#include "store/postgres/control_pg_parts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define PGT_TEXT(r, row, col, field, err) pg_text((r), (row), (col), (field), sizeof(field), (err))
#define PGT_C " COLLATE \"C\""
#define PGT_USAGE_ROLLED "rolled_until" /* usage_state: days before it have final daily rows */

/* Fills out (zeroed by the caller) from row `row` of r: 0, or -1 with err when a value does not fit. */
typedef int (*pgt_reader)(const PGresult *r, int row, void *out, bs_err *err);

/* ---- helpers ---- */

static pg_pool *pool_of(void *driver) { return ((pgc *)driver)->pool; }

/* LIMIT as a parameter: NULL (no limit) beyond INT64_MAX, as SQLite's -1. */
static const char *pgt_limit(char buf[PG_INT64_TEXT], size_t limit)
{
    return limit > (size_t)INT64_MAX ? NULL : pg_fmt_int64(buf, (int64_t)limit);
}

/* pg_exec on c, or on a connection of its own when c is NULL. */
static PGresult *pgt_exec(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, bs_err *err)
{
    return c ? pg_exec(p, c, what, sql, n, params, err) : pg_exec1(p, what, sql, n, params, err);
}

static int pgt_cmd(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, int64_t *changed,
                   bs_err *err)
{
    return c ? pg_command(p, c, what, sql, n, params, changed, err) : pg_command1(p, what, sql, n, params, changed, err);
}

/* A connection inside a transaction (BEGIN done), or NULL with err. */
static PGconn *pgt_begin(pg_pool *p, bs_err *err)
{
    PGconn *c = pg_borrow(p, err);
    if (c && pg_begin(p, c, err) < 0) {
        pg_return(p, c);
        return NULL;
    }
    return c;
}

/* Ends the transaction of pgt_begin: COMMIT when rc is 0, else ROLLBACK; returns the connection; rc or
 * the commit's failure. */
static int pgt_end(pg_pool *p, PGconn *c, int rc, bs_err *err)
{
    if (rc == 0) rc = pg_commit(p, c, err);
    else pg_rollback(c);
    pg_return(p, c);
    return rc;
}

/* Reads up to max rows of r into out (elements of size bytes, each zeroed first); *count = rows read
 * (0 when one does not fit: -1 with err). */
static int pgt_rows(const PGresult *r, pgt_reader read, void *out, size_t size, size_t max, size_t *count, bs_err *err)
{
    size_t n = (size_t)PQntuples(r);
    *count = 0;
    if (n > max) n = max;
    for (size_t i = 0; i < n; i++) {
        void *row = (char *)out + i * size;
        memset(row, 0, size);
        if (read(r, (int)i, row, err) < 0) return -1;
    }
    *count = n;
    return 0;
}

/* A single-row query (on c, or a connection of its own when c is NULL) read into out (size bytes, zeroed);
 * *found = 0 when there is no row. */
static int pgt_one(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, pgt_reader read,
                   void *out, size_t size, int *found, bs_err *err)
{
    *found = 0;
    memset(out, 0, size);
    PGresult *r = pgt_exec(p, c, what, sql, n, params, err);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) > 0) {
        rc = read(r, 0, out, err);
        if (rc < 0) memset(out, 0, size);
        else *found = 1;
    }
    PQclear(r);
    return rc;
}

/* A list query whose parameters are bound (LIMIT among them): at most max rows into out. */
static int pgt_list(pg_pool *p, const char *what, const char *sql, int n, const char *const *params, pgt_reader read, void *out,
                    size_t size, size_t max, size_t *count, bs_err *err)
{
    *count = 0;
    PGresult *r = pg_exec1(p, what, sql, n, params, err);
    if (!r) return -1;
    int rc = pgt_rows(r, read, out, size, max, count, err);
    PQclear(r);
    return rc;
}

/* A list keyed by $1 with LIMIT $2 = max. */
static int pgt_list_by(pg_pool *p, const char *what, const char *sql, const char *key, pgt_reader read, void *out, size_t size,
                       size_t max, size_t *count, bs_err *err)
{
    char lim[PG_INT64_TEXT];
    const char *params[] = {key, pgt_limit(lim, max)};
    return pgt_list(p, what, sql, 2, params, read, out, size, max, count, err);
}

/* One integer answer (count(*), a sum; NULL reads as 0). */
static int pgt_int(pg_pool *p, PGconn *c, const char *what, const char *sql, int n, const char *const *params, int64_t *out,
                   bs_err *err)
{
    PGresult *r = pgt_exec(p, c, what, sql, n, params, err);
    if (!r) return -1;
    int rc = PQntuples(r) > 0 ? 0 : bs_err_internal(err);
    if (rc == 0) *out = pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/* A page of a filtered list: list_sql takes the nfilter filter parameters then LIMIT and OFFSET
 * (params[nfilter], params[nfilter + 1]), count_sql the filter only; *total = all that match. */
typedef struct pgt_page {
    const char *what, *list_sql, *count_sql;
    const char *const *params;
    int nfilter;
    size_t limit;
    pgt_reader read;
    size_t size;
} pgt_page;

static int pgt_paged(pg_pool *p, const pgt_page *pg, void *out, size_t *count, int64_t *total, bs_err *err)
{
    *count = 0;
    *total = 0;
    PGconn *c = pg_borrow(p, err);
    if (!c) return -1;
    PGresult *r = pg_exec(p, c, pg->what, pg->list_sql, pg->nfilter + 2, pg->params, err);
    int rc = r ? pgt_rows(r, pg->read, out, pg->size, pg->limit, count, err) : -1;
    PQclear(r);
    if (rc == 0) rc = pgt_int(p, c, pg->what, pg->count_sql, pg->nfilter, pg->params, total, err);
    if (rc < 0) *count = 0;
    pg_return(p, c);
    return rc;
}

/* Revoking at 0 ("not revoked") would be a no-op, so 0 means now. */
static int64_t pgt_revoke_time(int64_t at) { return at > 0 ? at : clock_now_ms(); }

/* ---- members ---- */

#define PGT_MEMBER_SELECT "SELECT id, organization_id, COALESCE(email, ''), name, role, status, invited_by, joined_at FROM members"
#define PGT_MEMBER_GET PGT_MEMBER_SELECT " WHERE id = $1 AND organization_id = $2"
/* ?1 organization, ?2 role, ?3 search (NULL = any). */
#define PGT_MEMBER_WHERE                                                                                      \
    " WHERE organization_id = $1 AND ($2::text IS NULL OR role = $2) AND ($3::text IS NULL OR"                \
    " strpos(lower(name), lower($3)) > 0 OR strpos(lower(COALESCE(email, '')), lower($3)) > 0)"

static int pgt_member_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_member *m = dst;
    int bad = PGT_TEXT(r, i, 0, m->id, err) | PGT_TEXT(r, i, 1, m->organization_id, err) | PGT_TEXT(r, i, 2, m->email, err) |
              PGT_TEXT(r, i, 3, m->name, err) | PGT_TEXT(r, i, 4, m->role, err) | PGT_TEXT(r, i, 5, m->status, err) |
              PGT_TEXT(r, i, 6, m->invited_by, err);
    m->joined_at = pg_i64(r, i, 7);
    return bad ? -1 : 0;
}

static int pgt_member_insert_on(pg_pool *p, PGconn *c, const store_member *m, bs_err *err)
{
    char at[PG_INT64_TEXT];
    const char *params[] = {m->id,   m->organization_id, m->email, m->name, m->role, m->status[0] ? m->status : "active",
                            m->invited_by, pg_fmt_int64(at, m->joined_at)};
    return pgt_cmd(p, c, "insert member",
                   "INSERT INTO members (id, organization_id, email, name, role, status, invited_by, joined_at)"
                   " VALUES ($1, $2, NULLIF($3::text, ''), $4, $5, $6, $7, $8::bigint)",
                   8, params, NULL, err);
}

static int pgt_member_insert(void *driver, const store_member *m, bs_err *err)
{
    return pgt_member_insert_on(pool_of(driver), NULL, m, err);
}

static int pgt_member_get(void *driver, const char *org_id, const char *member_id, store_member *out, int *found, bs_err *err)
{
    const char *params[] = {member_id, org_id};
    return pgt_one(pool_of(driver), NULL, "get member", PGT_MEMBER_GET, 2, params, pgt_member_read, out, sizeof *out, found, err);
}

static int pgt_member_find_email(void *driver, const char *org_id, const char *email, store_member *out, int *found,
                                 bs_err *err)
{
    const char *params[] = {email, org_id};
    return pgt_one(pool_of(driver), NULL, "find member", PGT_MEMBER_SELECT " WHERE lower(email) = lower($1) AND organization_id = $2",
                   2, params, pgt_member_read, out, sizeof *out, found, err);
}

static int pgt_member_list(void *driver, const store_member_query *q, store_member *out, size_t *count, int64_t *total,
                           bs_err *err)
{
    char lim[PG_INT64_TEXT], off[PG_INT64_TEXT];
    const char *params[] = {q->organization_id, q->role, q->search, pgt_limit(lim, q->limit), pg_fmt_int64(off, q->offset)};
    const pgt_page page = {"list members",
                           PGT_MEMBER_SELECT PGT_MEMBER_WHERE " ORDER BY joined_at, id" PGT_C
                                                              " LIMIT $4::bigint OFFSET GREATEST($5::bigint, 0)",
                           "SELECT count(*) FROM members" PGT_MEMBER_WHERE,
                           params,
                           3,
                           q->limit,
                           pgt_member_read,
                           sizeof *out};
    return pgt_paged(pool_of(driver), &page, out, count, total, err);
}

/* Inside a transaction: locks the organization's row (team changes of one organization one at a time),
 * reads the member (found or not) and, when it is an owner, counts the owners. */
static int pgt_member_and_owners(pg_pool *p, PGconn *c, const char *org_id, const char *member_id, store_member *m, int *found,
                                 int64_t *owners, bs_err *err)
{
    *owners = 0;
    const char *org[] = {org_id}, *params[] = {member_id, org_id};
    if (pg_command(p, c, "lock organization", "SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE", 1, org, NULL, err) < 0 ||
        pgt_one(p, c, "get member", PGT_MEMBER_GET, 2, params, pgt_member_read, m, sizeof *m, found, err) < 0)
        return -1;
    if (!*found || strcmp(m->role, "owner")) return 0;
    return pgt_int(p, c, "count owners", "SELECT count(*) FROM members WHERE organization_id = $1 AND role = 'owner'", 1, org,
                   owners, err);
}

static int pgt_set_role_on(pg_pool *p, PGconn *c, const char *org_id, const char *member_id, const char *role, bs_err *err)
{
    const char *params[] = {member_id, org_id, role};
    return pg_command(p, c, "set member role", "UPDATE members SET role = $3 WHERE id = $1 AND organization_id = $2", 3, params,
                      NULL, err);
}

static int pgt_member_set_role(void *driver, const char *org_id, const char *member_id, const char *role,
                               store_team_outcome *outcome, bs_err *err)
{
    pg_pool *p = pool_of(driver);
    store_member m;
    int found = 0;
    int64_t owners = 0;
    *outcome = STORE_TEAM_NOT_FOUND;
    PGconn *c = pgt_begin(p, err);
    if (!c) return -1;
    int rc = pgt_member_and_owners(p, c, org_id, member_id, &m, &found, &owners, err);
    if (rc == 0 && found && !strcmp(m.role, "owner") && strcmp(role, "owner") && owners <= 1) *outcome = STORE_TEAM_LAST_OWNER;
    else if (rc == 0 && found) {
        rc = pgt_set_role_on(p, c, org_id, member_id, role, err);
        if (rc == 0) *outcome = STORE_TEAM_DONE;
    }
    return pgt_end(p, c, rc, err);
}

static int pgt_member_delete_on(pg_pool *p, PGconn *c, const char *org_id, const char *member_id, int64_t at, bs_err *err)
{
    char when[PG_INT64_TEXT];
    const char *params[] = {member_id, org_id}, *revoke[] = {member_id, pg_fmt_int64(when, pgt_revoke_time(at))};
    if (pg_command(p, c, "remove member", "DELETE FROM members WHERE id = $1 AND organization_id = $2", 2, params, NULL, err) < 0)
        return -1;
    return pg_command(p, c, "revoke member tokens",
                      "UPDATE operator_tokens SET revoked_at = COALESCE(revoked_at, $2::bigint) WHERE member_id = $1", 2, revoke,
                      NULL, err);
}

static int pgt_member_remove(void *driver, const char *org_id, const char *member_id, int64_t at, store_team_outcome *outcome,
                             bs_err *err)
{
    pg_pool *p = pool_of(driver);
    store_member m;
    int found = 0;
    int64_t owners = 0;
    *outcome = STORE_TEAM_NOT_FOUND;
    PGconn *c = pgt_begin(p, err);
    if (!c) return -1;
    int rc = pgt_member_and_owners(p, c, org_id, member_id, &m, &found, &owners, err);
    if (rc == 0 && found && !strcmp(m.role, "owner") && owners <= 1) *outcome = STORE_TEAM_LAST_OWNER;
    else if (rc == 0 && found) {
        rc = pgt_member_delete_on(p, c, org_id, member_id, at, err);
        if (rc == 0) *outcome = STORE_TEAM_DONE;
    }
    return pgt_end(p, c, rc, err);
}

static int pgt_member_transfer(void *driver, const char *org_id, const char *member_id, int *found, bs_err *err)
{
    pg_pool *p = pool_of(driver);
    store_member m;
    int64_t owners = 0;
    const char *params[] = {member_id, org_id};
    *found = 0;
    PGconn *c = pgt_begin(p, err);
    if (!c) return -1;
    int rc = pgt_member_and_owners(p, c, org_id, member_id, &m, found, &owners, err);
    if (rc == 0 && *found)
        rc = pg_command(p, c, "transfer ownership",
                        "UPDATE members SET role = 'admin' WHERE organization_id = $2 AND role = 'owner' AND id <> $1", 2, params,
                        NULL, err);
    if (rc == 0 && *found) rc = pgt_set_role_on(p, c, org_id, member_id, "owner", err);
    return pgt_end(p, c, rc, err);
}

/* ---- operator tokens as listed (a member-bound token has its member's role; one whose member is gone
 * reads as revoked) ---- */

#define PGT_TOKEN_SELECT                                                                                      \
    "SELECT t.id, t.organization_id, t.name, COALESCE(m.role, t.role), t.token_hash, t.token_hint, t.expires_at,"   \
    " t.created_at, COALESCE(t.member_id, ''), (CASE WHEN t.member_id IS NOT NULL AND m.id IS NULL THEN"       \
    " COALESCE(t.revoked_at, 1) ELSE t.revoked_at END) FROM operator_tokens t LEFT JOIN members m"            \
    " ON m.id = t.member_id AND m.organization_id = t.organization_id"

static int pgt_token_row_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_operator_token_row *row = dst;
    store_operator_token *t = &row->token;
    int bad = PGT_TEXT(r, i, 0, t->id, err) | PGT_TEXT(r, i, 1, t->organization_id, err) | PGT_TEXT(r, i, 2, t->name, err) |
              PGT_TEXT(r, i, 3, t->role, err) | PGT_TEXT(r, i, 4, t->hash, err) | PGT_TEXT(r, i, 5, t->hint, err) |
              PGT_TEXT(r, i, 8, t->member_id, err);
    t->expires_at = pg_i64(r, i, 6);
    t->created_at = pg_i64(r, i, 7);
    row->revoked_at = pg_i64(r, i, 9);
    return bad ? -1 : 0;
}

static int pgt_operator_token_list(void *driver, const char *org_id, store_operator_token_row *out, size_t max, size_t *count,
                                   bs_err *err)
{
    return pgt_list_by(pool_of(driver), "list operator tokens",
                       PGT_TOKEN_SELECT " WHERE t.organization_id = $1 ORDER BY t.created_at, t.id" PGT_C " LIMIT $2::bigint",
                       org_id, pgt_token_row_read, out, sizeof *out, max, count, err);
}

static int pgt_operator_token_get(void *driver, const char *org_id, const char *token_id, store_operator_token_row *out,
                                  int *found, bs_err *err)
{
    const char *params[] = {token_id, org_id};
    return pgt_one(pool_of(driver), NULL, "get operator token", PGT_TOKEN_SELECT " WHERE t.id = $1 AND t.organization_id = $2", 2,
                   params, pgt_token_row_read, out, sizeof *out, found, err);
}

static int pgt_token_insert_on(pg_pool *p, PGconn *c, const store_operator_token *t, bs_err *err)
{
    char expires[PG_INT64_TEXT], created[PG_INT64_TEXT];
    const char *params[] = {t->id,   t->organization_id, t->name, t->role, t->hash, t->hint, pg_fmt_int64(expires, t->expires_at),
                            pg_fmt_int64(created, t->created_at), t->member_id};
    return pg_command(p, c, "insert operator token",
                      "INSERT INTO operator_tokens (id, organization_id, name, role, token_hash, token_hint, expires_at,"
                      " created_at, member_id) VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7::bigint, 0), $8::bigint,"
                      " NULLIF($9::text, ''))",
                      9, params, NULL, err);
}

/* ---- invitations ---- */

#define PGT_INVITE_SELECT                                                                                     \
    "SELECT id, organization_id, email, name, role, token_hash, invited_by, member_id, created_at, expires_at," \
    " accepted_at, revoked_at FROM invitations"
/* $1 organization, $2 now, $3 status (NULL = any). */
#define PGT_INVITE_WHERE                                                                                      \
    " WHERE organization_id = $1 AND ($3::text IS NULL OR (CASE WHEN accepted_at > 0 THEN 'accepted'"         \
    " WHEN revoked_at > 0 THEN 'revoked' WHEN expires_at <= $2::bigint THEN 'expired' ELSE 'pending' END) = $3)"

static int pgt_invitation_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_org_invitation *v = dst;
    int bad = PGT_TEXT(r, i, 0, v->id, err) | PGT_TEXT(r, i, 1, v->organization_id, err) | PGT_TEXT(r, i, 2, v->email, err) |
              PGT_TEXT(r, i, 3, v->name, err) | PGT_TEXT(r, i, 4, v->role, err) | PGT_TEXT(r, i, 5, v->hash, err) |
              PGT_TEXT(r, i, 6, v->invited_by, err) | PGT_TEXT(r, i, 7, v->member_id, err);
    v->created_at = pg_i64(r, i, 8);
    v->expires_at = pg_i64(r, i, 9);
    v->accepted_at = pg_i64(r, i, 10);
    v->revoked_at = pg_i64(r, i, 11);
    return bad ? -1 : 0;
}

static int pgt_invitation_insert(void *driver, const store_org_invitation *v, bs_err *err)
{
    pg_pool *p = pool_of(driver);
    char created[PG_INT64_TEXT], expires[PG_INT64_TEXT];
    const char *discard[] = {v->organization_id, v->email};
    const char *params[] = {v->id,         v->organization_id, v->email, v->name, v->role, v->hash, v->invited_by,
                            pg_fmt_int64(created, v->created_at), pg_fmt_int64(expires, v->expires_at)};
    PGconn *c = pgt_begin(p, err);
    if (!c) return -1;
    int rc = pg_command(p, c, "discard invitations",
                        "DELETE FROM invitations WHERE organization_id = $1 AND lower(email) = lower($2) AND accepted_at = 0", 2,
                        discard, NULL, err);
    if (rc == 0)
        rc = pg_command(p, c, "insert invitation",
                        "INSERT INTO invitations (id, organization_id, email, name, role, token_hash, invited_by, created_at,"
                        " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bigint, $9::bigint)",
                        9, params, NULL, err);
    return pgt_end(p, c, rc, err);
}

static int pgt_invitation_get(void *driver, const char *org_id, const char *id, store_org_invitation *out, int *found,
                              bs_err *err)
{
    const char *params[] = {id, org_id};
    return pgt_one(pool_of(driver), NULL, "get invitation", PGT_INVITE_SELECT " WHERE id = $1 AND organization_id = $2", 2, params,
                   pgt_invitation_read, out, sizeof *out, found, err);
}

static int pgt_invitation_lookup(void *driver, const char *hash_hex, store_org_invitation *out, int *found, bs_err *err)
{
    const char *params[] = {hash_hex};
    return pgt_one(pool_of(driver), NULL, "look up invitation", PGT_INVITE_SELECT " WHERE token_hash = $1", 1, params,
                   pgt_invitation_read, out, sizeof *out, found, err);
}

static int pgt_invitation_list(void *driver, const store_org_invitation_query *q, store_org_invitation *out, size_t *count,
                               int64_t *total, bs_err *err)
{
    char now[PG_INT64_TEXT], lim[PG_INT64_TEXT], off[PG_INT64_TEXT];
    const char *params[] = {q->organization_id, pg_fmt_int64(now, q->now), q->status, pgt_limit(lim, q->limit),
                            pg_fmt_int64(off, q->offset)};
    const pgt_page page = {"list invitations",
                           PGT_INVITE_SELECT PGT_INVITE_WHERE " ORDER BY created_at DESC, id" PGT_C
                                                              " DESC LIMIT $4::bigint OFFSET GREATEST($5::bigint, 0)",
                           "SELECT count(*) FROM invitations" PGT_INVITE_WHERE,
                           params,
                           3,
                           q->limit,
                           pgt_invitation_read,
                           sizeof *out};
    return pgt_paged(pool_of(driver), &page, out, count, total, err);
}

static int pgt_invitation_revoke(void *driver, const char *org_id, const char *id, int64_t at, int *found, bs_err *err)
{
    char when[PG_INT64_TEXT];
    const char *params[] = {id, org_id, pg_fmt_int64(when, pgt_revoke_time(at))};
    int64_t changed = 0;
    *found = 0;
    if (pg_command1(pool_of(driver), "revoke invitation",
                    "UPDATE invitations SET revoked_at = $3::bigint WHERE id = $1 AND organization_id = $2"
                    " AND accepted_at = 0 AND revoked_at = 0 AND expires_at > $3::bigint",
                    3, params, &changed, err) < 0)
        return -1;
    *found = changed > 0;
    return 0;
}

static int pgt_invitation_accept(void *driver, const char *id, int64_t at, const store_member *m, const store_operator_token *t,
                                 int *accepted, bs_err *err)
{
    pg_pool *p = pool_of(driver);
    char when[PG_INT64_TEXT];
    const char *params[] = {id, pg_fmt_int64(when, at), m->id};
    int64_t changed = 0;
    *accepted = 0;
    PGconn *c = pgt_begin(p, err);
    if (!c) return -1;
    int rc = pg_command(p, c, "accept invitation",
                        "UPDATE invitations SET accepted_at = $2::bigint, member_id = $3 WHERE id = $1"
                        " AND accepted_at = 0 AND revoked_at = 0 AND expires_at > $2::bigint",
                        3, params, &changed, err);
    if (rc == 0 && changed > 0) rc = pgt_member_insert_on(p, c, m, err);
    if (rc == 0 && changed > 0) rc = pgt_token_insert_on(p, c, t, err);
    if (rc == 0 && changed == 0) {
        pg_rollback(c); /* no longer pending: nothing written */
        pg_return(p, c);
        return 0;
    }
    rc = pgt_end(p, c, rc, err);
    *accepted = rc == 0;
    return rc;
}

/* ---- monthly users, usage alerts and webhook deliveries ---- */

static int pgt_usage_mau_known(void *driver, const char *env_id, int64_t month_start, const char *user_id, int *known,
                               bs_err *err)
{
    char month[PG_INT64_TEXT];
    const char *params[] = {user_id, env_id, pg_fmt_int64(month, month_start)};
    *known = 0;
    PGresult *r = pg_exec1(pool_of(driver), "monthly user known",
                           "SELECT 1 FROM usage_mau WHERE user_id = $1 AND environment_id = $2 AND month_start = $3::bigint", 3,
                           params, err);
    if (!r) return -1;
    *known = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

#define PGT_ALERT_SELECT "SELECT id, organization_id, metric, month, threshold, used, quota, created_at FROM usage_alerts"

static int pgt_alert_add(void *driver, const store_alert *a, int *created, bs_err *err)
{
    char threshold[PG_INT64_TEXT], used[PG_INT64_TEXT], quota[PG_INT64_TEXT], at[PG_INT64_TEXT];
    const char *params[] = {a->id,
                            a->organization_id,
                            a->metric,
                            a->month,
                            pg_fmt_int64(threshold, a->threshold),
                            pg_fmt_int64(used, a->used),
                            pg_fmt_int64(quota, a->limit),
                            pg_fmt_int64(at, a->created_at)};
    int64_t changed = 0;
    *created = 0;
    if (pg_command1(pool_of(driver), "add usage alert",
                    "INSERT INTO usage_alerts (id, organization_id, metric, month, threshold, used, quota, created_at)"
                    " VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, $7::bigint, $8::bigint) ON CONFLICT DO NOTHING",
                    8, params, &changed, err) < 0)
        return -1;
    *created = changed > 0;
    return 0;
}

static int pgt_alert_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_alert *a = dst;
    int bad = PGT_TEXT(r, i, 0, a->id, err) | PGT_TEXT(r, i, 1, a->organization_id, err) | PGT_TEXT(r, i, 2, a->metric, err) |
              PGT_TEXT(r, i, 3, a->month, err);
    a->threshold = (int)pg_i64(r, i, 4);
    a->used = pg_i64(r, i, 5);
    a->limit = pg_i64(r, i, 6);
    a->created_at = pg_i64(r, i, 7);
    return bad ? -1 : 0;
}

static int pgt_alert_list(void *driver, const char *org_id, const char *month, store_alert *out, size_t max, size_t *count,
                          bs_err *err)
{
    char lim[PG_INT64_TEXT];
    const char *params[] = {org_id, pgt_limit(lim, max), month};
    if (!month)
        return pgt_list(pool_of(driver), "list usage alerts",
                        PGT_ALERT_SELECT " WHERE organization_id = $1 ORDER BY created_at DESC, threshold DESC LIMIT $2::bigint", 2,
                        params, pgt_alert_read, out, sizeof *out, max, count, err);
    return pgt_list(pool_of(driver), "list usage alerts",
                    PGT_ALERT_SELECT " WHERE organization_id = $1 AND month = $3 ORDER BY created_at DESC, threshold DESC"
                                     " LIMIT $2::bigint",
                    3, params, pgt_alert_read, out, sizeof *out, max, count, err);
}

#define PGT_DELIVERY_COLUMNS                                                                                  \
    "id, organization_id, project_id, alert_id, url, payload, status, attempts, last_status, last_error,"          \
    " next_at, created_at, updated_at"
#define PGT_DELIVERY_SELECT "SELECT " PGT_DELIVERY_COLUMNS " FROM webhook_deliveries"
#define PGT_STR_(x) #x
#define PGT_STR(x) PGT_STR_(x) /* a numeric macro as SQL text */

static int pgt_delivery_add(void *driver, const store_delivery *d, bs_err *err)
{
    char attempts[PG_INT64_TEXT], last[PG_INT64_TEXT], next[PG_INT64_TEXT], created[PG_INT64_TEXT], updated[PG_INT64_TEXT];
    const char *params[] = {d->id,      d->organization_id, d->project_id, d->alert_id, d->url, d->payload, d->status,
                            pg_fmt_int64(attempts, d->attempts), pg_fmt_int64(last, d->last_status), d->last_error,
                            pg_fmt_int64(next, d->next_at), pg_fmt_int64(created, d->created_at),
                            pg_fmt_int64(updated, d->updated_at)};
    return pg_command1(pool_of(driver), "write webhook delivery",
                       "INSERT INTO webhook_deliveries (id, organization_id, project_id, alert_id, url, payload, status, attempts,"
                       " last_status, last_error, next_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7,"
                       " $8::bigint, $9::bigint, $10, $11::bigint, $12::bigint, $13::bigint)",
                       13, params, NULL, err);
}

static int pgt_delivery_update(void *driver, const store_delivery *d, bs_err *err)
{
    char attempts[PG_INT64_TEXT], last[PG_INT64_TEXT], next[PG_INT64_TEXT], updated[PG_INT64_TEXT];
    const char *params[] = {d->id,         d->status, pg_fmt_int64(attempts, d->attempts), pg_fmt_int64(last, d->last_status),
                            d->last_error, pg_fmt_int64(next, d->next_at), pg_fmt_int64(updated, d->updated_at)};
    return pg_command1(pool_of(driver), "write webhook delivery",
                       "UPDATE webhook_deliveries SET status = $2, attempts = $3::bigint, last_status = $4::bigint,"
                       " last_error = $5, next_at = $6::bigint, updated_at = $7::bigint WHERE id = $1",
                       7, params, NULL, err);
}

static int pgt_delivery_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_delivery *d = dst;
    int bad = PGT_TEXT(r, i, 0, d->id, err) | PGT_TEXT(r, i, 1, d->organization_id, err) | PGT_TEXT(r, i, 2, d->project_id, err) |
              PGT_TEXT(r, i, 3, d->alert_id, err) | PGT_TEXT(r, i, 4, d->url, err) | PGT_TEXT(r, i, 5, d->payload, err) |
              PGT_TEXT(r, i, 6, d->status, err) | PGT_TEXT(r, i, 9, d->last_error, err);
    d->attempts = (int)pg_i64(r, i, 7);
    d->last_status = (int)pg_i64(r, i, 8);
    d->next_at = pg_i64(r, i, 10);
    d->created_at = pg_i64(r, i, 11);
    d->updated_at = pg_i64(r, i, 12);
    return bad ? -1 : 0;
}

static int pgt_deliveries_due(void *driver, int64_t now, store_delivery *out, size_t max, size_t *count, bs_err *err)
{
    char at[PG_INT64_TEXT];
    /* claimed in the statement that finds them: rows another instance is claiming are skipped, not waited for */
    return pgt_list_by(pool_of(driver), "due webhook deliveries",
                       "WITH due AS (SELECT id, next_at AS was FROM webhook_deliveries WHERE status = 'pending'"
                       " AND next_at <= $1::bigint ORDER BY next_at, created_at, id" PGT_C " LIMIT $2::bigint"
                       " FOR UPDATE SKIP LOCKED), claimed AS (UPDATE webhook_deliveries w SET next_at = $1::bigint + "
                       PGT_STR(STORE_DELIVERY_CLAIM_MS) " FROM due WHERE w.id = due.id RETURNING w.*, due.was)"
                       " SELECT " PGT_DELIVERY_COLUMNS " FROM claimed ORDER BY was, created_at, id" PGT_C,
                       pg_fmt_int64(at, now), pgt_delivery_read, out, sizeof *out, max, count, err);
}

static int pgt_delivery_list(void *driver, const char *org_id, store_delivery *out, size_t max, size_t *count, bs_err *err)
{
    return pgt_list_by(pool_of(driver), "list webhook deliveries",
                       PGT_DELIVERY_SELECT " WHERE organization_id = $1 ORDER BY created_at DESC, id" PGT_C " DESC LIMIT $2::bigint",
                       org_id, pgt_delivery_read, out, sizeof *out, max, count, err);
}

/* ---- usage ---- */

#define PGT_USAGE_COLUMNS                                                                                     \
    "environment_id, metric, period, period_start, organization_id, project_id, environment, value, success_count," \
    " failure_count, response_us, peak, min_value, updated_at"
/* $1 organization, $2 project, $3 environment name or id, $4 metric (NULL = any), $5 period, $6 and $7 the
 * period_start range ($7 = 0: no end). */
#define PGT_USAGE_WHERE                                                                                       \
    " WHERE organization_id = $1 AND ($2::text IS NULL OR project_id = $2) AND ($3::text IS NULL OR"          \
    " environment = $3 OR environment_id = $3) AND ($4::text IS NULL OR metric = $4) AND period = $5"         \
    " AND period_start >= $6::bigint AND ($7::bigint = 0 OR period_start < $7::bigint)"
/* The UTC day and month of period_start. */
#define PGT_USAGE_DAY "period_start - period_start % 86400000"
#define PGT_USAGE_MONTH                                                                                       \
    "(extract(epoch FROM date_trunc('month', to_timestamp(period_start / 1000) AT TIME ZONE 'UTC'))::bigint * 1000)"
#define PGT_USAGE_UPSERT_ALL                                                                                  \
    " ON CONFLICT (environment_id, metric, period, period_start) DO UPDATE SET value = excluded.value,"       \
    " success_count = excluded.success_count, failure_count = excluded.failure_count,"                        \
    " response_us = excluded.response_us, peak = excluded.peak, min_value = excluded.min_value,"              \
    " organization_id = excluded.organization_id, project_id = excluded.project_id,"                          \
    " environment = excluded.environment, updated_at = excluded.updated_at"
/* The roll-ups: $1 = the first source bucket to (re)compute, $2 = now. Counters sum the finer rows (peak /
 * min: their highest / lowest value), the gauge (storage) takes the latest finer value (peak / min: of the
 * finer peaks / minima); endpoints sum. */
#define PGT_USAGE_ROLL_COUNTERS(from, to, bucket)                                                             \
    "INSERT INTO usage (" PGT_USAGE_COLUMNS ") SELECT environment_id, metric, '" to "', " bucket " AS b,"     \
    " max(organization_id), max(project_id), max(environment), sum(value), sum(success_count),"               \
    " sum(failure_count), sum(response_us), max(value), min(value), $2::bigint FROM usage WHERE period = '" from "'" \
    " AND metric <> 'storage' AND period_start >= $1::bigint GROUP BY environment_id, metric, b" PGT_USAGE_UPSERT_ALL
#define PGT_USAGE_ROLL_GAUGE(from, to, bucket)                                                                \
    "INSERT INTO usage (" PGT_USAGE_COLUMNS ") SELECT g.environment_id, 'storage', '" to "', g.b, g.o, g.p, g.e," \
    " (SELECT h.value FROM usage h WHERE h.environment_id = g.environment_id AND h.metric = 'storage' AND"     \
    " h.period = '" from "' AND h.period_start = g.last), 0, 0, 0, g.pk, g.mn, $2::bigint FROM (SELECT environment_id," \
    " " bucket " AS b, max(organization_id) AS o, max(project_id) AS p, max(environment) AS e,"               \
    " max(period_start) AS last, max(peak) AS pk, min(min_value) AS mn FROM usage WHERE period = '" from "'"  \
    " AND metric = 'storage' AND period_start >= $1::bigint GROUP BY environment_id, b) g" PGT_USAGE_UPSERT_ALL
#define PGT_USAGE_ROLL_ENDPOINTS(from, to, bucket)                                                            \
    "INSERT INTO usage_endpoints (environment_id, metric, period, period_start, organization_id, endpoint, count)" \
    " SELECT environment_id, metric, '" to "', " bucket " AS b, max(organization_id), endpoint, sum(count)"   \
    " FROM usage_endpoints WHERE period = '" from "' AND period_start >= $1::bigint GROUP BY environment_id, metric, b," \
    " endpoint ON CONFLICT (environment_id, metric, period, period_start, endpoint) DO UPDATE SET"            \
    " count = excluded.count, organization_id = excluded.organization_id"

/* The sum of one period's rows with period_start in [from, to). */
static int pgt_usage_part(pg_pool *p, PGconn *c, const char *const texts[3], const char *period, int64_t from, int64_t to,
                          int64_t *sum, bs_err *err)
{
    char a[PG_INT64_TEXT], b[PG_INT64_TEXT];
    const char *params[] = {texts[0], texts[1], texts[2], period, pg_fmt_int64(a, from), pg_fmt_int64(b, to)};
    int64_t part = 0;
    if (from >= to) return 0;
    if (pgt_int(p, c, "usage sum",
                "SELECT coalesce(sum(value), 0) FROM usage WHERE organization_id = $1 AND ($2::text IS NULL OR"
                " project_id = $2) AND metric = $3 AND period = $4 AND period_start >= $5::bigint AND period_start < $6::bigint",
                6, params, &part, err) < 0)
        return -1;
    *sum += part;
    return 0;
}

/* storage: the sum over environments of each one's latest hourly or daily reading in [from, to) (the
 * row that ends last; of an hourly and a daily row ending together, the hourly one). */
static int pgt_usage_gauge_sum(pg_pool *p, PGconn *c, const char *const texts[3], int64_t from, int64_t to, int64_t *sum,
                               bs_err *err)
{
    char a[PG_INT64_TEXT], b[PG_INT64_TEXT];
    const char *params[] = {texts[0], texts[1], texts[2], pg_fmt_int64(a, from), pg_fmt_int64(b, to)};
    return pgt_int(p, c, "usage sum",
                   "SELECT coalesce(sum(v), 0) FROM (SELECT DISTINCT ON (environment_id) value AS v FROM usage"
                   " WHERE organization_id = $1 AND ($2::text IS NULL OR project_id = $2) AND metric = $3"
                   " AND period IN ('hourly', 'daily') AND period_start >= $4::bigint AND period_start < $5::bigint"
                   " ORDER BY environment_id, period_start + CASE period WHEN 'hourly' THEN 3600000 ELSE 86400000 END DESC,"
                   " period_start DESC) g",
                   5, params, sum, err);
}

static int pgt_usage_state_get(pg_pool *p, PGconn *c, int64_t *value, bs_err *err)
{
    const char *params[] = {PGT_USAGE_ROLLED};
    return pgt_int(p, c, "usage watermark", "SELECT coalesce((SELECT value FROM usage_state WHERE name = $1), 0)", 1, params,
                   value, err);
}

/* Closed whole days from daily rows, the edges and the days not closed yet from hourly rows. */
static int pgt_usage_sum_on(pg_pool *p, PGconn *c, const char *const texts[3], int64_t from, int64_t to, int64_t *sum,
                            bs_err *err)
{
    int64_t rolled = 0;
    if (!strcmp(texts[2], "storage")) return pgt_usage_gauge_sum(p, c, texts, from, to, sum, err);
    if (pgt_usage_state_get(p, c, &rolled, err) < 0) return -1;
    int64_t a = clock_day_start(from + STORE_USAGE_DAY_MS - 1), b = clock_day_start(to);
    if (b > rolled) b = rolled;
    if (a >= b) return pgt_usage_part(p, c, texts, "hourly", from, to, sum, err);
    if (pgt_usage_part(p, c, texts, "daily", a, b, sum, err) < 0 || pgt_usage_part(p, c, texts, "hourly", from, a, sum, err) < 0)
        return -1;
    return pgt_usage_part(p, c, texts, "hourly", b, to, sum, err);
}

static int pgt_usage_sum(void *driver, const char *org, const char *project, const char *metric, int64_t from, int64_t to,
                         int64_t *sum, bs_err *err)
{
    pg_pool *p = pool_of(driver);
    const char *texts[3] = {org, project, metric};
    *sum = 0;
    PGconn *c = pg_borrow(p, err);
    if (!c) return -1;
    int rc = pgt_usage_sum_on(p, c, texts, from, to, sum, err);
    pg_return(p, c);
    return rc;
}

/* ---- array parameters: a batch's users and endpoints go in one statement each ---- */

/* Appends c to out (cap bytes, NUL kept) at *k. */
static void pgt_put(char *out, size_t cap, size_t *k, char c)
{
    if (*k + 1 < cap) out[(*k)++] = c;
    out[*k] = '\0';
}

/* The i-th text of an array parameter. */
typedef const char *(*pgt_item)(const void *items, size_t i);

static const char *pgt_user(const void *items, size_t i) { return ((const char *const *)items)[i]; }

static const char *pgt_endpoint(const void *items, size_t i) { return ((const store_usage_endpoint *)items)[i].endpoint; }

/* A text[] literal of n items, each quoted ({"a","b\"c"}): malloc'ed, NULL when memory ran out. */
static char *pgt_text_array(const void *items, size_t n, pgt_item item)
{
    size_t cap = 3, k = 0; /* { } NUL */
    for (size_t i = 0; i < n; i++) cap += 2 * strlen(item(items, i)) + 3; /* , " " and every byte escaped */
    char *out = malloc(cap);
    if (!out) return NULL;
    pgt_put(out, cap, &k, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) pgt_put(out, cap, &k, ',');
        pgt_put(out, cap, &k, '"');
        for (const char *c = item(items, i); *c; c++) {
            if (*c == '"' || *c == '\\') pgt_put(out, cap, &k, '\\');
            pgt_put(out, cap, &k, *c);
        }
        pgt_put(out, cap, &k, '"');
    }
    pgt_put(out, cap, &k, '}');
    return out;
}

/* A bigint[] literal of the endpoints' counts: malloc'ed, NULL when memory ran out. */
static char *pgt_count_array(const store_usage_endpoint *e, size_t n)
{
    size_t cap = 3 + n * (PG_INT64_TEXT + 1), k = 0;
    char *out = malloc(cap), num[PG_INT64_TEXT];
    if (!out) return NULL;
    pgt_put(out, cap, &k, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) pgt_put(out, cap, &k, ',');
        for (const char *c = pg_fmt_int64(num, e[i].count); *c; c++) pgt_put(out, cap, &k, *c);
    }
    pgt_put(out, cap, &k, '}');
    return out;
}

/* mau: records the users not yet recorded in the month; *added = how many. */
static int pgt_usage_mau(pg_pool *p, PGconn *c, const store_usage_delta *d, int64_t now, int64_t *added, bs_err *err)
{
    char month[PG_INT64_TEXT], at[PG_INT64_TEXT];
    char *users = pgt_text_array(d->users, d->nusers, pgt_user);
    const char *params[] = {d->environment_id, pg_fmt_int64(month, d->month_start), users, pg_fmt_int64(at, now)};
    *added = 0;
    if (!users) return bs_err_internal(err);
    int rc = pg_command(p, c, "record monthly users",
                        "INSERT INTO usage_mau (environment_id, month_start, user_id, first_seen) SELECT $1, $2::bigint, u,"
                        " $4::bigint FROM unnest($3::text[]) AS u ON CONFLICT DO NOTHING",
                        4, params, added, err);
    free(users);
    return rc;
}

static int pgt_usage_endpoints_add(pg_pool *p, PGconn *c, const store_usage_delta *d, bs_err *err)
{
    if (!d->nendpoints) return 0;
    char hour[PG_INT64_TEXT];
    char *names = pgt_text_array(d->endpoints, d->nendpoints, pgt_endpoint), *counts = pgt_count_array(d->endpoints, d->nendpoints);
    const char *params[] = {d->environment_id, d->metric, pg_fmt_int64(hour, d->hour_start), d->organization_id, names, counts};
    int rc = names && counts ? 0 : bs_err_internal(err);
    if (rc == 0)
        rc = pg_command(p, c, "add usage endpoints",
                        "INSERT INTO usage_endpoints AS u (environment_id, metric, period, period_start, organization_id, endpoint,"
                        " count) SELECT $1, $2, 'hourly', $3::bigint, $4, x.e, sum(x.n) FROM unnest($5::text[], $6::bigint[])"
                        " AS x(e, n) GROUP BY x.e ON CONFLICT (environment_id, metric, period, period_start, endpoint)"
                        " DO UPDATE SET count = u.count + excluded.count",
                        6, params, NULL, err);
    free(names);
    free(counts);
    return rc;
}

#define PGT_USAGE_ADD                                                                                         \
    "INSERT INTO usage AS u (" PGT_USAGE_COLUMNS ") VALUES ($1, $2, 'hourly', $3::bigint, $4, $5, $6, $7::bigint," \
    " $8::bigint, $9::bigint, $10::bigint, $7::bigint, $7::bigint, $11::bigint)"                               \
    " ON CONFLICT (environment_id, metric, period, period_start) DO UPDATE SET"                                \
    " value = CASE WHEN $12::integer <> 0 THEN excluded.value ELSE u.value + excluded.value END,"              \
    " success_count = u.success_count + excluded.success_count, failure_count = u.failure_count + excluded.failure_count," \
    " response_us = u.response_us + excluded.response_us, peak = GREATEST(u.peak, excluded.value),"           \
    " min_value = LEAST(u.min_value, excluded.value), organization_id = excluded.organization_id,"            \
    " project_id = excluded.project_id, environment = excluded.environment, updated_at = excluded.updated_at"

static int pgt_usage_add_one(pg_pool *p, PGconn *c, const store_usage_delta *d, int64_t now, bs_err *err)
{
    int64_t value = d->value, success = d->success_count;
    if (d->nusers) {
        if (pgt_usage_mau(p, c, d, now, &value, err) < 0) return -1;
        if (!value) return 0;
        success = value;
    }
    char hour[PG_INT64_TEXT], v[PG_INT64_TEXT], s[PG_INT64_TEXT], f[PG_INT64_TEXT], us[PG_INT64_TEXT], at[PG_INT64_TEXT];
    const char *params[] = {d->environment_id,
                            d->metric,
                            pg_fmt_int64(hour, d->hour_start),
                            d->organization_id,
                            d->project_id,
                            d->environment,
                            pg_fmt_int64(v, value),
                            pg_fmt_int64(s, success),
                            pg_fmt_int64(f, d->failure_count),
                            pg_fmt_int64(us, d->response_us),
                            pg_fmt_int64(at, now),
                            d->gauge ? "1" : "0"};
    if (pg_command(p, c, "add usage", PGT_USAGE_ADD, 12, params, NULL, err) < 0) return -1;
    return pgt_usage_endpoints_add(p, c, d, err);
}

static int pgt_usage_add(void *driver, const store_usage_delta *d, size_t n, int64_t now, bs_err *err)
{
    pg_pool *p = pool_of(driver);
    const char *lock[] = {PG_LOCK_USAGE_ADD}; /* one batch at a time, as SQLite's writers: no deadlock */
    PGconn *c = pgt_begin(p, err);
    if (!c) return -1;
    int rc = pg_command(p, c, "usage lock", "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, NULL, err);
    for (size_t i = 0; rc == 0 && i < n; i++) rc = pgt_usage_add_one(p, c, &d[i], now, err);
    return pgt_end(p, c, rc, err);
}

static int pgt_usage_row_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_usage_row *u = dst;
    int bad = PGT_TEXT(r, i, 0, u->organization_id, err) | PGT_TEXT(r, i, 1, u->project_id, err) |
              PGT_TEXT(r, i, 2, u->environment_id, err) | PGT_TEXT(r, i, 3, u->environment, err) |
              PGT_TEXT(r, i, 4, u->metric, err) | PGT_TEXT(r, i, 5, u->period, err) | PGT_TEXT(r, i, 13, u->endpoints, err);
    u->period_start = pg_i64(r, i, 6);
    u->value = pg_i64(r, i, 7);
    u->success_count = pg_i64(r, i, 8);
    u->failure_count = pg_i64(r, i, 9);
    u->response_us = pg_i64(r, i, 10);
    u->peak = pg_i64(r, i, 11);
    u->min = pg_i64(r, i, 12);
    return bad ? -1 : 0;
}

/* The row's 32 busiest endpoints as SQLite's json_group_object writes them: {"GET /v1/x":3,...}. */
#define PGT_USAGE_ENDPOINTS_JSON                                                                              \
    "(SELECT coalesce('{' || string_agg(to_json(e.endpoint)::text || ':' || e.count, ',' ORDER BY e.count DESC," \
    " e.endpoint" PGT_C ") || '}', '{}') FROM (SELECT e.endpoint, e.count FROM usage_endpoints e"             \
    " WHERE e.environment_id = u.environment_id AND e.metric = u.metric AND e.period = u.period"               \
    " AND e.period_start = u.period_start ORDER BY e.count DESC, e.endpoint" PGT_C " LIMIT 32) e)"

static int pgt_usage_list(void *driver, const store_usage_query *q, store_usage_row *out, size_t *count, int64_t *total,
                          bs_err *err)
{
    char from[PG_INT64_TEXT], to[PG_INT64_TEXT], lim[PG_INT64_TEXT], off[PG_INT64_TEXT];
    const char *params[] = {q->organization_id,      q->project_id, q->environment, q->metric, q->period, pg_fmt_int64(from, q->from_ms),
                            pg_fmt_int64(to, q->to_ms), pgt_limit(lim, q->limit), pg_fmt_int64(off, q->offset)};
    const pgt_page page = {"list usage",
                           "SELECT organization_id, project_id, environment_id, environment, metric, period, period_start, value,"
                           " success_count, failure_count, response_us, peak, min_value, " PGT_USAGE_ENDPOINTS_JSON
                           " FROM usage u" PGT_USAGE_WHERE " ORDER BY period_start, metric" PGT_C ", project_id" PGT_C
                           ", environment" PGT_C " LIMIT $8::bigint OFFSET GREATEST($9::bigint, 0)",
                           "SELECT count(*) FROM usage u" PGT_USAGE_WHERE,
                           params,
                           7,
                           q->limit,
                           pgt_usage_row_read,
                           sizeof *out};
    return pgt_paged(pool_of(driver), &page, out, count, total, err);
}

/* Deletes one period's rows (and endpoint counts) that start before `before`. */
static int pgt_usage_purge(pg_pool *p, PGconn *c, const char *period, int64_t before, bs_err *err)
{
    char b[PG_INT64_TEXT];
    const char *params[] = {period, pg_fmt_int64(b, before)};
    if (pg_command(p, c, "purge usage", "DELETE FROM usage WHERE period = $1 AND period_start < $2::bigint", 2, params, NULL, err) < 0)
        return -1;
    return pg_command(p, c, "purge usage", "DELETE FROM usage_endpoints WHERE period = $1 AND period_start < $2::bigint", 2, params,
                      NULL, err);
}

/* Retention (whole days of hourly rows, whole months of daily rows, so that a bucket is rolled up only
 * from complete finer rows), the MAU sets of months before the previous one and, once a day, the rows of
 * organizations that are gone. */
static int pgt_usage_retention(pg_pool *p, PGconn *c, int64_t now, int new_day, bs_err *err)
{
    char mau[PG_INT64_TEXT];
    const char *params[] = {pg_fmt_int64(mau, clock_month_start(now, -1))};
    if (pgt_usage_purge(p, c, "hourly", clock_day_start(now - STORE_USAGE_HOURLY_KEEP_MS), err) < 0 ||
        pgt_usage_purge(p, c, "daily", clock_month_start(now - STORE_USAGE_DAILY_KEEP_MS, 0), err) < 0 ||
        pgt_usage_purge(p, c, "monthly", clock_month_start(now, -STORE_USAGE_MONTHLY_KEEP_MONTHS), err) < 0 ||
        pg_command(p, c, "purge monthly users", "DELETE FROM usage_mau WHERE month_start < $1::bigint", 1, params, NULL, err) < 0)
        return -1;
    if (!new_day) return 0;
    if (pg_command(p, c, "purge usage", "DELETE FROM usage WHERE organization_id NOT IN (SELECT id FROM organizations)", 0, NULL,
                   NULL, err) < 0)
        return -1;
    return pg_command(p, c, "purge usage",
                      "DELETE FROM usage_endpoints WHERE organization_id NOT IN (SELECT id FROM organizations)", 0, NULL, NULL, err);
}

/* One roll-up level: counters and the gauge take ($1 first bucket, $2 now), endpoints $1 only. */
static int pgt_usage_roll(pg_pool *p, PGconn *c, const char *const sql[3], int64_t first, int64_t now, const char *what,
                          bs_err *err)
{
    char a[PG_INT64_TEXT], b[PG_INT64_TEXT];
    const char *params[] = {pg_fmt_int64(a, first), pg_fmt_int64(b, now)};
    for (int i = 0; i < 3; i++)
        if (pg_command(p, c, what, sql[i], i < 2 ? 2 : 1, params, NULL, err) < 0) return -1;
    return 0;
}

static int pgt_usage_rollup_on(pg_pool *p, PGconn *c, int64_t now, bs_err *err)
{
    static const char *const daily[3] = {PGT_USAGE_ROLL_COUNTERS("hourly", "daily", PGT_USAGE_DAY),
                                         PGT_USAGE_ROLL_GAUGE("hourly", "daily", PGT_USAGE_DAY),
                                         PGT_USAGE_ROLL_ENDPOINTS("hourly", "daily", PGT_USAGE_DAY)};
    static const char *const monthly[3] = {PGT_USAGE_ROLL_COUNTERS("daily", "monthly", PGT_USAGE_MONTH),
                                           PGT_USAGE_ROLL_GAUGE("daily", "monthly", PGT_USAGE_MONTH),
                                           PGT_USAGE_ROLL_ENDPOINTS("daily", "monthly", PGT_USAGE_MONTH)};
    char day[PG_INT64_TEXT];
    const char *lock[] = {PG_LOCK_USAGE_ROLLUP};
    int64_t rolled = 0, today = clock_day_start(now);
    if (pg_command(p, c, "usage roll-up lock", "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock, NULL, err) < 0 ||
        pgt_usage_state_get(p, c, &rolled, err) < 0 || pgt_usage_roll(p, c, daily, rolled, now, "daily roll-up", err) < 0 ||
        pgt_usage_roll(p, c, monthly, clock_month_start(rolled, 0), now, "monthly roll-up", err) < 0 ||
        pgt_usage_retention(p, c, now, today != rolled, err) < 0)
        return -1;
    const char *state[] = {PGT_USAGE_ROLLED, pg_fmt_int64(day, today)};
    return pg_command(p, c, "usage watermark",
                      "INSERT INTO usage_state (name, value) VALUES ($1, $2::bigint) ON CONFLICT (name) DO UPDATE SET"
                      " value = excluded.value",
                      2, state, NULL, err);
}

static int pgt_usage_rollup(void *driver, int64_t now, bs_err *err)
{
    pg_pool *p = pool_of(driver);
    PGconn *c = pgt_begin(p, err);
    if (!c) return -1;
    return pgt_end(p, c, pgt_usage_rollup_on(p, c, now, err), err);
}

static int pgt_usage_env_read(const PGresult *r, int i, void *dst, bs_err *err)
{
    store_usage_env *e = dst;
    int bad = PGT_TEXT(r, i, 0, e->organization_id, err) | PGT_TEXT(r, i, 1, e->project_id, err) |
              PGT_TEXT(r, i, 2, e->environment_id, err) | PGT_TEXT(r, i, 3, e->environment, err) | PGT_TEXT(r, i, 4, e->status, err);
    return bad ? -1 : 0;
}

static int pgt_usage_envs(void *driver, store_usage_env *out, size_t max, size_t *count, bs_err *err)
{
    char lim[PG_INT64_TEXT];
    const char *params[] = {pgt_limit(lim, max)};
    return pgt_list(pool_of(driver), "list usage environments",
                    "SELECT p.organization_id, e.project_id, e.id, e.name, e.status FROM environments e JOIN projects p"
                    " ON p.id = e.project_id WHERE e.status <> 'deleting' ORDER BY e.created_at, e.id" PGT_C " LIMIT $1::bigint",
                    1, params, pgt_usage_env_read, out, sizeof *out, max, count, err);
}

/* ---- leases ---- */

/* One statement: now is the server's clock (excluded.expires_at - ttl), the same for every instance. */
static int pgt_lease_take(void *driver, const char *name, const char *holder, int64_t ttl_ms, int64_t *fence, int *held, bs_err *err)
{
    char ttl[PG_INT64_TEXT];
    const char *params[] = {name, holder, pg_fmt_int64(ttl, ttl_ms)};
    PGresult *r = pg_exec1(pool_of(driver), "take lease",
                           "INSERT INTO leases AS l (name, holder, fence, expires_at) VALUES ($1, $2, 1,"
                           " (extract(epoch FROM clock_timestamp()) * 1000)::bigint + $3::bigint)"
                           " ON CONFLICT (name) DO UPDATE SET"
                           " fence = CASE WHEN l.holder = excluded.holder THEN l.fence ELSE l.fence + 1 END,"
                           " holder = excluded.holder, expires_at = excluded.expires_at"
                           " WHERE l.holder = excluded.holder OR l.expires_at <= excluded.expires_at - $3::bigint RETURNING fence",
                           3, params, err);
    if (!r) return -1;
    *held = PQntuples(r) == 1;
    *fence = *held ? pg_i64(r, 0, 0) : 0;
    PQclear(r);
    return 0;
}

static int pgt_lease_release(void *driver, const char *name, const char *holder, bs_err *err)
{
    const char *params[] = {name, holder};
    return pg_command1(pool_of(driver), "release lease", "UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2", 2,
                       params, NULL, err);
}

void pgc_fill_team(store_control_ops *ops)
{
    ops->member_insert = pgt_member_insert;
    ops->member_get = pgt_member_get;
    ops->member_find_email = pgt_member_find_email;
    ops->member_list = pgt_member_list;
    ops->member_set_role = pgt_member_set_role;
    ops->member_remove = pgt_member_remove;
    ops->member_transfer = pgt_member_transfer;
    ops->operator_token_list = pgt_operator_token_list;
    ops->operator_token_get = pgt_operator_token_get;
    ops->invitation_insert = pgt_invitation_insert;
    ops->invitation_get = pgt_invitation_get;
    ops->invitation_lookup = pgt_invitation_lookup;
    ops->invitation_list = pgt_invitation_list;
    ops->invitation_revoke = pgt_invitation_revoke;
    ops->invitation_accept = pgt_invitation_accept;
    ops->usage_mau_known = pgt_usage_mau_known;
    ops->alert_add = pgt_alert_add;
    ops->alert_list = pgt_alert_list;
    ops->delivery_add = pgt_delivery_add;
    ops->deliveries_due = pgt_deliveries_due;
    ops->delivery_update = pgt_delivery_update;
    ops->delivery_list = pgt_delivery_list;
    ops->usage_sum = pgt_usage_sum;
    ops->usage_add = pgt_usage_add;
    ops->usage_list = pgt_usage_list;
    ops->usage_rollup = pgt_usage_rollup;
    ops->usage_envs = pgt_usage_envs;
    ops->lease_take = pgt_lease_take;
    ops->lease_release = pgt_lease_release;
}
