/*
 * sensor_pcap.c — pcap and pcapng file reader for vigie-sensor (see sensor_pkt.h).
 *
 * Written here rather than through libpcap so that it reads a memory buffer (fuzzable, no copy:
 * a file is mmap'ed and frames point into the mapping) and so that every length in the file is
 * checked against the bytes left before use. Classic pcap: both byte orders, micro- and
 * nanosecond magics. pcapng: SHB (either byte order, several sections), IDB (link type,
 * if_tsresol, if_tsoffset), EPB, SPB; other blocks are skipped by their length.
 */
#include "sensor_pkt.h"

#include "core/core.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define NG_SHB        0x0a0d0d0au
#define NG_IDB        0x00000001u
#define NG_SPB        0x00000003u
#define NG_EPB        0x00000006u
#define NG_BOM        0x1a2b3c4du

struct ng_iface {
    uint32_t linktype;
    uint32_t snaplen;
    uint64_t units; /* timestamp units per second */
    int exp;        /* exponent of units; negative for base 2 (-exp) */
    int64_t offset; /* if_tsoffset, seconds */
};

struct vg_sensor_pcap {
    const uint8_t *data;
    size_t len;
    size_t pos;
    void *map; /* mmap'ed file (owned) or NULL */
    size_t map_len;
    size_t released; /* pages of the mapping before this offset were given back */
    enum vg_sensor_pcap_format format;
    bool swap; /* file byte order differs from little-endian reading */
    bool nano; /* classic: nanosecond timestamps */
    uint32_t linktype;
    int status; /* sticky error */
    uint32_t nifaces;
    struct ng_iface ifaces[VG_SENSOR_PCAP_MAX_IFACES];
    char err[192];
};

/* Reads a 16/32-bit value at p in the file's byte order. */
static uint32_t rd32(const struct vg_sensor_pcap *r, const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct vg_sensor_pcap *r, const uint8_t *p)
{
    uint16_t v = (uint16_t)(p[0] | p[1] << 8);
    return r->swap ? __builtin_bswap16(v) : v;
}

/* Records a sticky error with the file offset; returns code. */
__attribute__((format(printf, 4, 5))) static int fail(struct vg_sensor_pcap *r, int code,
                                                      size_t off, const char *fmt, ...)
{
    int n = snprintf(r->err, sizeof r->err,
                     "%s at offset %zu: ", r->format == VG_SENSOR_PCAP_NG ? "pcapng" : "pcap", off);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof r->err) {
        vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
    }
    va_end(ap);
    r->status = code;
    return code;
}

/* Sets the tick rate from an exponent: 10^exp, or 2^-exp for a negative exp. */
static int set_units(struct ng_iface *ifc, int exp)
{
    if (exp > 19 || exp < -63) {
        return VG_EUNSUPPORTED;
    }
    ifc->exp = exp;
    ifc->units = 1;
    for (int i = 0; i < (exp < 0 ? -exp : exp); i++) {
        ifc->units *= exp < 0 ? 2u : 10u;
    }
    return 0;
}

/* Converts ticks at the interface rate to nanoseconds (exact for rates up to 1 GHz). */
static uint64_t ticks_to_ns(const struct ng_iface *ifc, uint64_t ticks)
{
    uint64_t sec = ticks / ifc->units, frac = ticks % ifc->units, ns;
    if (ifc->exp >= 0) {
        ns = ifc->exp <= 9 ? frac * (1000000000u / ifc->units) : frac / (ifc->units / 1000000000u);
    } else if (-ifc->exp <= 30) {
        ns = (frac * 1000000000u) >> -ifc->exp;
    } else {
        ns = ((frac >> (-ifc->exp - 30)) * 1000000000u) >> 30;
    }
    /* unsigned: a hostile if_tsoffset wraps instead of overflowing */
    return (sec + (uint64_t)ifc->offset) * 1000000000u + ns;
}

/* ------------------------------------------------------------------ classic pcap */

static int classic_open(struct vg_sensor_pcap *r)
{
    if (r->len < 24) {
        return fail(r, VG_ETRUNC, 0, "file header needs 24 bytes, file has %zu", r->len);
    }
    uint16_t major = rd16(r, r->data + 4);
    if (major != 2) {
        return fail(r, VG_EUNSUPPORTED, 4, "version %u is not 2", major);
    }
    r->linktype = rd32(r, r->data + 20) & 0x0fffffffu; /* upper bits: FCS length */
    r->pos = 24;
    return 0;
}

