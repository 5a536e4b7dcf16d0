/*
 * failure.c - a classified failure's forms (classify.h): release, entity
 * lookup, the public JSON, the text of `dagdoc classify` and the
 * classification cache's form.
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>

#include "dagdoc/classify.h"
#include "dagdoc/jsonout.h"
#include "dagdoc/redact.h"
#include "dagdoc/render.h"

#include "classify_impl.h"

void failure_set_entity(struct dd_failure *f, const char *name, const char *value)
{
	for (size_t i = 0; i < f->n_entities; i++)
		if (!strcmp(f->entities[i].name, name))
			return;   /* first one wins */
	f->entities = dd_xrealloc(f->entities, (f->n_entities + 1) * sizeof(*f->entities));
	struct dd_buf b = DD_BUF_INIT;
	redact_append(&b, value, strlen(value));
	f->entities[f->n_entities].name = dd_xstrdup(name);
	f->entities[f->n_entities].value = dd_buf_detach(&b);
	f->n_entities++;
}

const char *dd_failure_entity(const struct dd_failure *f, const char *name)
{
	for (size_t i = 0; i < f->n_entities; i++)
		if (!strcmp(f->entities[i].name, name))
			return f->entities[i].value;
	return NULL;
}

void dd_failure_release(struct dd_failure *f)
{
	if (!f)
		return;
	free(f->input);
	free(f->category);
	free(f->pattern);
	free(f->title);
	for (size_t i = 0; i < f->n_entities; i++) {
		free(f->entities[i].name);
		free(f->entities[i].value);
	}
	free(f->entities);
	free(f->exc_type);
	free(f->exc_message);
	free(f->fingerprint);
	free(f->excerpt);
	dd_strv_release(&f->checks);
	dd_strv_release(&f->fix);
	for (size_t i = 0; i < f->n_secondary; i++) {
		free(f->secondary[i].pattern);
		free(f->secondary[i].category);
	}
	free(f->secondary);
	for (size_t i = 0; i < f->n_alternatives; i++) {
		free(f->alternatives[i].category);
		free(f->alternatives[i].source);
	}
	free(f->alternatives);
	dd_strv_release(&f->reasons);
	for (size_t i = 0; i < f->n_frames; i++) {
		free(f->frames[i].file);
		free(f->frames[i].func);
		free(f->frames[i].package);
		free(f->frames[i].source);
	}
	free(f->frames);
	dd_strv_release(&f->packages);
	dd_strv_release(&f->warnings);
	memset(f, 0, sizeof(*f));
}

/* ---------------------------------------------------------------- JSON */

