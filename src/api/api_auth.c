/*
 * api_auth.c — the credential store of the API: users (argon2id password hashes), API
 * tokens (keyed BLAKE2b hashes only), the checks the request path makes, brute-force
 * limits on password checks, and the first-start admin account.
 *
 * DATA/auth.db is SQLite in WAL mode, shared with the `vigie user` / `vigie token` commands
 * (busy timeout for their writes); every token and user lookup reads it, so revocations and
 * password changes apply to the next request. DATA/auth.key is a 32-byte secret made at
 * first open (mode 0600): it keys the token hashes (a stolen auth.db alone does not let
 * anyone test token guesses offline) and the in-memory caches.
 *
 * argon2id with libsodium's interactive limits costs ~0.1 s and 64 MiB per check, so at
 * most two checks run at once (a flood of Basic-auth requests cannot exhaust memory), a
 * verified user+password is remembered for five minutes under a keyed hash of both (the
 * entry also holds a fingerprint of the stored hash: a password change or a deleted user
 * invalidates it at once), and unknown users cost the same time as known ones.
 */
#include "api/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE       "auth.key"
#define DB_FILE        "auth.db"
#define PW_CACHE       256
#define PW_CACHE_TTL   (300ull * 1000000000ull)
#define PW_PARALLEL    2
#define FAIL_MAX       4096
#define FAIL_FORGET_NS (900ull * 1000000000ull)
#define LOCK_MAX_S     900
#define TOUCH_EVERY_S  60

struct pw_cached {
    uint8_t id[32]; /* keyed hash of user and password */
    uint8_t fp[16]; /* fingerprint of the stored hash when verified */
    uint64_t expires;
};

struct failrec {
    char key[80]; /* "u:NAME" or "p:IP" */
    uint32_t fails;
    uint64_t last, until; /* monotonic ns */
};

struct vg_api_auth {
    sqlite3 *db;
    pthread_mutex_t lock; /* db, statements */
    sqlite3_stmt *q_token, *q_touch, *q_user;
    uint8_t key[32];
    char dummy[crypto_pwhash_STRBYTES]; /* hash checked for unknown users */
    pthread_mutex_t mlock;              /* cache, failures, dummy */
    pthread_cond_t pw_cond;
    int pw_active;
    struct pw_cached cache[PW_CACHE];
    size_t cache_next;
    struct failrec *fails;
    size_t nfails;
    unsigned login_free;
    int64_t idle_ns, max_ns;
    struct vg_api_sessions *sessions;
    atomic_uint_fast64_t st_login_ok, st_login_failed, st_login_locked, st_token_ok,
        st_token_failed;
};

/* ---------------------------------------------------------------- names and roles */

static const char *const role_names[] = {"public", "ingest", "read", "analyst", "admin"};

const char *vg_api_role_name(int role)
{
    return role >= 0 && role < (int)VG_ARRAY_LEN(role_names) ? role_names[role] : "unknown";
}

int vg_api_role_parse(const char *name, int *role)
{
    for (int i = VG_API_ROLE_INGEST; name && i < (int)VG_ARRAY_LEN(role_names); i++) {
        if (!strcmp(name, role_names[i])) {
            *role = i;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

static bool charset_ok(const char *s, const char *extra)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
            !strchr(extra, c)) {
            return false;
        }
    }
    return true;
}

bool vg_api_name_valid(const char *s)
{
    return charset_ok(s, "._@-");
}

bool vg_api_tenant_valid(const char *s)
{
    return charset_ok(s, "._-");
}

/* ---------------------------------------------------------------- files */

