/*
 * server_conf.c — the server's configuration keys: one table drives the YAML file, the
 * VIGIE_* environment overrides, the defaults and `vigie config schema`.
 *
 * The defaults make `vigie server` useful with no file at all: data in ./vigie-data, the
 * API on 127.0.0.1:8470, syslog on 127.0.0.1:5514 (UDP and TCP), the built-in rules. Every
 * listener is on loopback until the admin says otherwise (deny by default).
 */
#include "server/server.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define F(field) offsetof(struct vg_server_conf, field)

static const char *const levels[] = {"all",  "informational", "low", "medium",
                                     "high", "critical",      NULL};

static const struct vg_conf_field table[] = {
    {"data_dir", VG_CONF_STR, F(data_dir), "./vigie-data", 0, -1, false, false, NULL,
     "directory of the journal, the store, auth.db and checkpoints"},
    {"log_level", VG_CONF_STR, F(log_level), "info", 0, -1, false, true, NULL,
     "error, warn, info or debug"},
    {"http.listen", VG_CONF_STR, F(http_listen), "127.0.0.1:8470", 0, -1, false, false, NULL,
     "address of the HTTP API and console (empty: disabled)"},
    {"http.tls_cert", VG_CONF_STR, F(http_tls_cert), "", 0, -1, false, false, NULL,
     "PEM certificate chain: serve HTTPS"},
    {"http.tls_key", VG_CONF_STR, F(http_tls_key), "", 0, -1, true, false, NULL,
     "PEM private key for http.tls_cert"},
    {"http.ingest_wait", VG_CONF_INT, F(http_ingest_wait_s), "30", 0, 3600, false, false, NULL,
     "seconds an ingest request waits for journal space before answering 503"},
    {"syslog.udp", VG_CONF_STRLIST, F(syslog_udp), "127.0.0.1:5514", 0, -1, false, false, NULL,
     "syslog over UDP listeners (host:port)"},
    {"syslog.tcp", VG_CONF_STRLIST, F(syslog_tcp), "127.0.0.1:5514", 0, -1, false, false, NULL,
     "syslog over TCP listeners, LF or octet-counted framing"},
    {"syslog.tls", VG_CONF_STRLIST, F(syslog_tls), "", 0, -1, false, false, NULL,
     "syslog over TLS listeners (RFC 5425); needs syslog.tls_cert and syslog.tls_key"},
    {"syslog.relp", VG_CONF_STRLIST, F(syslog_relp), "", 0, -1, false, false, NULL,
     "RELP listeners: each message acknowledged once durable"},
    {"syslog.tls_cert", VG_CONF_STR, F(tls_cert), "", 0, -1, false, false, NULL,
     "PEM certificate chain for syslog.tls"},
    {"syslog.tls_key", VG_CONF_STR, F(tls_key), "", 0, -1, true, false, NULL,
     "PEM private key for syslog.tls"},
    {"syslog.max_message", VG_CONF_INT, F(max_message), "65536", 1024, 16 << 20, false, false, NULL,
     "longest syslog message in bytes; longer ones are rejected and counted"},
    {"files.paths", VG_CONF_STRLIST, F(files), "", 0, -1, false, false, NULL,
     "glob patterns of log files to tail (rotation, truncation and restarts handled)"},
    {"files.from_beginning", VG_CONF_BOOL, F(files_from_beginning), "true", 0, -1, false, false,
     NULL,
     "read files found at the very first start from their beginning (false: from their "
     "end; files that appear later are always read whole)"},
    {"rules.builtin", VG_CONF_BOOL, F(rules_builtin), "true", 0, -1, false, true, NULL,
     "load Vigie's built-in rules (Linux, network, web)"},
    {"rules.paths", VG_CONF_STRLIST, F(rules_paths), "", 0, -1, false, true, NULL,
     "Sigma rule files or directories (e.g. a SigmaHQ checkout)"},
    {"rules.placeholders", VG_CONF_STR, F(rules_placeholders), "", 0, -1, false, true, NULL,
     "YAML file of values for %placeholders% (the expand modifier)"},
    {"rules.mapping", VG_CONF_STR, F(rules_mapping), "", 0, -1, false, true, NULL,
     "logsource mapping file (default: the built-in one, `vigie mapping`)"},
    {"rules.min_level", VG_CONF_ENUM, F(min_level), "all", 0, -1, false, true, levels,
     "skip rules below this level"},
    {"pipeline.workers", VG_CONF_INT, F(workers), "0", 0, 256, false, false, NULL,
     "decode and detection threads (0: one per CPU)"},
    {"pipeline.batch", VG_CONF_INT, F(batch), "1024", 1, 65536, false, false, NULL,
     "records per batch handed to a worker"},
    {"journal.max_lag_mb", VG_CONF_INT, F(journal_max_lag_mb), "1024", 1, 1 << 20, false, false,
     NULL, "unprocessed journal data before inputs are slowed down (UDP drops, counted)"},
    {"journal.segment_mb", VG_CONF_INT, F(journal_segment_mb), "64", 1, 4096, false, false, NULL,
     "journal segment file size"},
    {"store.retention_days", VG_CONF_INT, F(retention_days), "0", 0, 36500, false, true, NULL,
     "drop event partitions older than this (0: keep)"},
    {"store.max_gb", VG_CONF_INT, F(store_max_gb), "0", 0, 1 << 20, false, true, NULL,
     "drop the oldest partitions while the store is larger (0: no bound)"},
    {"store.index_fields", VG_CONF_STR, F(index_fields), "", 0, -1, false, false, NULL,
     "comma-separated fields indexed for exact search (empty: the default list)"},
    {"triage.enabled", VG_CONF_BOOL, F(triage_enabled), "true", 0, -1, false, false, NULL,
     "triage alerts into incidents (dedup, exceptions, risk) and trigger playbooks"},
    {"playbooks.builtin", VG_CONF_BOOL, F(playbooks_builtin), "true", 0, -1, false, true, NULL,
     "load the playbooks shipped with Vigie (docs/playbooks.md lists them)"},
    {"playbooks.dir", VG_CONF_STR, F(playbooks_dir), "", 0, -1, false, true, NULL,
     "directory of playbook files (*.yml); a file replaces a shipped playbook of the same id"},
    {"playbooks.workers", VG_CONF_INT, F(playbook_workers), "8", 1, 256, false, false, NULL,
     "threads that run playbook actions"},
    {"respond.responders_dir", VG_CONF_STR, F(responders_dir), "", 0, -1, false, false, NULL,
     "directory of the programs exec.responder may run (empty: none may run)"},
    {"respond.contain", VG_CONF_BOOL, F(respond_contain), "true", 0, -1, false, false, NULL,
     "containment actions (nft.block, agent.*) act; false: they only describe what they would "
     "do (--demo sets false)"},
    {"respond.nft_table", VG_CONF_STR, F(nft_table), "vigie", 0, -1, false, false, NULL,
     "Vigie's own nftables table (inet family) for nft.block; no other table is touched"},
    {"notify.smtp_url", VG_CONF_STR, F(smtp_url), "", 0, -1, true, false, NULL,
     "SMTP server for mail.send, e.g. smtp://mail.example.org:587 (may hold credentials)"},
    {"fleet.listen", VG_CONF_STR, F(fleet_listen), "", 0, -1, false, false, NULL,
     "mutual-TLS listener of vigie-agent connections, e.g. 0.0.0.0:8471 (empty: no agents)"},
    {"fleet.endpoint", VG_CONF_STR, F(fleet_endpoint), "", 0, -1, false, false, NULL,
     "host:port agents are told to connect to at enrollment (empty: from fleet.listen)"},
    {"fleet.hostnames", VG_CONF_STRLIST, F(fleet_hostnames), "", 0, -1, false, false, NULL,
     "names and addresses in the listener certificate (agents check them)"},
    {"notify.smtp_from", VG_CONF_STR, F(smtp_from), "vigie@localhost", 0, -1, false, false, NULL,
     "sender address of mail.send"},
    {"intel.enabled", VG_CONF_BOOL, F(intel_enabled), "true", 0, -1, false, false, NULL,
     "match events against the threat intelligence store and serve /api/v1/intel"},
    {"intel.db", VG_CONF_STR, F(intel_db), "", 0, -1, false, false, NULL,
     "indicator store directory, created if missing (empty: <data_dir>/intel)"},
    {"intel.reload", VG_CONF_INT, F(intel_reload_s), "5", 1, 86400, false, false, NULL,
     "seconds between checks of the store's generation (a changed one is loaded and swapped)"},
    {"intel.min_confidence", VG_CONF_INT, F(intel_min_confidence), "0", 0, 100, false, false, NULL,
     "indicator hits whose decayed confidence is below this raise no alert"},
    {"intel.warninglisted", VG_CONF_BOOL, F(intel_warninglisted), "false", 0, -1, false, false,
     NULL, "also alert on indicators a MISP warninglist flagged (false: they never match)"},
    {"intel.taxii", VG_CONF_STRLIST, F(intel_taxii), "", 0, -1, false, false, NULL,
     "TAXII 2.1 collections pulled on schedule, each \"API_ROOT COLLECTION [SOURCE]\""},
    {"intel.taxii_interval", VG_CONF_INT, F(intel_taxii_interval_s), "3600", 60, 7 * 86400, false,
     false, NULL, "seconds between pulls of each TAXII collection"},
    {"intel.taxii_user", VG_CONF_STR, F(intel_taxii_user), "", 0, -1, false, false, NULL,
     "TAXII HTTP basic auth user"},
    {"intel.taxii_password_file", VG_CONF_STR, F(intel_taxii_password_file), "", 0, -1, false,
     false, NULL, "file holding the TAXII password (first line)"},
    {"intel.taxii_token_file", VG_CONF_STR, F(intel_taxii_token_file), "", 0, -1, false, false,
     NULL, "file holding a TAXII bearer token (first line), instead of basic auth"},
    {"intel.taxii_ca", VG_CONF_STR, F(intel_taxii_ca), "", 0, -1, false, false, NULL,
     "CA bundle for https TAXII servers (empty: the system's)"},
    {"vuln.enabled", VG_CONF_BOOL, F(vuln_enabled), "true", 0, -1, false, false, NULL,
     "keep the agents' package inventories, match them against the advisory database and "
     "serve /api/v1/vulns"},
    {"vuln.db", VG_CONF_STR, F(vuln_db), "", 0, -1, false, false, NULL,
     "advisory database directory (`vigie vuln db import --db DIR`; empty: <data_dir>/vuln)"},
    {"vuln.recheck", VG_CONF_INT, F(vuln_recheck_s), "60", 1, 86400, false, false, NULL,
     "seconds between checks for new advisory data (every host is then matched again)"},
    {"vuln.event_severity", VG_CONF_STR, F(vuln_event_severity), "high", 0, -1, false, false, NULL,
     "new findings at least this severe, and every known exploited one, become events of "
     "dataset vulnerability (alerts through rules/builtin/vuln); off: none"},
};

