/*
 * decode_evtx_int.h — internals of the EVTX reader (decode_evtx.c) shared with its unit tests
 * and fuzz target: on-disk layout constants, work bounds, BinXML value types, and the value
 * renderer and checksum, exported so the tests can pin Windows' text formats byte for byte.
 *
 * Nothing here is a stable interface; use decode.h.
 */
#ifndef VG_DECODE_EVTX_INT_H
#define VG_DECODE_EVTX_INT_H

#include "decode/decode.h"

/* ---------------------------------------------------------------- on-disk layout */

#define VG_EVTX_FILE_HEADER_SIZE  4096u  /* "ElfFile\0" header block; chunks follow */
#define VG_EVTX_CHUNK_SIZE        65536u /* "ElfChnk\0" chunks, fixed size */
#define VG_EVTX_CHUNK_HEADER_SIZE 512u   /* header + string table + template table */
#define VG_EVTX_RECORD_HEADER     24u    /* magic, size, record id, FILETIME written */
#define VG_EVTX_RECORD_MIN        28u    /* header + trailing copy of the size */

/* ---------------------------------------------------------------- work bounds */

/*
 * A hostile file can reference one template many times from nested BinXML values, so the
 * work per record grows multiplicatively with nesting; these bounds keep every record to a
 * few milliseconds and a few MiB whatever the input. Real records stay far below them
 * (nesting 2, a few hundred operations, a few dozen fields).
 */
#define VG_EVTX_MAX_NEST   8u         /* templates within values within templates */
#define VG_EVTX_MAX_DEPTH  64u        /* element nesting within one record */
#define VG_EVTX_MAX_WORK   (1u << 20) /* tokens compiled + operations evaluated per record */
#define VG_EVTX_MAX_FIELDS 1024u      /* fields per record; vg_event_add is O(n) per repeat */
#define VG_EVTX_MAX_OUT    (8u << 20) /* bytes of rendered text per record */

/* ---------------------------------------------------------------- BinXML value types */

enum vg_evtx_vtype {
    VG_EVTX_T_NULL = 0x00,
    VG_EVTX_T_STRING = 0x01, /* UTF-16LE */
    VG_EVTX_T_ANSI = 0x02,   /* single-byte code page, rendered as Latin-1 */
    VG_EVTX_T_INT8 = 0x03,
    VG_EVTX_T_UINT8 = 0x04,
    VG_EVTX_T_INT16 = 0x05,
    VG_EVTX_T_UINT16 = 0x06,
    VG_EVTX_T_INT32 = 0x07,
    VG_EVTX_T_UINT32 = 0x08,
    VG_EVTX_T_INT64 = 0x09,
    VG_EVTX_T_UINT64 = 0x0a,
    VG_EVTX_T_REAL32 = 0x0b,
    VG_EVTX_T_REAL64 = 0x0c,
    VG_EVTX_T_BOOL = 0x0d, /* 32-bit */
    VG_EVTX_T_BINARY = 0x0e,
    VG_EVTX_T_GUID = 0x0f,
    VG_EVTX_T_SIZET = 0x10,
    VG_EVTX_T_FILETIME = 0x11,
    VG_EVTX_T_SYSTEMTIME = 0x12,
    VG_EVTX_T_SID = 0x13,
    VG_EVTX_T_HEX32 = 0x14,
    VG_EVTX_T_HEX64 = 0x15,
    VG_EVTX_T_BINXML = 0x21,
    VG_EVTX_T_ARRAY = 0x80, /* flag: array of the base type */
};

/* A typed value: bytes borrowed from the chunk. */
struct vg_evtx_value {
    const uint8_t *p;
    uint32_t size;
    uint8_t type;
};

/*
 * Append the Windows rendering of one scalar value (type without the array flag) to out:
 * decimal integers, 0x-prefixed unpadded lower-case hex for HexInt32/64 and SizeT,
 * {lower-case GUID}, S-1-... SIDs, 2025-12-10T04:33:20.5627820Z times, upper-case hex
 * binary, shortest round-trip %g form for reals, true/false, UTF-16/ANSI text without
 * trailing NULs. Returns VG_OK, or VG_EINVAL when the bytes cannot hold the type (nothing is
 * appended then). Thread-safe.
 */
int vg_evtx_render(struct vg_sbuf *out, uint8_t type, const uint8_t *p, size_t n);

/* UTF-16LE → UTF-8: exact output length of n code units, and the conversion itself
 * (dst must hold that many bytes; lone surrogates become U+FFFD). */
size_t vg_evtx_utf16_len(const uint8_t *p, size_t n);
size_t vg_evtx_utf16_conv(char *dst, const uint8_t *p, size_t n);

/* CRC-32 (IEEE 802.3, as the EVTX checksums use); pass 0 to start. Thread-safe. */
uint32_t vg_evtx_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Checksum failures seen so far (chunk header or record area), counted in bad_chunks too. */
uint64_t vg_evtx_crc_errors(const struct vg_evtx *r);

#endif /* VG_DECODE_EVTX_INT_H */