static int key_load(struct vg_api_auth *a, const char *dir, char *err, size_t errsz)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, KEY_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        /* write under a temporary name, then link: a concurrent opener sees all or nothing */
        snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
        uint8_t k[32];
        randombytes_buf(k, sizeof(k));
        int w = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        bool ok = w >= 0 && write(w, k, sizeof(k)) == (ssize_t)sizeof(k) && fsync(w) == 0;
        if (w >= 0) {
            close(w);
        }
        if (ok && link(tmp, path) != 0 && errno != EEXIST) {
            ok = false;
        }
        unlink(tmp);
        sodium_memzero(k, sizeof(k));
        if (!ok) {
            snprintf(err, errsz, "%s: cannot create: %s", path, strerror(errno));
            return VG_EIO;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    struct stat st;
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof(a->key) &&
              read(fd, a->key, sizeof(a->key)) == (ssize_t)sizeof(a->key);
    if (ok && (st.st_mode & 077)) {
        VG_WARN(VG_API_COMP, "%s is readable by others (mode %03o): chmod 600 it", path,
                (unsigned)(st.st_mode & 0777));
    }
    if (fd >= 0) {
        close(fd);
    }
    if (!ok) {
        snprintf(err, errsz, "%s: unreadable or not a 32-byte key", path);
        return VG_EIO;
    }
    return VG_OK;
}

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, pwhash TEXT NOT NULL,"
    " role TEXT NOT NULL, tenant TEXT NOT NULL, created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " hash BLOB NOT NULL UNIQUE, role TEXT NOT NULL, tenant TEXT NOT NULL,"
    " created INTEGER NOT NULL, expires INTEGER, last_used INTEGER, revoked INTEGER);"
    "CREATE UNIQUE INDEX IF NOT EXISTS tokens_active ON tokens(name) WHERE revoked IS NULL;"
    "PRAGMA user_version=1;";

static int db_open(struct vg_api_auth *a, const char *dir, char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, DB_FILE);
    /* create it 0600 ourselves: SQLite gives its -wal and -shm files the same mode */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
    }
    int rc = sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(a->db, 5000);
        rc = sqlite3_exec(a->db, schema, NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        const unsigned f = SQLITE_PREPARE_PERSISTENT;
        const char *qt = "SELECT id, name, role, tenant, expires, revoked, last_used FROM tokens"
                         " WHERE hash = ?";
        const char *qu = "SELECT role, tenant, pwhash FROM users WHERE name = ?";
        const char *qc = "UPDATE tokens SET last_used = ? WHERE id = ?";
        rc = sqlite3_prepare_v3(a->db, qt, -1, f, &a->q_token, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_prepare_v3(a->db, qc, -1, f, &a->q_touch, NULL);
        }
        if (rc == SQLITE_OK) {
            rc = sqlite3_prepare_v3(a->db, qu, -1, f, &a->q_user, NULL);
        }
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errsz, "%s: %s", path, a->db ? sqlite3_errmsg(a->db) : "cannot open");
        return VG_EIO;
    }
    return VG_OK;
}

int vg_api_auth_open(const char *data_dir, struct vg_api_auth **out, char *err, size_t errsz)
{
    *out = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errsz, "libsodium failed to initialise");
        return VG_ERROR;
    }
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "%s: cannot create: %s", data_dir, strerror(errno));
        return VG_EIO;
    }
    struct vg_api_auth *a = vg_calloc(1, sizeof(*a));
    if (!a || !(a->sessions = vg_api_sessions_create()) ||
        !(a->fails = vg_calloc(FAIL_MAX, sizeof(*a->fails)))) {
        if (a) {
            vg_api_sessions_destroy(a->sessions);
        }
        vg_free(a);
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->mlock, NULL);
    pthread_cond_init(&a->pw_cond, NULL);
    vg_api_auth_configure(a, 0, 0, 0);
    int rc = key_load(a, data_dir, err, errsz);
    if (rc == VG_OK) {
        rc = db_open(a, data_dir, err, errsz);
    }
    if (rc != VG_OK) {
        vg_api_auth_close(a);
        return rc;
    }
    *out = a;
    return VG_OK;
}

void vg_api_auth_close(struct vg_api_auth *a)
{
    if (!a) {
        return;
    }
    sqlite3_finalize(a->q_token);
    sqlite3_finalize(a->q_touch);
    sqlite3_finalize(a->q_user);
    sqlite3_close(a->db);
    vg_api_sessions_destroy(a->sessions);
    sodium_memzero(a->key, sizeof(a->key));
    sodium_memzero(a->cache, sizeof(a->cache));
    vg_free(a->fails);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->mlock);
    pthread_cond_destroy(&a->pw_cond);
    vg_free(a);
}

void vg_api_auth_configure(struct vg_api_auth *a, unsigned login_free, int64_t idle_ms,
                           int64_t max_ms)
{
    a->login_free = login_free ? login_free : 5;
    a->idle_ns = (idle_ms > 0 ? idle_ms : 30 * 60 * 1000) * 1000000;
    a->max_ns = (max_ms > 0 ? max_ms : 12 * 3600 * 1000) * 1000000;
}

