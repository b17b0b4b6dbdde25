/*
 * core_status.c — text for the project-wide status codes (see enum vg_status).
 */
#include "core/core.h"

const char *vg_strerror(int status)
{
    switch (status) {
    case VG_OK:
        return "success";
    case VG_ERROR:
        return "error";
    case VG_ENOMEM:
        return "out of memory";
    case VG_EINVAL:
        return "invalid input";
    case VG_EIO:
        return "input/output error";
    case VG_ENOENT:
        return "not found";
    case VG_AGAIN:
        return "more input needed";
    case VG_DECLINED:
        return "declined (not this format)";
    case VG_ETRUNC:
        return "truncated input";
    case VG_ELIMIT:
        return "limit exceeded";
    case VG_EUNSUPPORTED:
        return "unsupported";
    case VG_EEXIST:
        return "already exists";
    case VG_EOF:
        return "end of input";
    case VG_ENOSPC:
        return "no space left on device";
    case VG_ETIMEOUT:
        return "timed out";
    case VG_EDENIED:
        return "denied";
    default:
        return "unknown status";
    }
}
