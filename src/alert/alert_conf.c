/*
 * alert_conf.c — the triage configuration table (the server binds it to its `triage:`
 * section) and the defaults: Splunk RBA-like thresholds (risk 100 in 24 h, or 3 ATT&CK
 * tactics in 7 days), a 1 h dedup window, base risk by level 0/5/20/40/80.
 */
#include "alert/alert.h"

#include <stddef.h>
#include <string.h>

#define F(field) offsetof(struct vg_triage_opts, field)

static const struct vg_conf_field table[] = {
    {"dedup_window", VG_CONF_DURATION, F(dedup_window), "1h", 1000000000LL,
     3650LL * 86400000000000LL, false, true, NULL,
     "an alert with the fingerprint of one seen this recently is a duplicate"},
    {"rule_dedup", VG_CONF_STRLIST, F(rule_dedup), "", 0, -1, false, true, NULL,
     "per-rule dedup windows, RULE_ID=DURATION (e.g. ssh-brute=15m)"},
    {"risk_window", VG_CONF_DURATION, F(risk_window), "24h", 60000000000LL,
     365LL * 86400000000000LL, false, true, NULL,
     "an entity's risk is the sum of its contributions in this window"},
    {"tactic_window", VG_CONF_DURATION, F(tactic_window), "7d", 60000000000LL,
     365LL * 86400000000000LL, false, true, NULL, "distinct ATT&CK tactics are counted over this"},
    {"group_window", VG_CONF_DURATION, F(group_window), "24h", 60000000000LL,
     365LL * 86400000000000LL, false, true, NULL,
     "alerts join an open incident sharing an entity whose last alert is this recent"},
    {"risk_threshold", VG_CONF_INT, F(risk_threshold), "100", 1, 1000000, false, true, NULL,
     "windowed entity risk that opens an incident"},
    {"tactic_threshold", VG_CONF_INT, F(tactic_threshold), "3", 0, 14, false, true, NULL,
     "distinct tactics of one entity that open an incident (0: off)"},
    {"risk.informational", VG_CONF_INT, F(risk_info), "0", 0, 10000, false, true, NULL,
     "base risk of an informational alert"},
    {"risk.low", VG_CONF_INT, F(risk_low), "5", 0, 10000, false, true, NULL,
     "base risk of a low alert"},
    {"risk.medium", VG_CONF_INT, F(risk_medium), "20", 0, 10000, false, true, NULL,
     "base risk of a medium alert"},
    {"risk.high", VG_CONF_INT, F(risk_high), "40", 0, 10000, false, true, NULL,
     "base risk of a high alert"},
    {"risk.critical", VG_CONF_INT, F(risk_critical), "80", 0, 10000, false, true, NULL,
     "base risk of a critical alert"},
    {"tactic_bonus", VG_CONF_INT, F(tactic_bonus), "10", 0, 10000, false, true, NULL,
     "risk added per ATT&CK tactic new to the entity within the tactic window"},
    {"criticality", VG_CONF_STRLIST, F(criticality), "", 0, -1, false, true, NULL,
     "asset criticality multipliers TYPE:GLOB=FACTOR (host:db-*=2, user:admin*=1.5, "
     "*:10.0.0.*=1.2)"},
    {"batch", VG_CONF_INT, F(batch), "1000", 1, 100000, false, false, NULL,
     "alerts the consumer triages per transaction"},
    {"poll_ms", VG_CONF_INT, F(poll_ms), "200", 10, 60000, false, false, NULL,
     "consumer poll period when not notified"},
    {"retry_ms", VG_CONF_INT, F(retry_ms), "1000", 10, 600000, false, false, NULL,
     "wait before retrying a batch a hook refused"},
    {"backtest_days", VG_CONF_INT, F(backtest_days), "30", 1, 3650, false, true, NULL,
     "default period of an exception backtest"},
};

const struct vg_conf_field *vg_triage_conf_table(size_t *n)
{
    *n = VG_ARRAY_LEN(table);
    return table;
}

int vg_triage_opts_init(struct vg_triage_opts *o)
{
    char err[256];
    memset(o, 0, sizeof(*o));
    return vg_conf_defaults(table, VG_ARRAY_LEN(table), o, err, sizeof(err));
}

void vg_triage_opts_fini(struct vg_triage_opts *o)
{
    vg_conf_release(table, VG_ARRAY_LEN(table), o);
}
