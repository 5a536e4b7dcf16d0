/*
 * report_impl.h - what the report's renderers share; not part of the
 * public surface (report.h is).
 */
#ifndef DAGDOC_REPORT_IMPL_H
#define DAGDOC_REPORT_IMPL_H

#include <stddef.h>

#include "dagdoc/report.h"

/* "new", or "recurring: in 3 earlier reports since 2026-03-01 02:00". */
void report_history_text(const struct report_cause_mark *m, char *out, size_t len);

/* The source as the report names it: its description, else its kind. */
const char *report_source_label(const struct report_source *s);

/* The report's time (made, from, since) into meta and its counts (dags,
 * failing, recovered, healthy, new and recurring failures) into sum: what
 * report_to_json and the posted JSON share. */
struct cJSON;
void report_json_head(const struct report *r, struct cJSON *meta, struct cJSON *sum);

#endif
