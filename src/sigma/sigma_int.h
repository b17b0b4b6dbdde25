/*
 * sigma_int.h — internals shared by the sigma module's files (not for other modules).
 */
#ifndef VG_SIGMA_INT_H
#define VG_SIGMA_INT_H

#include "sigma/sigma.h"

/* Intermediate Sigma string during modifier processing: literal bytes and wildcards. */
enum sstr_kind {
    SP_LIT = VG_SPART_LIT,
    SP_STAR = VG_SPART_STAR,
    SP_ONE = VG_SPART_ONE,
    SP_PH, /* %placeholder% (expand) */
};
struct spart {
    uint8_t kind;
    uint32_t n;
    char *s;
};
struct sstr {
    uint32_t n;
    struct spart *p;
};
struct slist {
    uint32_t n;
    uint32_t cap;
    struct sstr *v;
};

/* Per-document compile context. */
struct sctx {
    struct vg_arena *arena; /* owns the compiled rule (the set's arena) */
    struct vg_arena *tmp;   /* scratch, reset per document */
    const struct vg_sigma_placeholders *ph;
    struct vg_sigma_set *set;
    uint32_t nvalues; /* values compiled in the current detection */
    struct vg_sigma_rule *rule;
    struct vg_sigma_detection *det;
    const char *path;
    char err[512];
    uint32_t err_line;
    int status; /* enum vg_sigma_status of the first problem */
    /* growable lists in tmp until the end of the document */
    const char **warn;
    uint32_t nwarn;
    size_t capwarn;
    const char **missing_ph;
    uint32_t nmissing;
    size_t capmissing;
    const char **slots;
    uint32_t nslots;
    size_t capslots;
};

int sctx_fail(struct sctx *c, int status, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sctx_warn(struct sctx *c, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint32_t sctx_slot(struct sctx *c, const char *field);

/* sigma_value.c */
int sigma_compile_item(struct sctx *c, const struct vg_yaml_node *key,
                       const struct vg_yaml_node *val, struct vg_sigma_item *out);
int sigma_compile_keywords(struct sctx *c, const struct vg_yaml_node *list,
                           struct vg_sigma_item *out);

/* sigma_placeholder.c */
/* Values of a placeholder (NULL if undefined). */
const struct slist *sigma_placeholder_get(const struct vg_sigma_placeholders *p, const char *name,
                                          size_t n);
int slist_push(struct vg_arena *a, struct slist *l, const struct sstr *s);
int sstr_parse_plain(struct vg_arena *a, const char *s, size_t n, bool expand, struct sstr *out);

#endif