static int classic_next(struct vg_sensor_pcap *r, struct vg_sensor_frame *f)
{
    size_t off = r->pos, left = r->len - r->pos;
    if (left == 0) {
        return VG_EOF;
    }
    if (left < 16) {
        return fail(r, VG_ETRUNC, off, "record header needs 16 bytes, %zu left", left);
    }
    const uint8_t *h = r->data + off;
    uint32_t caplen = rd32(r, h + 8);
    if (caplen > VG_SENSOR_PCAP_MAX_CAPLEN) {
        return fail(r, VG_ELIMIT, off, "captured length %u above the %u bound", caplen,
                    VG_SENSOR_PCAP_MAX_CAPLEN);
    }
    if (caplen > left - 16) {
        return fail(r, VG_ETRUNC, off, "captured length %u but %zu bytes left", caplen, left - 16);
    }
    uint64_t sec = rd32(r, h), frac = rd32(r, h + 4);
    f->ts_ns = sec * 1000000000u + (r->nano ? frac : frac * 1000u);
    f->caplen = caplen;
    f->origlen = rd32(r, h + 12);
    f->data = h + 16;
    f->linktype = r->linktype;
    f->ifindex = 0;
    f->offset = off;
    r->pos = off + 16 + caplen;
    return 0;
}

/* ------------------------------------------------------------------ pcapng */

