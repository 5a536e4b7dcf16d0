/*
 * runbook.h - what an on-call engineer needs on a pager or in chat, in
 * under 25 lines: for a DAG, its state, the top cause with its
 * confidence, the failing task and run with a link into the
 * orchestrator's UI, the checks in order and the fix; for a pattern of
 * the library, its category, checks and fix (placeholders as {name}).
 * `dagdoc runbook` prints them.
 *
 * Ownership: both only read what they are given.
 */
#ifndef DAGDOC_RUNBOOK_H
#define DAGDOC_RUNBOOK_H

#include <stdio.h>

#include "dagdoc/pattern.h"
#include "dagdoc/triage.h"

void runbook_render_dag(const struct triage_result *t, FILE *out);
void runbook_render_pattern(const struct pat_pattern *p, FILE *out);

#endif