struct vg_api_sessions *vg_api_auth_sessions(struct vg_api_auth *a)
{
    return a->sessions;
}

void vg_api_auth_lifetimes(struct vg_api_auth *a, int64_t *idle_ns, int64_t *max_ns)
{
    *idle_ns = a->idle_ns;
    *max_ns = a->max_ns;
}

/* ---------------------------------------------------------------- hashing */

static void keyed_hash(const struct vg_api_auth *a, uint8_t *out, size_t outlen, const void *p,
                       size_t n)
{
    crypto_generichash(out, outlen, p, n, a->key, sizeof(a->key));
}

static void pw_fingerprint(const struct vg_api_auth *a, const char *hash, uint8_t fp[16])
{
    keyed_hash(a, fp, 16, hash, strlen(hash));
}

/* argon2id verification, at most PW_PARALLEL at a time (64 MiB each). */
static bool pw_verify(struct vg_api_auth *a, const char *hash, const char *pw, size_t n)
{
    pthread_mutex_lock(&a->mlock);
    while (a->pw_active >= PW_PARALLEL) {
        pthread_cond_wait(&a->pw_cond, &a->mlock);
    }
    a->pw_active++;
    pthread_mutex_unlock(&a->mlock);
    bool ok = crypto_pwhash_str_verify(hash, pw, n) == 0;
    pthread_mutex_lock(&a->mlock);
    a->pw_active--;
    pthread_cond_signal(&a->pw_cond);
    pthread_mutex_unlock(&a->mlock);
    return ok;
}

static int pw_hash(const char *pw, char out[crypto_pwhash_STRBYTES])
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < VG_API_PASSWORD_MIN || n > 4096) {
        return VG_EINVAL;
    }
    if (crypto_pwhash_str(out, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        return VG_ENOMEM;
    }
    return VG_OK;
}