/* Walks the IDB options (if_tsresol 9, if_tsoffset 14). */
static int idb_options(struct vg_sensor_pcap *r, struct ng_iface *ifc, const uint8_t *p, size_t n,
                       size_t off)
{
    while (n >= 4) {
        uint16_t code = rd16(r, p), olen = rd16(r, p + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        if (code == 0) {
            break;
        }
        if (padded > n - 4) {
            return fail(r, VG_EINVAL, off, "interface option %u length %u overruns the block", code,
                        olen);
        }
        if (code == 9 && olen >= 1) {
            int v = p[4] & 0x7f;
            if (set_units(ifc, (p[4] & 0x80) ? -v : v) != 0) {
                return fail(r, VG_EUNSUPPORTED, off, "if_tsresol 0x%02x not supported", p[4]);
            }
        } else if (code == 14 && olen == 8) {
            uint64_t lo = rd32(r, p + 4), hi = rd32(r, p + 8);
            ifc->offset = (int64_t)(r->swap ? (lo << 32 | hi) : (hi << 32 | lo));
        }
        p += 4 + padded;
        n -= 4 + padded;
    }
    return 0;
}

static int ng_idb(struct vg_sensor_pcap *r, const uint8_t *body, size_t n, size_t off)
{
    if (n < 8) {
        return fail(r, VG_EINVAL, off, "interface block body of %zu bytes (needs 8)", n);
    }
    if (r->nifaces >= VG_SENSOR_PCAP_MAX_IFACES) {
        return fail(r, VG_ELIMIT, off, "more than %d interfaces", VG_SENSOR_PCAP_MAX_IFACES);
    }
    struct ng_iface *ifc = &r->ifaces[r->nifaces];
    memset(ifc, 0, sizeof *ifc);
    ifc->linktype = rd16(r, body);
    ifc->snaplen = rd32(r, body + 4);
    set_units(ifc, 6);
    int rc = idb_options(r, ifc, body + 8, n - 8, off);
    if (rc == 0 && r->nifaces++ == 0) {
        r->linktype = ifc->linktype;
    }
    return rc;
}

/* Reads an SHB: byte order from its magic; resets the interfaces of the section. */
static int ng_shb(struct vg_sensor_pcap *r, size_t off)
{
    const uint8_t *b = r->data + off;
    if (r->len - off < 28) {
        return fail(r, VG_ETRUNC, off, "section header needs 28 bytes, %zu left", r->len - off);
    }
    uint32_t bom =
        (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
    if (bom != NG_BOM && bom != __builtin_bswap32(NG_BOM)) {
        return fail(r, VG_EINVAL, off + 8, "byte-order magic 0x%08x is not 0x1a2b3c4d", bom);
    }
    r->swap = bom != NG_BOM;
    if (rd16(r, b + 12) != 1) {
        return fail(r, VG_EUNSUPPORTED, off + 12, "major version %u is not 1", rd16(r, b + 12));
    }
    r->nifaces = 0;
    return 0;
}

static const struct ng_iface *ng_iface_get(struct vg_sensor_pcap *r, uint32_t id, size_t off)
{
    if (id >= r->nifaces) {
        fail(r, VG_EINVAL, off, "packet on interface %u but %u interfaces described", id,
             r->nifaces);
        return NULL;
    }
    return &r->ifaces[id];
}

static int ng_epb(struct vg_sensor_pcap *r, const uint8_t *body, size_t n, size_t off,
                  struct vg_sensor_frame *f)
{
    if (n < 20) {
        return fail(r, VG_EINVAL, off, "enhanced packet block body of %zu bytes (needs 20)", n);
    }
    uint32_t id = rd32(r, body), caplen = rd32(r, body + 12);
    const struct ng_iface *ifc = ng_iface_get(r, id, off);
    if (!ifc) {
        return r->status;
    }
    if (caplen > VG_SENSOR_PCAP_MAX_CAPLEN || caplen > n - 20) {
        return fail(r, caplen > n - 20 ? VG_EINVAL : VG_ELIMIT, off,
                    "captured length %u does not fit the %zu-byte block body", caplen, n);
    }
    uint64_t ticks = (uint64_t)rd32(r, body + 4) << 32 | rd32(r, body + 8);
    f->ts_ns = ticks_to_ns(ifc, ticks);
    f->caplen = caplen;
    f->origlen = rd32(r, body + 16);
    f->data = body + 20;
    f->linktype = ifc->linktype;
    f->ifindex = id;
    f->offset = off;
    return 0;
}

static int ng_spb(struct vg_sensor_pcap *r, const uint8_t *body, size_t n, size_t off,
                  struct vg_sensor_frame *f)
{
    if (n < 4) {
        return fail(r, VG_EINVAL, off, "simple packet block body of %zu bytes (needs 4)", n);
    }
    const struct ng_iface *ifc = ng_iface_get(r, 0, off);
    if (!ifc) {
        return r->status;
    }
    uint32_t origlen = rd32(r, body);
    size_t cap = origlen < n - 4 ? origlen : n - 4;
    if (ifc->snaplen && cap > ifc->snaplen) {
        cap = ifc->snaplen;
    }
    if (cap > VG_SENSOR_PCAP_MAX_CAPLEN) {
        return fail(r, VG_ELIMIT, off, "simple packet of %zu bytes above the bound", cap);
    }
    f->ts_ns = 0; /* SPBs carry no timestamp */
    f->caplen = (uint32_t)cap;
    f->origlen = origlen;
    f->data = body + 4;
    f->linktype = ifc->linktype;
    f->ifindex = 0;
    f->offset = off;
    return 0;
}

/* Checks the framing of the block at off; sets *type and *total. */
static int ng_block(struct vg_sensor_pcap *r, size_t off, uint32_t *type, uint32_t *total)
{
    size_t left = r->len - off;
    if (left < 12) {
        return fail(r, VG_ETRUNC, off, "block header needs 12 bytes, %zu left", left);
    }
    *type = rd32(r, r->data + off);
    if (*type == NG_SHB && ng_shb(r, off) != 0) {
        return r->status;
    }
    *total = rd32(r, r->data + off + 4);
    if (*total < 12 || (*total & 3) != 0) {
        return fail(r, VG_EINVAL, off, "block length %u (needs a multiple of 4, >= 12)", *total);
    }
    if (*total > left) {
        return fail(r, VG_ETRUNC, off, "block length %u but %zu bytes left", *total, left);
    }
    if (rd32(r, r->data + off + *total - 4) != *total) {
        return fail(r, VG_EINVAL, off, "trailing block length differs from %u", *total);
    }
    return 0;
}

static int ng_next(struct vg_sensor_pcap *r, struct vg_sensor_frame *f)
{
    while (r->pos < r->len) {
        size_t off = r->pos;
        uint32_t type = 0, total = 0;
        if (ng_block(r, off, &type, &total) != 0) {
            return r->status;
        }
        const uint8_t *body = r->data + off + 8;
        size_t n = total - 12;
        r->pos = off + total;
        int rc = 0;
        if (type == NG_IDB) {
            rc = ng_idb(r, body, n, off);
        } else if (type == NG_EPB || type == NG_SPB) {
            rc = type == NG_EPB ? ng_epb(r, body, n, off, f) : ng_spb(r, body, n, off, f);
            if (rc == 0) {
                return 0;
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return VG_EOF;
}

/* ------------------------------------------------------------------ public */

static int detect(struct vg_sensor_pcap *r)
{
    if (r->len < 4) {
        return VG_DECLINED;
    }
    uint32_t m = (uint32_t)r->data[0] | (uint32_t)r->data[1] << 8 | (uint32_t)r->data[2] << 16 |
                 (uint32_t)r->data[3] << 24;
    if (m == NG_SHB) {
        r->format = VG_SENSOR_PCAP_NG;
        return 0;
    }
    r->format = VG_SENSOR_PCAP_CLASSIC;
    for (int s = 0; s < 2; s++) {
        uint32_t v = s ? __builtin_bswap32(m) : m;
        if (v == PCAP_MAGIC_US || v == PCAP_MAGIC_NS) {
            r->swap = s != 0;
            r->nano = v == PCAP_MAGIC_NS;
            return classic_open(r);
        }
    }
    return VG_DECLINED;
}

int vg_sensor_pcap_open_mem(struct vg_sensor_pcap **out, const uint8_t *data, size_t len, char *err,
                            size_t errlen)
{
    *out = NULL;
    struct vg_sensor_pcap *r = vg_calloc(1, sizeof *r);
    if (!r) {
        return VG_ENOMEM;
    }
    r->data = data;
    r->len = data ? len : 0;
    int rc = detect(r);
    if (rc == VG_DECLINED) {
        snprintf(r->err, sizeof r->err, "not a pcap or pcapng file (bad magic at offset 0)");
    }
    if (rc != 0) {
        if (err && errlen) {
            snprintf(err, errlen, "%s", r->err);
        }
        vg_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Writes "path: what" into the caller's optional error buffer. */
static void set_err(char *err, size_t errlen, const char *path, const char *what)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s: %s", path, what);
    }
}

int vg_sensor_pcap_open_file(struct vg_sensor_pcap **out, const char *path, char *err,
                             size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        set_err(err, errlen, path, "cannot open");
        if (fd >= 0) {
            close(fd);
        }
        return VG_EIO;
    }
    size_t len = (size_t)st.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len == 0 || map == MAP_FAILED) {
        set_err(err, errlen, path, len ? "cannot map" : "empty file");
        return len ? VG_EIO : VG_ETRUNC;
    }
    madvise(map, len, MADV_SEQUENTIAL);
    int rc = vg_sensor_pcap_open_mem(out, map, len, err, errlen);
    if (rc != 0) {
        munmap(map, len);
        return rc;
    }
    (*out)->map = map;
    (*out)->map_len = len;
    return 0;
}

/*
 * A capture is read once, front to back: the pages behind the reader are given back to the
 * kernel every RELEASE_STEP bytes (keeping RELEASE_KEEP behind, far more than any frame),
 * so reading a 10 GB file does not grow the resident set by 10 GB.
 */
#define RELEASE_STEP (64u << 20)
#define RELEASE_KEEP (4u << 20)

static void release_behind(struct vg_sensor_pcap *r)
{
    size_t page = 4096;
    size_t end = (r->pos - RELEASE_KEEP) & ~(page - 1);
    if (end > r->released) {
        madvise((uint8_t *)r->map + r->released, end - r->released, MADV_DONTNEED);
        r->released = end;
    }
}

int vg_sensor_pcap_next(struct vg_sensor_pcap *r, struct vg_sensor_frame *frame)
{
    if (r->status != 0) {
        return r->status;
    }
    if (r->map && r->pos - r->released >= RELEASE_STEP + RELEASE_KEEP) {
        release_behind(r);
    }
    return r->format == VG_SENSOR_PCAP_NG ? ng_next(r, frame) : classic_next(r, frame);
}

const char *vg_sensor_pcap_error(const struct vg_sensor_pcap *r)
{
    return r->err;
}

enum vg_sensor_pcap_format vg_sensor_pcap_format(const struct vg_sensor_pcap *r)
{
    return r->format;
}

uint32_t vg_sensor_pcap_linktype(const struct vg_sensor_pcap *r)
{
    return r->linktype;
}

void vg_sensor_pcap_destroy(struct vg_sensor_pcap *r)
{
    if (!r) {
        return;
    }
    if (r->map) {
        munmap(r->map, r->map_len);
    }
    vg_free(r);
}