struct cJSON *dd_failure_to_json(const struct dd_failure *f)
{
	cJSON *o = cJSON_CreateObject();
	jsonout_str(o, "input", f->input);
	jsonout_str(o, "category", f->category);
	jsonout_str(o, "stage", f->stage);
	jsonout_str(o, "pattern", f->pattern);
	jsonout_str(o, "title", f->title);
	cJSON_AddNumberToObject(o, "confidence", f->confidence);
	cJSON *alts = cJSON_AddArrayToObject(o, "alternatives");
	for (size_t i = 0; i < f->n_alternatives; i++) {
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "category", f->alternatives[i].category);
		cJSON_AddNumberToObject(a, "confidence", f->alternatives[i].confidence);
		jsonout_str(a, "pattern", f->alternatives[i].source);
		cJSON_AddItemToArray(alts, a);
	}
	cJSON *ents = cJSON_AddObjectToObject(o, "entities");
	for (size_t i = 0; i < f->n_entities; i++)
		cJSON_AddStringToObject(ents, f->entities[i].name, f->entities[i].value);
	if (f->exc_type || f->exc_message) {
		cJSON *e = cJSON_AddObjectToObject(o, "exception");
		jsonout_str(e, "type", f->exc_type);
		jsonout_str(e, "message", f->exc_message);
	} else {
		cJSON_AddNullToObject(o, "exception");
	}
	jsonout_str(o, "fingerprint", f->fingerprint);
	if (f->line_first) {
		cJSON *l = cJSON_AddArrayToObject(o, "lines");
		cJSON_AddItemToArray(l, cJSON_CreateNumber((double)f->line_first));
		cJSON_AddItemToArray(l, cJSON_CreateNumber((double)f->line_last));
	} else {
		cJSON_AddNullToObject(o, "lines");
	}
	{
		/* a log's bytes that are not UTF-8 are replaced, and the excerpt says so */
		char *excerpt = dd_utf8_excerpt(f->excerpt);

		jsonout_str(o, "excerpt", excerpt);
		free(excerpt);
	}
	cJSON_AddItemToObject(o, "checks", jsonout_strv(&f->checks));
	cJSON_AddItemToObject(o, "fix", jsonout_strv(&f->fix));
	cJSON *sec = cJSON_AddArrayToObject(o, "secondary");
	for (size_t i = 0; i < f->n_secondary; i++) {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "pattern", f->secondary[i].pattern);
		cJSON_AddStringToObject(s, "category", f->secondary[i].category);
		cJSON_AddNumberToObject(s, "line", (double)f->secondary[i].line);
		cJSON_AddItemToArray(sec, s);
	}
	cJSON *r = cJSON_AddObjectToObject(o, "retries");
	cJSON_AddNumberToObject(r, "count", (double)f->retries);
	cJSON *rl = cJSON_AddArrayToObject(r, "lines");
	for (size_t i = 0; i < f->n_retry_lines; i++)
		cJSON_AddItemToArray(rl, cJSON_CreateNumber((double)f->retry_lines[i]));
	cJSON_AddBoolToObject(o, "success", f->success);
	jsonout_str(o, "format", f->format);
	cJSON_AddNumberToObject(o, "log_lines", (double)f->n_lines);
	cJSON_AddNumberToObject(o, "log_bytes", (double)f->n_bytes);
	cJSON_AddItemToObject(o, "warnings", jsonout_strv(&f->warnings));
	cJSON_AddItemToObject(o, "explain", jsonout_strv(&f->reasons));
	return o;
}

/* ---------------------------------------------------------------- the cache form */

char *classify_cache_encode(const struct dd_failure *f)
{
	cJSON *o = cJSON_CreateObject(), *ents = cJSON_CreateObject();
	char *s;

	cJSON_AddNumberToObject(o, "v", CLASSIFY_CACHE_VERSION);
	jsonout_str(o, "category", f->category);
	jsonout_str(o, "stage", f->stage);
	jsonout_str(o, "pattern", f->pattern);
	jsonout_str(o, "title", f->title);
	cJSON_AddNumberToObject(o, "confidence", f->confidence);
	jsonout_str(o, "exc_type", f->exc_type);
	jsonout_str(o, "exc_message", f->exc_message);
	jsonout_str(o, "fingerprint", f->fingerprint);
	for (size_t i = 0; i < f->n_entities; i++)
		cJSON_AddStringToObject(ents, f->entities[i].name, f->entities[i].value);
	cJSON_AddItemToObject(o, "entities", ents);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static char *cache_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring ? dd_xstrdup(v->valuestring) : NULL;
}

int classify_cache_decode(const char *text, struct dd_failure *f)
{
	cJSON *o = text ? cJSON_Parse(text) : NULL;
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, "v") : NULL, *e;
	char *stage;

	memset(f, 0, sizeof(*f));
	if (!cJSON_IsNumber(v) || v->valuedouble != CLASSIFY_CACHE_VERSION) {
		cJSON_Delete(o);
		return DD_EPARSE;
	}
	f->category = cache_str(o, "category");
	stage = cache_str(o, "stage");
	for (size_t i = 0; stage && pat_stages[i]; i++)
		if (!strcmp(stage, pat_stages[i]))
			f->stage = pat_stages[i];
	free(stage);
	f->pattern = cache_str(o, "pattern");
	f->title = cache_str(o, "title");
	v = cJSON_GetObjectItemCaseSensitive(o, "confidence");
	f->confidence = cJSON_IsNumber(v) ? v->valuedouble : 0;
	f->exc_type = cache_str(o, "exc_type");
	f->exc_message = cache_str(o, "exc_message");
	f->fingerprint = cache_str(o, "fingerprint");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "entities"))
		if (cJSON_IsString(e) && e->string && e->valuestring)
			failure_set_entity(f, e->string, e->valuestring);
	cJSON_Delete(o);
	if (!f->category) {
		dd_failure_release(f);
		return DD_EPARSE;
	}
	return 0;
}