static const char *dummy_hash(struct vg_api_auth *a)
{
    pthread_mutex_lock(&a->mlock);
    if (!a->dummy[0]) {
        char pw[33];
        uint8_t r[24];
        randombytes_buf(r, sizeof(r));
        sodium_bin2base64(pw, sizeof(pw), r, sizeof(r), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        if (pw_hash(pw, a->dummy) != VG_OK) {
            a->dummy[0] = '\0';
        }
    }
    pthread_mutex_unlock(&a->mlock);
    return a->dummy[0] ? a->dummy : NULL;
}

/* ---------------------------------------------------------------- lookups */

static char *col_dup(struct vg_arena *ar, sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return vg_arena_strdup(ar, s ? s : "");
}

static int role_of(const char *s)
{
    int r = VG_API_ROLE_PUBLIC;
    return vg_api_role_parse(s, &r) == VG_OK ? r : VG_API_ROLE_PUBLIC; /* unknown: no access */
}

/* Role, tenant, fingerprint and (if hash) stored hash of a user. */
static int user_load(struct vg_api_auth *a, const char *name, struct vg_arena *arena,
                     struct vg_api_principal *p, uint8_t fp[16], char *hash, size_t hashsz)
{
    int rc = VG_ENOENT;
    pthread_mutex_lock(&a->lock);
    sqlite3_stmt *st = a->q_user;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 2);
        p->role = role_of((const char *)sqlite3_column_text(st, 0));
        p->tenant = col_dup(arena, st, 1);
        p->name = vg_arena_strdup(arena, name);
        pw_fingerprint(a, h ? h : "", fp);
        rc = p->tenant && p->name ? VG_OK : VG_ENOMEM;
        if (hash && (!h || vg_strlcpy(hash, h, hashsz) >= hashsz)) {
            rc = VG_EIO;
        }
    } else if (s != SQLITE_DONE) {
        VG_ERR(VG_API_COMP, "auth.db: %s", sqlite3_errmsg(a->db));
        rc = VG_EIO;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int vg_api_auth_user_get(struct vg_api_auth *a, const char *name, struct vg_arena *arena,
                         struct vg_api_principal *p, uint8_t fp[16])
{
    return user_load(a, name, arena, p, fp, NULL, 0);
}

int vg_api_auth_token(struct vg_api_auth *a, const char *tok, size_t n, struct vg_arena *arena,
                      struct vg_api_principal *p, const char **why)
{
    uint8_t raw[32], h[32];
    size_t rl = 0;
    *why = "malformed";
    if (n != VG_API_TOKEN_SIZE - 1 || memcmp(tok, "vg_", 3) != 0 ||
        sodium_base642bin(raw, sizeof(raw), tok + 3, n - 3, NULL, &rl, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        rl != sizeof(raw)) {
        atomic_fetch_add(&a->st_token_failed, 1);
        return VG_EINVAL;
    }
    keyed_hash(a, h, sizeof(h), raw, sizeof(raw));
    int64_t now = vg_time_now() / 1000000000;
    int rc = VG_ENOENT;
    *why = "unknown token";
    pthread_mutex_lock(&a->lock);
    sqlite3_stmt *st = a->q_token;
    sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        bool revoked = sqlite3_column_type(st, 5) != SQLITE_NULL;
        bool expired =
            sqlite3_column_type(st, 4) != SQLITE_NULL && now >= sqlite3_column_int64(st, 4);
        int64_t last = sqlite3_column_int64(st, 6);
        *why = revoked ? "revoked token" : expired ? "expired token" : "";
        if (!revoked && !expired) {
            p->kind = VG_API_AUTH_TOKEN;
            p->name = col_dup(arena, st, 1);
            p->role = role_of((const char *)sqlite3_column_text(st, 2));
            p->tenant = col_dup(arena, st, 3);
            rc = p->name && p->tenant ? VG_OK : VG_ENOMEM;
        }
        sqlite3_reset(st);
        if (rc == VG_OK && now - last >= TOUCH_EVERY_S) {
            sqlite3_bind_int64(a->q_touch, 1, now);
            sqlite3_bind_int64(a->q_touch, 2, id);
            sqlite3_step(a->q_touch); /* best effort: busy writers only delay last_used */
            sqlite3_reset(a->q_touch);
        }
    } else if (s != SQLITE_DONE) {
        VG_ERR(VG_API_COMP, "auth.db: %s", sqlite3_errmsg(a->db));
        *why = "auth.db error";
        rc = VG_EIO;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&a->lock);
    atomic_fetch_add(rc == VG_OK ? &a->st_token_ok : &a->st_token_failed, 1);
    return rc == VG_EIO ? VG_ENOENT : rc;
}

/* ---------------------------------------------------------------- brute-force limits */

static struct failrec *fail_find(struct vg_api_auth *a, const char *key, bool create, uint64_t now)
{
    struct failrec *oldest = NULL;
    for (size_t i = 0; i < a->nfails; i++) {
        struct failrec *f = &a->fails[i];
        if (!strcmp(f->key, key)) {
            if (now - f->last > FAIL_FORGET_NS && now >= f->until) {
                f->fails = 0; /* forgiven after a quiet quarter of an hour */
            }
            return f;
        }
        if (!oldest || f->last < oldest->last) {
            oldest = f;
        }
    }
    if (!create) {
        return NULL;
    }
    struct failrec *f = a->nfails < FAIL_MAX ? &a->fails[a->nfails++] : oldest;
    memset(f, 0, sizeof(*f));
    vg_strlcpy(f->key, key, sizeof(f->key));
    return f;
}

static uint64_t lock_ns(uint32_t fails, unsigned free_n)
{
    if (fails < free_n) {
        return 0;
    }
    uint32_t k = fails - free_n;
    uint64_t s = k >= 10 ? LOCK_MAX_S : VG_MIN((uint64_t)1 << k, (uint64_t)LOCK_MAX_S);
    return s * 1000000000ull;
}

/* Seconds the user or the address must still wait (0: may try). */
static int locked_for(struct vg_api_auth *a, const char *ukey, const char *pkey, uint64_t now)
{
    uint64_t until = 0;
    pthread_mutex_lock(&a->mlock);
    struct failrec *u = fail_find(a, ukey, false, now), *p = fail_find(a, pkey, false, now);
    until = VG_MAX(u ? u->until : 0, p ? p->until : 0);
    pthread_mutex_unlock(&a->mlock);
    return until > now ? (int)((until - now + 999999999ull) / 1000000000ull) : 0;
}

static uint32_t fail_note(struct vg_api_auth *a, const char *ukey, const char *pkey, uint64_t now)
{
    uint32_t n = 0;
    pthread_mutex_lock(&a->mlock);
    for (int k = 0; k < 2; k++) {
        struct failrec *f = fail_find(a, k ? pkey : ukey, true, now);
        f->fails++;
        f->last = now;
        f->until = now + lock_ns(f->fails, k ? 4 * a->login_free : a->login_free);
        n = k ? n : f->fails;
    }
    pthread_mutex_unlock(&a->mlock);
    return n;
}

static void fail_clear(struct vg_api_auth *a, const char *ukey, uint64_t now)
{
    pthread_mutex_lock(&a->mlock);
    struct failrec *f = fail_find(a, ukey, false, now);
    if (f) {
        f->fails = 0;
        f->until = 0;
    }
    pthread_mutex_unlock(&a->mlock);
}

/* ---------------------------------------------------------------- password checks */

static void cache_id(const struct vg_api_auth *a, const char *user, const char *pw, size_t n,
                     uint8_t id[32])
{
    crypto_generichash_state s;
    crypto_generichash_init(&s, a->key, sizeof(a->key), 32);
    crypto_generichash_update(&s, (const uint8_t *)user, strlen(user) + 1);
    crypto_generichash_update(&s, (const uint8_t *)pw, n);
    crypto_generichash_final(&s, id, 32);
}

static bool cache_hit(struct vg_api_auth *a, const uint8_t id[32], const uint8_t fp[16],
                      uint64_t now)
{
    bool hit = false;
    pthread_mutex_lock(&a->mlock);
    for (size_t i = 0; i < PW_CACHE && !hit; i++) {
        const struct pw_cached *c = &a->cache[i];
        hit = c->expires > now && sodium_memcmp(c->id, id, 32) == 0 &&
              sodium_memcmp(c->fp, fp, 16) == 0;
    }
    pthread_mutex_unlock(&a->mlock);
    return hit;
}

static void cache_put(struct vg_api_auth *a, const uint8_t id[32], const uint8_t fp[16],
                      uint64_t now)
{
    pthread_mutex_lock(&a->mlock);
    struct pw_cached *c = &a->cache[a->cache_next++ % PW_CACHE];
    memcpy(c->id, id, 32);
    memcpy(c->fp, fp, 16);
    c->expires = now + PW_CACHE_TTL;
    pthread_mutex_unlock(&a->mlock);
}

int vg_api_auth_password(struct vg_api_auth *a, const char *user, const char *pw, size_t pwlen,
                         const char *ip, struct vg_arena *arena, struct vg_api_principal *p,
                         int *retry_s)
{
    char ukey[80], pkey[80], hash[crypto_pwhash_STRBYTES];
    uint8_t id[32], fp[16];
    uint64_t now = vg_clock_ns();
    bool valid = vg_api_name_valid(user);
    snprintf(ukey, sizeof(ukey), "u:%s", valid ? user : "?");
    snprintf(pkey, sizeof(pkey), "p:%s", ip);
    if ((*retry_s = locked_for(a, ukey, pkey, now)) > 0) {
        atomic_fetch_add(&a->st_login_locked, 1);
        VG_WARN(VG_API_COMP, "login of '%s' from %s refused: locked out for %d s",
                valid ? user : "(invalid name)", ip, *retry_s);
        return VG_AGAIN;
    }
    struct vg_api_principal got = {0};
    bool known = valid && user_load(a, user, arena, &got, fp, hash, sizeof(hash)) == VG_OK;
    cache_id(a, valid ? user : "", pw, pwlen, id);
    bool ok = known && cache_hit(a, id, fp, now);
    if (!ok) {
        const char *h = known ? hash : dummy_hash(a);
        ok = h && pw_verify(a, h, pw, pwlen) && known;
        if (ok) {
            cache_put(a, id, fp, now);
        }
    }
    sodium_memzero(hash, sizeof(hash));
    if (!ok) {
        /* the lock-out counts from the failure, not from before the slow check */
        uint32_t n = fail_note(a, ukey, pkey, vg_clock_ns());
        atomic_fetch_add(&a->st_login_failed, 1);
        VG_WARN(VG_API_COMP, "login failed for '%s' from %s (%u failures in a row)",
                valid ? user : "(invalid name)", ip, n);
        return VG_ENOENT;
    }
    fail_clear(a, ukey, now);
    atomic_fetch_add(&a->st_login_ok, 1);
    *p = got;
    p->kind = VG_API_AUTH_PASSWORD;
    return VG_OK;
}

void vg_api_auth_get_stats(struct vg_api_auth *a, struct vg_api_auth_stats *out)
{
    out->logins_ok = atomic_load(&a->st_login_ok);
    out->logins_failed = atomic_load(&a->st_login_failed);
    out->logins_locked = atomic_load(&a->st_login_locked);
    out->token_ok = atomic_load(&a->st_token_ok);
    out->token_failed = atomic_load(&a->st_token_failed);
    out->sessions = 0; /* filled by the caller from the session table */
}

/* ---------------------------------------------------------------- management */

/* Run one statement with text/int binds: "t" text, "i" int64, "n" null. */
static int exec_binds(struct vg_api_auth *a, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    pthread_mutex_lock(&a->lock);
    int rc = sqlite3_prepare_v2(a->db, sql, -1, &st, NULL);
    va_start(ap, types);
    for (int i = 0; rc == SQLITE_OK && types[i]; i++) {
        if (types[i] == 't') {
            rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        } else if (types[i] == 'i') {
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        } else if (types[i] == 'b') {
            const void *p = va_arg(ap, const void *);
            rc = sqlite3_bind_blob(st, i + 1, p, 32, SQLITE_TRANSIENT);
        } else {
            rc = sqlite3_bind_null(st, i + 1);
        }
    }
    va_end(ap);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    int changes = sqlite3_changes(a->db);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW && (rc & 0xff) != SQLITE_CONSTRAINT) {
        VG_ERR(VG_API_COMP, "auth.db: %s", sqlite3_errmsg(a->db));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        return VG_EEXIST;
    }
    if (rc != SQLITE_DONE) {
        return VG_EIO;
    }
    return changes ? VG_OK : VG_ENOENT;
}

