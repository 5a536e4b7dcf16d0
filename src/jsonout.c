/*
 * jsonout.c - shared JSON output shapes.  See include/dagdoc/jsonout.h.
 */
#include "dagdoc/util.h"

#include "dagdoc/jsonout.h"

void jsonout_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

void jsonout_time(cJSON *o, const char *key, int64_t ms)
{
	char iso[40];

	if (!ms) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	dd_format_time(ms, 0, iso, sizeof(iso));
	cJSON_AddStringToObject(o, key, iso);
}

cJSON *jsonout_strv(const struct dd_strv *sv)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

double jsonout_round3(double v)
{
	return (double)(int64_t)(v * 1000.0 + (v >= 0 ? 0.5 : -0.5)) / 1000.0;
}

void jsonout_schema_version(cJSON *o)
{
	cJSON_AddNumberToObject(o, "schema_version", JSONOUT_SCHEMA_VERSION);
}