/*
 * The server's keys followed by the triage module's, prefixed "triage." and moved to the
 * triage member: one table, so the file, the environment and `vigie config schema` see
 * every key, and the triage module keeps the declaration of its own.
 */
static struct vg_conf_field merged[VG_ARRAY_LEN(table) + 64];
static char merged_keys[64][64];
static size_t nmerged;
static pthread_once_t merged_once = PTHREAD_ONCE_INIT;

static void merge_tables(void)
{
    size_t nt = 0;
    const struct vg_conf_field *t = vg_triage_conf_table(&nt);
    memcpy(merged, table, sizeof(table));
    nmerged = VG_ARRAY_LEN(table);
    for (size_t i = 0; i < nt && i < VG_ARRAY_LEN(merged_keys); i++) {
        struct vg_conf_field f = t[i];
        snprintf(merged_keys[i], sizeof(merged_keys[i]), "triage.%s", t[i].key);
        f.key = merged_keys[i];
        f.offset += F(triage);
        merged[nmerged++] = f;
    }
}

const struct vg_conf_field *vg_server_conf_table(size_t *n)
{
    pthread_once(&merged_once, merge_tables);
    *n = nmerged;
    return merged;
}

int vg_server_conf_load(const char *path, struct vg_server_conf *c, char *err, size_t errsz)
{
    struct vg_mapped m = {0};
    struct vg_yaml_file *yf = NULL;
    size_t nt = 0;
    const struct vg_conf_field *tab = vg_server_conf_table(&nt);
    memset(c, 0, sizeof(*c));
    int rc = vg_conf_defaults(tab, nt, c, err, errsz);
    if (rc == VG_OK && path) {
        rc = vg_file_map(path, &m);
        if (rc != VG_OK) {
            snprintf(err, errsz, "%s: %s", path, vg_strerror(rc));
        }
    }
    if (rc == VG_OK && path) {
        char perr[256];
        rc = vg_yaml_parse(m.p ? (const char *)m.p : "", m.len, &yf, perr, sizeof(perr));
        if (rc != VG_OK) {
            snprintf(err, errsz, "%s: %s", path, perr);
        } else if (yf->ndocs > 1) {
            snprintf(err, errsz, "%s: one YAML document expected, found %zu", path, yf->ndocs);
            rc = VG_EINVAL;
        }
    }
    if (rc == VG_OK) {
        const struct vg_yaml_node *root = yf && yf->ndocs ? yf->docs[0] : NULL;
        rc = vg_conf_bind(tab, nt, root, path ? path : "environment", c, err, errsz);
    }
    vg_yaml_file_destroy(yf);
    vg_file_unmap(&m);
    if (rc != VG_OK) {
        vg_server_conf_fini(c);
    }
    return rc;
}

void vg_server_conf_fini(struct vg_server_conf *c)
{
    size_t nt = 0;
    const struct vg_conf_field *tab = vg_server_conf_table(&nt);
    vg_conf_release(tab, nt, c);
}
