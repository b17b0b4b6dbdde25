/*
 * agent_proc_scan.c — sets of pids and /proc scans for the process collector: the
 * proc_poll backend diffs successive scans, and the proc_connector backend rescans after
 * the kernel dropped events (ENOBUFS) to report what it missed.
 *
 * A set is a sorted array of tgids (/proc lists processes, not threads): lookup is a binary
 * search, insert/delete a memmove — a few thousand pids cost microseconds.
 */
#include "agent/agent_proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vg_agent_proc_pidset_fini(struct vg_agent_proc_pidset *s)
{
    vg_free(s->v);
    *s = (struct vg_agent_proc_pidset){0};
}

/* Index of the first element >= pid. */
static size_t pidset_lower(const struct vg_agent_proc_pidset *s, int32_t pid)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < pid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

bool vg_agent_proc_pidset_has(const struct vg_agent_proc_pidset *s, int32_t pid)
{
    size_t i = pidset_lower(s, pid);
    return i < s->n && s->v[i] == pid;
}

int vg_agent_proc_pidset_add(struct vg_agent_proc_pidset *s, int32_t pid)
{
    size_t i = pidset_lower(s, pid);
    if (i < s->n && s->v[i] == pid) {
        return VG_OK;
    }
    if (vg_grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v)) != VG_OK) {
        return VG_ENOMEM;
    }
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
    s->v[i] = pid;
    s->n++;
    return VG_OK;
}

void vg_agent_proc_pidset_del(struct vg_agent_proc_pidset *s, int32_t pid)
{
    size_t i = pidset_lower(s, pid);
    if (i < s->n && s->v[i] == pid) {
        memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
        s->n--;
    }
}

static int cmp_pid(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int vg_agent_proc_pidset_scan(struct vg_agent_proc_pidset *out)
{
    DIR *d = opendir("/proc");
    if (!d) {
        return VG_EIO;
    }
    out->n = 0;
    struct dirent *e;
    int rc = VG_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') {
            continue;
        }
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid > INT32_MAX) {
            continue;
        }
        if (vg_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v)) != VG_OK) {
            rc = VG_ENOMEM;
            break;
        }
        out->v[out->n++] = (int32_t)pid;
    }
    closedir(d);
    qsort(out->v, out->n, sizeof(*out->v), cmp_pid);
    return rc;
}

static void sync_emit(struct vg_agent_proc *p, enum vg_agent_proc_kind kind, int32_t pid,
                      bool resync)
{
    struct vg_agent_proc_obs o = {.kind = kind,
                                  .pid = pid,
                                  .ppid = -1,
                                  .uid = -1,
                                  .gid = -1,
                                  .wstatus = -1,
                                  .ts = vg_time_now(),
                                  .start = VG_TIME_NONE,
                                  .resync = resync};
    vg_agent_proc_observe(p, &o);
}

int vg_agent_proc_pidset_sync(struct vg_agent_proc *p, struct vg_agent_proc_pidset *known,
                              bool resync)
{
    struct vg_agent_proc_pidset now = {0};
    int rc = vg_agent_proc_pidset_scan(&now);
    if (rc != VG_OK) {
        vg_agent_proc_pidset_fini(&now);
        return rc;
    }
    /* merge walk over two sorted arrays: only in now → new, only in known → gone */
    size_t i = 0, j = 0;
    while (i < now.n || j < known->n) {
        if (j >= known->n || (i < now.n && now.v[i] < known->v[j])) {
            sync_emit(p, VG_AGENT_PROC_EXEC, now.v[i++], resync);
        } else if (i >= now.n || known->v[j] < now.v[i]) {
            sync_emit(p, VG_AGENT_PROC_EXIT, known->v[j++], resync);
        } else {
            i++;
            j++;
        }
    }
    vg_agent_proc_pidset_fini(known);
    *known = now;
    return VG_OK;
}
