/*
 * jsonout.h - the few shapes every JSON output of dagdoc shares (classify,
 * triage, report): strings or null, times as ISO 8601 UTC or null, string
 * lists, rounded scores.  Built with cJSON; the items belong to the object
 * they are added to.
 */
#ifndef DAGDOC_JSONOUT_H
#define DAGDOC_JSONOUT_H

#include <stdint.h>

#include <cJSON.h>

#include "dagdoc/util.h"

void jsonout_str(cJSON *o, const char *key, const char *v);      /* null when v is NULL */
void jsonout_time(cJSON *o, const char *key, int64_t ms);        /* "2026-03-04T02:00:00Z", null when 0 */
cJSON *jsonout_strv(const struct dd_strv *sv);                    /* a new array */
double jsonout_round3(double v);                                  /* 0.912345 -> 0.912 */

/* The version of the JSON contract (schemas/{classify,triage,report}.schema.json):
 * keys may be added within a version; a key removed, renamed or given another
 * type raises it.  jsonout_schema_version adds "schema_version" to the top
 * object of an output. */
#define JSONOUT_SCHEMA_VERSION 1
void jsonout_schema_version(cJSON *o);

#endif