int vg_api_user_add(struct vg_api_auth *a, const char *name, const char *password, int role,
                    const char *tenant)
{
    char hash[crypto_pwhash_STRBYTES];
    tenant = tenant ? tenant : "default";
    if (!vg_api_name_valid(name) || !vg_api_tenant_valid(tenant) || role < VG_API_ROLE_INGEST ||
        role > VG_API_ROLE_ADMIN) {
        return VG_EINVAL;
    }
    int rc = pw_hash(password, hash);
    if (rc != VG_OK) {
        return rc;
    }
    int64_t now = vg_time_now() / 1000000000;
    rc = exec_binds(a,
                    "INSERT INTO users(name, pwhash, role, tenant, created, updated)"
                    " VALUES(?, ?, ?, ?, ?, ?)",
                    "ttttii", name, hash, vg_api_role_name(role), tenant, now, now);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int vg_api_user_passwd(struct vg_api_auth *a, const char *name, const char *password)
{
    char hash[crypto_pwhash_STRBYTES];
    int rc = pw_hash(password, hash);
    if (rc != VG_OK) {
        return rc;
    }
    rc = exec_binds(a, "UPDATE users SET pwhash = ?, updated = ? WHERE name = ?", "tit", hash,
                    vg_time_now() / 1000000000, name);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int vg_api_user_del(struct vg_api_auth *a, const char *name)
{
    return exec_binds(a, "DELETE FROM users WHERE name = ?", "t", name);
}

int vg_api_user_set_role(struct vg_api_auth *a, const char *name, int role)
{
    if (role < VG_API_ROLE_INGEST || role > VG_API_ROLE_ADMIN) {
        return VG_EINVAL;
    }
    return exec_binds(a, "UPDATE users SET role = ? WHERE name = ?", "tt", vg_api_role_name(role),
                      name);
}

static vg_time_t col_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? VG_TIME_NONE
                                                     : sqlite3_column_int64(st, i) * 1000000000;
}

int vg_api_user_list(struct vg_api_auth *a, int (*fn)(void *ctx, const struct vg_api_user_info *u),
                     void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK, s;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db,
                           "SELECT name, tenant, role, created, updated FROM users ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK) {
        pthread_mutex_unlock(&a->lock);
        return VG_EIO;
    }
    while (rc == VG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_api_user_info u = {
            .name = (const char *)sqlite3_column_text(st, 0),
            .tenant = (const char *)sqlite3_column_text(st, 1),
            .role = role_of((const char *)sqlite3_column_text(st, 2)),
            .created = col_time(st, 3),
            .updated = col_time(st, 4),
        };
        rc = fn(ctx, &u);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int vg_api_token_create(struct vg_api_auth *a, const char *name, int role, const char *tenant,
                        vg_time_t expires, char *token, size_t size)
{
    uint8_t raw[32], h[32];
    tenant = tenant ? tenant : "default";
    if (!vg_api_name_valid(name) || !vg_api_tenant_valid(tenant) || role < VG_API_ROLE_INGEST ||
        role > VG_API_ROLE_ADMIN || size < VG_API_TOKEN_SIZE) {
        return VG_EINVAL;
    }
    randombytes_buf(raw, sizeof(raw));
    memcpy(token, "vg_", 3);
    sodium_bin2base64(token + 3, size - 3, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    keyed_hash(a, h, sizeof(h), raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    int64_t now = vg_time_now() / 1000000000;
    int rc;
    const char *sql = "INSERT INTO tokens(name, hash, role, tenant, created, expires)"
                      " VALUES(?, ?, ?, ?, ?, ?)";
    if (expires == VG_TIME_NONE) {
        rc = exec_binds(a, sql, "tbttin", name, h, vg_api_role_name(role), tenant, now);
    } else {
        rc = exec_binds(a, sql, "tbttii", name, h, vg_api_role_name(role), tenant, now,
                        (int64_t)(expires / 1000000000));
    }
    if (rc != VG_OK) {
        sodium_memzero(token, size);
    }
    return rc;
}

int vg_api_token_revoke(struct vg_api_auth *a, const char *name)
{
    return exec_binds(a, "UPDATE tokens SET revoked = ? WHERE name = ? AND revoked IS NULL", "it",
                      vg_time_now() / 1000000000, name);
}

int vg_api_token_list(struct vg_api_auth *a,
                      int (*fn)(void *ctx, const struct vg_api_token_info *t), void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK, s;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db,
                           "SELECT id, name, tenant, role, created, expires, last_used, revoked"
                           " FROM tokens ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        pthread_mutex_unlock(&a->lock);
        return VG_EIO;
    }
    while (rc == VG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_api_token_info t = {
            .id = sqlite3_column_int64(st, 0),
            .name = (const char *)sqlite3_column_text(st, 1),
            .tenant = (const char *)sqlite3_column_text(st, 2),
            .role = role_of((const char *)sqlite3_column_text(st, 3)),
            .created = col_time(st, 4),
            .expires = col_time(st, 5),
            .last_used = col_time(st, 6),
            .revoked = col_time(st, 7),
        };
        rc = fn(ctx, &t);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

/* ---------------------------------------------------------------- first start */

static int count_user(void *ctx, const struct vg_api_user_info *u)
{
    VG_UNUSED(u);
    (*(size_t *)ctx)++;
    return 0;
}

static int write_secret_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    size_t n = strlen(text);
    bool ok = fd >= 0 && fchmod(fd, 0600) == 0 && write(fd, text, n) == (ssize_t)n &&
              write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok ? VG_OK : VG_EIO;
}

int vg_api_bootstrap(const char *data_dir, FILE *out, bool *created)
{
    struct vg_api_auth *a = NULL;
    char err[256], pw[40], path[4096];
    uint8_t r[18];
    size_t users = 0;
    if (created) {
        *created = false;
    }
    int rc = vg_api_auth_open(data_dir, &a, err, sizeof(err));
    if (rc != VG_OK) {
        VG_ERR(VG_API_COMP, "%s", err);
        return rc;
    }
    if ((rc = vg_api_user_list(a, count_user, &users)) != VG_OK || users) {
        vg_api_auth_close(a);
        return rc;
    }
    randombytes_buf(r, sizeof(r));
    sodium_bin2base64(pw, sizeof(pw), r, sizeof(r), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    rc = vg_api_user_add(a, "admin", pw, VG_API_ROLE_ADMIN, "default");
    vg_api_auth_close(a);
    if (rc == VG_EEXIST) {
        return VG_OK; /* another process bootstrapped at the same moment */
    }
    snprintf(path, sizeof(path), "%s/initial-admin-password", data_dir);
    if (rc == VG_OK) {
        rc = write_secret_file(path, pw);
        FILE *f = out ? out : stderr;
        fprintf(f,
                "vigie: created the first user 'admin' (role admin) with password:\n\n"
                "    %s\n\n"
                "It is shown once; it is also in %s (mode 0600). Change it with\n"
                "`vigie user passwd --data %s admin` and delete that file.\n",
                pw, path, data_dir);
        fflush(f);
        if (created) {
            *created = true;
        }
    }
    sodium_memzero(pw, sizeof(pw));
    return rc;
}