/* ---- text ------------------------------------------------------------------ */

void dd_failure_render_text(const struct dd_failure *f, int color, FILE *out)
{
	const char *B = render_color(color, RC_BOLD), *R = render_color(color, RC_RESET), *D = render_color(color, RC_DIM);
	const char *col = !strcmp(f->category, "none") ? render_color(color, RC_GREEN) : render_color(color, RC_RED);

	if (!strcmp(f->category, "none")) {
		fprintf(out, "%s%s%s: %snone%s - %s\n", B, f->input, R, col, R,
		        f->success ? "the task succeeded" : "no failure found");
	} else if (!strcmp(f->category, "unknown")) {
		fprintf(out, "%s%s%s: %sunknown%s - a failure neither a pattern nor the knowledge base explains\n", B,
		        f->input, R, col, R);
	} else {
		fprintf(out, "%s%s%s: %s%s%s  %s  %s\n", B, f->input, R, col, f->category, R, f->pattern, f->title);
		fprintf(out, "  confidence  %.2f\n", f->confidence);
	}
	if (f->stage)
		fprintf(out, "  stage       %s\n", f->stage);
	for (size_t i = 0; i < f->n_alternatives; i++)
		fprintf(out, "  %s %s %.2f (%s)\n", i ? "           " : "or perhaps ", f->alternatives[i].category,
		        f->alternatives[i].confidence, f->alternatives[i].source);
	if (f->exc_type || f->exc_message) {
		const char *msg = f->exc_message ? f->exc_message : "";
		const char *nl = strchr(msg, '\n');
		int len = nl ? (int)(nl - msg) : (int)strlen(msg);
		if (len > 300)
			len = 300;
		fprintf(out, "  exception   %s%s%.*s%s\n", f->exc_type ? f->exc_type : "", f->exc_type && *msg ? ": " : "",
		        len, msg, nl || (int)strlen(msg) > len ? " ..." : "");
	}
	if (f->line_first) {
		if (f->line_first == f->line_last)
			fprintf(out, "  line        %zu\n", f->line_first);
		else
			fprintf(out, "  lines       %zu-%zu\n", f->line_first, f->line_last);
	}
	if (f->fingerprint)
		fprintf(out, "  fingerprint %s\n", f->fingerprint);
	if (f->n_entities) {
		fprintf(out, "  entities   ");
		for (size_t i = 0; i < f->n_entities; i++)
			fprintf(out, " %s=%s", f->entities[i].name, f->entities[i].value);
		fprintf(out, "\n");
	}
	if (f->excerpt) {
		fprintf(out, "  excerpt\n");
		size_t ln = f->excerpt_first;
		const char *s = f->excerpt;
		(void)ln;
		while (*s) {
			const char *e = strchr(s, '\n');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			fprintf(out, "    %s|%s %.*s\n", D, R, (int)len, s);
			s += len + (e ? 1 : 0);
		}
	}
	for (size_t i = 0; i < f->checks.n; i++)
		fprintf(out, "  check       %s\n", f->checks.v[i]);
	for (size_t i = 0; i < f->fix.n; i++)
		fprintf(out, "  fix         %s\n", f->fix.v[i]);
	for (size_t i = 0; i < f->n_secondary; i++)
		fprintf(out, "  %s   %s (%s) line %zu\n", i == 0 ? "also seen" : "         ", f->secondary[i].pattern,
		        f->secondary[i].category, f->secondary[i].line);
	if (f->retries) {
		fprintf(out, "  retries     %zu (line", f->retries);
		fprintf(out, "%s", f->n_retry_lines > 1 ? "s" : "");
		for (size_t i = 0; i < f->n_retry_lines; i++)
			fprintf(out, "%s %zu", i ? "," : "", f->retry_lines[i]);
		fprintf(out, "%s)\n", f->retries > f->n_retry_lines ? ", ..." : "");
	}
	for (size_t i = 0; i < f->warnings.n; i++)
		fprintf(out, "  warning     %s\n", f->warnings.v[i]);
}
