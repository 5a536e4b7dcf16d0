/*
 * logparse.c - the streaming log reader: format detection, prefix stripping,
 * JSON / Python-repr decoding, error_detail rendering.  See logparse.h.
 *
 * Hot path (text logs): one memchr per line to split, one memchr for ESC,
 * then a switch on the first byte and a handful of byte comparisons.  No
 * allocation per line: complete lines inside a chunk are delivered in place,
 * only a line split across chunks is copied (into a reused buffer).
 */
#include "dagdoc/util.h"
#include "dagdoc/logparse.h"

#include <cjson/cJSON.h>

#include "logline.h"

#define DETECT_BYTES 64
#define FMT_UPGRADE_LINES 100
#define SYNTH_MAX_DEPTH 4
#define SYNTH_MAX_ENTRIES 64

enum { M_DETECT, M_LINES, M_DOC };

struct dd_logreader {
	int mode;
	enum dd_logformat fmt;
	size_t plain_lines;      /* lines seen while fmt == PLAIN */
	size_t lineno;           /* physical lines consumed (line input) */
	size_t out_lineno;       /* delivered lines (document input) */
	struct dd_buf part;      /* the start of a line split across chunks */
	int part_trunc;
	struct dd_buf doc;
	size_t doc_limit;
	int doc_strong;          /* the document is surely an API document */
	struct dd_buf ansi;      /* scratch: line without ANSI escapes */
	struct dd_buf syn;       /* scratch: synthesised lines */
	struct dd_buf rawjson;   /* scratch: printed JSON element (documents) */
	struct {                 /* a CSV export: "timestamp,level,...,message" */
		int active, open;    /* the header was seen; a quoted field is still open */
		int col_msg, col_level, col_ts, n_cols;
		size_t quotes, first_line;
		struct dd_buf rec, field;
	} csv;
	int seen_text;           /* a non-blank line of line input was seen */
	int done;                /* stopped by the callback, failed, or finished */
	int rc;
	struct dd_error saved;
	dd_logline_cb cb;
	void *ud;
};

const char *logparse_format_name(enum dd_logformat f)
{
	switch (f) {
	case DD_LOGFMT_PLAIN: return "plain";
	case DD_LOGFMT_AIRFLOW2: return "airflow2";
	case DD_LOGFMT_AIRFLOW_V1_REPR: return "airflow-v1-repr";
	case DD_LOGFMT_AIRFLOW_V2_JSON: return "airflow-v2-json";
	case DD_LOGFMT_AIRFLOW3_JSONL: return "airflow3-jsonl";
	case DD_LOGFMT_PREFECT: return "prefect";
	case DD_LOGFMT_UNKNOWN: break;
	}
	return "unknown";
}

static inline int is_sp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* ---- delivery ------------------------------------------------------------- */

static void deliver(struct dd_logreader *r, struct dd_logline *L)
{
	if (r->done)
		return;
	if (r->cb && r->cb(L, r->ud))
		r->done = 1;
}

static void note_format(struct dd_logreader *r, enum dd_logformat f)
{
	if (r->fmt == DD_LOGFMT_UNKNOWN) {
		r->fmt = f;
	} else if (r->fmt == DD_LOGFMT_PLAIN) {
		if (f != DD_LOGFMT_PLAIN && r->plain_lines < FMT_UPGRADE_LINES)
			r->fmt = f;
		r->plain_lines++;
	}
}

static size_t next_lineno(struct dd_logreader *r, size_t base)
{
	return r->mode == M_DOC ? ++r->out_lineno : base;
}

/* One text line: prefix parsing, delivery. */
static void text_line(struct dd_logreader *r, const char *s, size_t n, size_t lineno)
{
	struct dd_logline L;
	enum dd_logformat f;

	if (n > LOGREADER_MAX_LINE)
		n = LOGREADER_MAX_LINE;
	f = logparse_line(s, n, &r->ansi, &L);
	L.lineno = next_lineno(r, lineno);
	if (L.raw_len)
		note_format(r, f);
	deliver(r, &L);
}

/* Delivers every line of a text block (already decoded). */
static void text_block(struct dd_logreader *r, const char *s, size_t n, size_t lineno);

/* Delivers a synthesised / continuation line (raw = msg, level 0). */
static void plain_piece(struct dd_logreader *r, const char *s, size_t n, size_t lineno)
{
	struct dd_logline L;

	if (n && s[n - 1] == '\r')
		n--;
	if (n > LOGREADER_MAX_LINE)
		n = LOGREADER_MAX_LINE;
	memset(&L, 0, sizeof(L));
	L.msg = L.raw = s;
	L.msg_len = L.raw_len = n;
	L.flags = DD_LINE_JSON | DD_LINE_CONT;
	L.lineno = next_lineno(r, lineno);
	deliver(r, &L);
}

/* Each line of a multi-line string as plain pieces. */
static void plain_lines(struct dd_logreader *r, const char *s, size_t n, size_t lineno)
{
	while (!r->done) {
		const char *nl = memchr(s, '\n', n);
		size_t k = nl ? (size_t)(nl - s) : n;

		plain_piece(r, s, k, lineno);
		if (!nl)
			break;
		s = nl + 1;
		n -= k + 1;
	}
}

/* ---- JSON ------------------------------------------------------------------ */

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static int jint(const cJSON *o, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsNumber(v) && v->valuedouble > -2e9 && v->valuedouble < 2e9)
		return (int)v->valuedouble;
	return dflt;
}

static void synth_line(struct dd_logreader *r, size_t lineno)
{
	plain_lines(r, r->syn.data ? r->syn.data : "", r->syn.len, lineno);
}

static void synth_entry(struct dd_logreader *r, const cJSON *e, size_t lineno, int depth)
{
	const cJSON *frames, *f, *se, *notes, *subs;
	const char *type, *value;

	if (!cJSON_IsObject(e) || r->done)
		return;
	dd_buf_reset(&r->syn);
	dd_buf_adds(&r->syn, "Traceback (most recent call last):");
	synth_line(r, lineno);
	frames = cJSON_GetObjectItemCaseSensitive(e, "frames");
	cJSON_ArrayForEach(f, frames) {
		const char *fn = jstr(f, "filename"), *name = jstr(f, "name");

		if (r->done)
			return;
		dd_buf_reset(&r->syn);
		dd_buf_addf(&r->syn, "  File \"%s\", line %d, in %s", fn ? fn : "?", jint(f, "lineno", 0),
		            name ? name : "?");
		synth_line(r, lineno);
	}
	se = cJSON_GetObjectItemCaseSensitive(e, "syntax_error");
	if (cJSON_IsObject(se)) {
		const char *fn = jstr(se, "filename"), *text = jstr(se, "line");
		int off = jint(se, "offset", 0);

		if (!text)
			text = jstr(se, "text");
		dd_buf_reset(&r->syn);
		dd_buf_addf(&r->syn, "  File \"%s\", line %d", fn ? fn : "?", jint(se, "lineno", 0));
		synth_line(r, lineno);
		if (text) {
			size_t tl, lead = 0;

			while (text[lead] == ' ' || text[lead] == '\t')
				lead++;
			tl = strlen(text + lead);
			while (tl && (text[lead + tl - 1] == '\n' || text[lead + tl - 1] == '\r'))
				tl--;
			if (tl && !memchr(text + lead, '\n', tl)) {
				dd_buf_reset(&r->syn);
				dd_buf_adds(&r->syn, "    ");
				dd_buf_add(&r->syn, text + lead, tl);
				synth_line(r, lineno);
				if (off > (int)lead && off - (int)lead <= (int)tl + 1) {
					int k;

					dd_buf_reset(&r->syn);
					dd_buf_adds(&r->syn, "    ");
					for (k = 1; k < off - (int)lead; k++)
						dd_buf_addch(&r->syn, ' ');
					dd_buf_addch(&r->syn, '^');
					synth_line(r, lineno);
				}
			}
		}
	}
	type = jstr(e, "exc_type");
	value = jstr(e, "exc_value");
	if (!value && cJSON_IsObject(se))
		value = jstr(se, "msg");
	dd_buf_reset(&r->syn);
	dd_buf_adds(&r->syn, type && *type ? type : "Exception");
	if (value && *value) {
		dd_buf_adds(&r->syn, ": ");
		dd_buf_adds(&r->syn, value);
	}
	synth_line(r, lineno);
	notes = cJSON_GetObjectItemCaseSensitive(e, "exc_notes");
	cJSON_ArrayForEach(f, notes) {
		if (cJSON_IsString(f) && f->valuestring) {
			dd_buf_reset(&r->syn);
			dd_buf_adds(&r->syn, f->valuestring);
			synth_line(r, lineno);
		}
	}
	/* exception groups: the members follow as tracebacks of their own */
	subs = cJSON_GetObjectItemCaseSensitive(e, "exceptions");
	if (depth < SYNTH_MAX_DEPTH && cJSON_IsArray(subs)) {
		cJSON_ArrayForEach(f, subs) {
			const cJSON *inner;

			if (cJSON_IsArray(f)) {
				cJSON_ArrayForEach(inner, f) {
					plain_piece(r, "", 0, lineno);
					synth_entry(r, inner, lineno, depth + 1);
				}
			} else {
				plain_piece(r, "", 0, lineno);
				synth_entry(r, f, lineno, depth + 1);
			}
		}
	}
}

/* error_detail lists the raised exception first, then its cause/context;
 * Python prints the oldest first with a chaining sentence in between. */
static void synth_error_detail(struct dd_logreader *r, const cJSON *arr, size_t lineno)
{
	const cJSON *items[SYNTH_MAX_ENTRIES], *e;
	size_t n = 0, i;

	cJSON_ArrayForEach(e, arr) {
		if (n < SYNTH_MAX_ENTRIES)
			items[n++] = e;
	}
	for (i = n; i-- > 0 && !r->done;) {
		if (i != n - 1) {
			const cJSON *older = items[i + 1];
			const char *sentence = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(older, "is_cause"))
			        ? "The above exception was the direct cause of the following exception:"
			        : "During handling of the above exception, another exception occurred:";

			plain_piece(r, "", 0, lineno);
			plain_piece(r, sentence, strlen(sentence), lineno);
			plain_piece(r, "", 0, lineno);
		}
		synth_entry(r, items[i], lineno, 0);
	}
}

/*
 * One log record whose message may span lines: the first line is delivered
 * with the record's level and time (a prefix inside it is peeled off, the
 * record's own level stays when it has one), the others as continuation
 * lines.  raw NULL: raw is the message's first line.  `cont_step` 1 gives
 * continuation lines their own line numbers (a CSV field's lines are
 * physical lines), 0 keeps the record's (a JSON line).
 */
static void record(struct dd_logreader *r, const char *text, size_t tl, int level, int64_t ms,
                   const char *raw, size_t raw_len, size_t lineno, int cont_step)
{
	struct dd_logline L, in;
	const char *nl = memchr(text, '\n', tl);
	size_t first = nl ? (size_t)(nl - text) : tl;

	memset(&L, 0, sizeof(L));
	L.msg = text;
	L.msg_len = first;
	if (L.msg_len && text[L.msg_len - 1] == '\r')
		L.msg_len--;
	in = L;
	logline_parse(&in);
	L.msg = in.msg;
	L.msg_len = in.msg_len > LOGREADER_MAX_LINE ? LOGREADER_MAX_LINE : in.msg_len;
	L.level = level ? level : in.level;
	L.ts_ms = ms ? ms : in.ts_ms;
	L.flags = DD_LINE_JSON;
	L.raw = raw ? raw : text;
	L.raw_len = raw ? raw_len : L.msg_len + (size_t)(L.msg - text);
	L.lineno = next_lineno(r, lineno);
	deliver(r, &L);
	while (nl && !r->done) {
		const char *s = nl + 1, *e = text + tl;

		nl = memchr(s, '\n', (size_t)(e - s));
		lineno += (size_t)cont_step;
		plain_piece(r, s, nl ? (size_t)(nl - s) : (size_t)(e - s), lineno);
	}
}

/* A structured message: {"event":..} (Airflow 3 / v2) or {"message":..} (Prefect). */
static void structured(struct dd_logreader *r, const cJSON *o, const char *text,
                       const char *raw, size_t raw_len, size_t lineno)
{
	const cJSON *lv = cJSON_GetObjectItemCaseSensitive(o, "level");
	const cJSON *ed;
	const char *ts = jstr(o, "timestamp");
	int level = 0;
	int64_t ms = 0;

	if (cJSON_IsString(lv) && lv->valuestring)
		level = logline_level_name(lv->valuestring, strlen(lv->valuestring));
	else if (cJSON_IsNumber(lv) && lv->valuedouble >= 0 && lv->valuedouble <= 100)
		level = (int)lv->valuedouble;
	if (ts && dd_parse_time(ts, &ms))
		ms = 0;
	if (!raw) {
		char *p = cJSON_PrintUnformatted(o);

		dd_buf_reset(&r->rawjson);
		if (p) {
			dd_buf_adds(&r->rawjson, p);
			cJSON_free(p);
		}
		raw = dd_buf_str(&r->rawjson);
		raw_len = r->rawjson.len;
	}
	record(r, text, strlen(text), level, ms, raw, raw_len, lineno, 0);
	ed = cJSON_GetObjectItemCaseSensitive(o, "error_detail");
	if (cJSON_IsArray(ed) && !r->done)
		synth_error_detail(r, ed, lineno);
}

static void repr_or_text(struct dd_logreader *r, const char *s, size_t n, size_t lineno);

/* Returns 1 when the object was understood and delivered. */
static int json_object(struct dd_logreader *r, const cJSON *o, const char *raw, size_t raw_len, size_t lineno)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(o, "content");
	const char *text;

	if (cJSON_IsString(content) && content->valuestring) {
		if (r->fmt == DD_LOGFMT_UNKNOWN)
			r->fmt = DD_LOGFMT_AIRFLOW_V1_REPR;
		repr_or_text(r, content->valuestring, strlen(content->valuestring), lineno);
		return 1;
	}
	if (cJSON_IsArray(content)) {
		const cJSON *e;

		if (r->fmt == DD_LOGFMT_UNKNOWN)
			r->fmt = DD_LOGFMT_AIRFLOW_V2_JSON;
		cJSON_ArrayForEach(e, content) {
			if (r->done)
				break;
			if (cJSON_IsObject(e)) {
				if (!json_object(r, e, NULL, 0, lineno)) {
					char *p = cJSON_PrintUnformatted(e);

					if (p) {
						text_line(r, p, strlen(p), lineno);
						cJSON_free(p);
					}
				}
			} else if (cJSON_IsString(e) && e->valuestring) {
				text_block(r, e->valuestring, strlen(e->valuestring), lineno);
			} else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 &&
			           cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
				/* [host, text] pairs */
				const char *t = cJSON_GetArrayItem(e, 1)->valuestring;

				if (t)
					text_block(r, t, strlen(t), lineno);
			}
		}
		return 1;
	}
	text = jstr(o, "event");
	if (text) {
		if (r->fmt == DD_LOGFMT_UNKNOWN)
			r->fmt = r->mode == M_DOC ? DD_LOGFMT_AIRFLOW_V2_JSON : DD_LOGFMT_AIRFLOW3_JSONL;
		structured(r, o, text, raw, raw_len, lineno);
		return 1;
	}
	text = jstr(o, "message");
	if (text) {
		if (r->fmt == DD_LOGFMT_UNKNOWN)
			r->fmt = DD_LOGFMT_PREFECT;
		structured(r, o, text, raw, raw_len, lineno);
		return 1;
	}
	text = jstr(o, "msg");   /* Go, Node and many JSON loggers: {"level":"error","msg":..} */
	if (text) {
		if (r->fmt == DD_LOGFMT_UNKNOWN)
			r->fmt = DD_LOGFMT_PLAIN;
		structured(r, o, text, raw, raw_len, lineno);
		return 1;
	}
	return 0;
}

/* ---- CSV exports ------------------------------------------------------------ */

#define CSV_MAX_RECORD ((size_t)4 << 20)

/* A header such as "timestamp,level,flow_run_id,task_run_id,message"
 * (Prefect's log download): a message column and a level or time column. */
static int csv_header(struct dd_logreader *r, const char *s, size_t n)
{
	int col = 0;
	size_t i = 0;

	r->csv.col_msg = r->csv.col_level = r->csv.col_ts = -1;
	while (i <= n && col < 64) {
		size_t b = i;

		while (i < n && s[i] != ',') {
			if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
				return 0;
			i++;
		}
		if (i == b)
			return 0;
#define COL_IS(w) (i - b == sizeof(w) - 1 && !strncasecmp(s + b, w, i - b))
		if (COL_IS("message") || COL_IS("msg"))
			r->csv.col_msg = col;
		else if (COL_IS("level") || COL_IS("levelname") || COL_IS("level_name") || COL_IS("severity"))
			r->csv.col_level = col;
		else if (COL_IS("timestamp") || COL_IS("time") || COL_IS("ts"))
			r->csv.col_ts = col;
#undef COL_IS
		col++;
		i++;
	}
	r->csv.n_cols = col;
	return col >= 2 && r->csv.col_msg >= 0 && (r->csv.col_level >= 0 || r->csv.col_ts >= 0);
}

/* Field `want` of a CSV record, unquoted into r->csv.field; 0 when absent. */
static int csv_field(struct dd_logreader *r, int want)
{
	const char *p = r->csv.rec.data ? r->csv.rec.data : "", *end = p + r->csv.rec.len;
	int col = 0;

	dd_buf_reset(&r->csv.field);
	for (;;) {
		int take = col == want;

		if (p < end && *p == '"') {
			p++;
			while (p < end) {
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						if (take)
							dd_buf_addch(&r->csv.field, '"');
						p += 2;
						continue;
					}
					p++;
					break;
				}
				if (take)
					dd_buf_addch(&r->csv.field, *p);
				p++;
			}
			while (p < end && *p != ',')
				p++;
		} else {
			const char *q = memchr(p, ',', (size_t)(end - p));

			if (!q)
				q = end;
			if (take)
				dd_buf_add(&r->csv.field, p, (size_t)(q - p));
			p = q;
		}
		if (take)
			return 1;
		if (p >= end)
			return 0;
		p++;
		col++;
	}
}

static void csv_record(struct dd_logreader *r)
{
	int level = 0;
	int64_t ms = 0;
	char *msg;
	size_t ml;

	if (r->csv.col_level >= 0 && csv_field(r, r->csv.col_level) && r->csv.field.len) {
		const char *v = r->csv.field.data;

		if (v[0] >= '0' && v[0] <= '9')
			level = atoi(v) <= 100 ? atoi(v) : 0;
		else
			level = logline_level_name(v, r->csv.field.len);
	}
	if (r->csv.col_ts >= 0 && csv_field(r, r->csv.col_ts) && dd_parse_time(r->csv.field.data, &ms))
		ms = 0;
	if (!csv_field(r, r->csv.col_msg)) {
		/* not a record of this table: its text as it is */
		text_block(r, r->csv.rec.data, r->csv.rec.len, r->csv.first_line);
		return;
	}
	ml = r->csv.field.len;
	msg = dd_buf_detach(&r->csv.field);
	record(r, msg, ml, level, ms, NULL, 0, r->csv.first_line, 1);
	free(msg);
}

/* One physical line of a CSV export; a record ends where its quotes balance. */
static void csv_line(struct dd_logreader *r, const char *s, size_t n, size_t lineno)
{
	const char *q = s, *end = s + n;

	if (!r->csv.open) {
		dd_buf_reset(&r->csv.rec);
		r->csv.first_line = lineno;
		r->csv.quotes = 0;
	} else {
		dd_buf_addch(&r->csv.rec, '\n');
	}
	dd_buf_add(&r->csv.rec, s, n);
	while ((q = memchr(q, '"', (size_t)(end - q)))) {
		r->csv.quotes++;
		q++;
	}
	r->csv.open = (r->csv.quotes & 1) && r->csv.rec.len < CSV_MAX_RECORD;
	if (!r->csv.open)
		csv_record(r);
}

/* One physical line of line input. */
static void on_line(struct dd_logreader *r, const char *s, size_t n)
{
	size_t lineno = ++r->lineno;

	if (n && s[n - 1] == '\r')
		n--;
	if (r->csv.active) {
		csv_line(r, s, n, lineno);
		return;
	}
	if (!r->seen_text && n) {
		r->seen_text = 1;
		if (r->mode == M_LINES && csv_header(r, s, n))
			r->csv.active = 1;
	}
	if (n >= 2 && s[0] == '{') {
		size_t e = n;

		while (e && is_sp(s[e - 1]))
			e--;
		if (e && s[e - 1] == '}') {
			cJSON *o = cJSON_ParseWithLength(s, n);
			int ok = 0;

			if (o && cJSON_IsObject(o))
				ok = json_object(r, o, s, n, lineno);
			cJSON_Delete(o);
			if (ok)
				return;
		}
	}
	text_line(r, s, n, lineno);
}

static void text_block(struct dd_logreader *r, const char *s, size_t n, size_t lineno)
{
	while (!r->done) {
		const char *nl = memchr(s, '\n', n);
		size_t k = nl ? (size_t)(nl - s) : n;

		if (!nl && k == 0)
			break;   /* no empty line after a final newline */
		text_line(r, s, k, lineno);
		if (!nl)
			break;
		s = nl + 1;
		n -= k + 1;
	}
}

/* ---- Python repr of [(host, text), ...] --------------------------------- */

static void put_utf8(struct dd_buf *b, uint32_t cp)
{
	char u[4];

	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	if (cp < 0x80) {
		dd_buf_addch(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		dd_buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		dd_buf_add(b, u, 3);
	} else if (cp < 0x110000) {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		dd_buf_add(b, u, 4);
	} else {
		put_utf8(b, 0xfffd);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses a Python string literal at *pp (optional u/r/b prefix); appends the
 * decoded text to out (when non-NULL).  Returns 0 or -1. */
static int py_string(const char **pp, const char *end, struct dd_buf *out)
{
	const char *p = *pp;
	char q;
	int raw = 0;

	while (p < end && (*p == 'u' || *p == 'r' || *p == 'b' || *p == 'U' || *p == 'R' || *p == 'B')) {
		if (*p == 'r' || *p == 'R')
			raw = 1;
		p++;
	}
	if (p >= end || (*p != '\'' && *p != '"'))
		return -1;
	q = *p++;
	while (p < end) {
		const char *stop = p;

		while (stop < end && *stop != q && *stop != '\\')
			stop++;
		if (out && stop > p)
			dd_buf_add(out, p, (size_t)(stop - p));
		p = stop;
		if (p >= end)
			return -1;
		if (*p == q) {
			*pp = p + 1;
			return 0;
		}
		/* backslash */
		if (p + 1 >= end)
			return -1;
		if (raw) {
			if (out)
				dd_buf_add(out, p, 2);
			p += 2;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': if (out) dd_buf_addch(out, '\n'); p++; break;
		case 't': if (out) dd_buf_addch(out, '\t'); p++; break;
		case 'r': if (out) dd_buf_addch(out, '\r'); p++; break;
		case 'a': if (out) dd_buf_addch(out, '\a'); p++; break;
		case 'b': if (out) dd_buf_addch(out, '\b'); p++; break;
		case 'f': if (out) dd_buf_addch(out, '\f'); p++; break;
		case 'v': if (out) dd_buf_addch(out, '\v'); p++; break;
		case '\\': case '\'': case '"':
			if (out)
				dd_buf_addch(out, *p);
			p++;
			break;
		case '\n':
			p++;
			break;
		case 'x': case 'u': case 'U': {
			int digits = *p == 'x' ? 2 : *p == 'u' ? 4 : 8, k;
			uint32_t cp = 0;

			p++;
			if (end - p < digits)
				return -1;
			for (k = 0; k < digits; k++) {
				int h = hexval(p[k]);

				if (h < 0)
					return -1;
				cp = cp * 16 + (uint32_t)h;
			}
			p += digits;
			if (out)
				put_utf8(out, cp);
			break;
		}
		default:
			if (*p >= '0' && *p <= '7') {
				uint32_t cp = 0;
				int k;

				for (k = 0; k < 3 && p < end && *p >= '0' && *p <= '7'; k++, p++)
					cp = cp * 8 + (uint32_t)(*p - '0');
				if (out)
					put_utf8(out, cp);
			} else if (out) {
				dd_buf_addch(out, '\\');   /* unknown escape: kept */
			}
			break;
		}
	}
	return -1;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (is_sp(*p) || *p == '\n'))
		p++;
	return p;
}

/* "[('host', 'text'), ...]" -> concatenated texts in out; 0 or -1. */
static int decode_repr(const char *p, const char *end, struct dd_buf *out)
{
	p = skip_ws(p, end);
	if (p >= end || *p != '[')
		return -1;
	p = skip_ws(p + 1, end);
	while (p < end && *p != ']') {
		if (*p != '(')
			return -1;
		p = skip_ws(p + 1, end);
		if (py_string(&p, end, NULL))
			return -1;
		p = skip_ws(p, end);
		if (p >= end || *p != ',')
			return -1;
		p = skip_ws(p + 1, end);
		if (out->len && out->data[out->len - 1] != '\n')
			dd_buf_addch(out, '\n');
		if (py_string(&p, end, out))
			return -1;
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
		if (p >= end || *p != ')')
			return -1;
		p = skip_ws(p + 1, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	if (p >= end)
		return -1;
	return 0;
}

static void repr_or_text(struct dd_logreader *r, const char *s, size_t n, size_t lineno)
{
	const char *p = skip_ws(s, s + n);

	if (p + 1 < s + n && *p == '[' && *skip_ws(p + 1, s + n) == '(') {
		struct dd_buf dec = DD_BUF_INIT;

		if (!decode_repr(p, s + n, &dec)) {
			text_block(r, dd_buf_str(&dec), dec.len, lineno);
			dd_buf_release(&dec);
			return;
		}
		dd_buf_release(&dec);
	}
	text_block(r, s, n, lineno);
}

/* ---- documents ----------------------------------------------------------- */

static void json_value(struct dd_logreader *r, const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		if (!json_object(r, v, NULL, 0, 0)) {
			char *p = cJSON_PrintUnformatted(v);

			if (p) {
				text_line(r, p, strlen(p), 0);
				cJSON_free(p);
			}
		}
	} else if (cJSON_IsArray(v)) {
		const cJSON *e;

		cJSON_ArrayForEach(e, v) {
			if (r->done)
				break;
			if (cJSON_IsObject(e) && r->fmt == DD_LOGFMT_UNKNOWN) {
				if (jstr(e, "message"))
					r->fmt = DD_LOGFMT_PREFECT;
				else if (jstr(e, "event"))
					r->fmt = DD_LOGFMT_AIRFLOW_V2_JSON;
			}
			json_value(r, e);
		}
	} else if (cJSON_IsString(v) && v->valuestring) {
		text_block(r, v->valuestring, strlen(v->valuestring), 0);
	}
}

static void process_doc(struct dd_logreader *r)
{
	const char *p = r->doc.data ? r->doc.data : "", *end = p + r->doc.len;

	p = skip_ws(p, end);
	if (end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p = skip_ws(p + 3, end);
	if (p < end && *p == '[' && *skip_ws(p + 1, end) == '(') {
		struct dd_buf dec = DD_BUF_INIT;

		if (!decode_repr(p, end, &dec)) {
			if (r->fmt == DD_LOGFMT_UNKNOWN)
				r->fmt = DD_LOGFMT_AIRFLOW_V1_REPR;
			text_block(r, dd_buf_str(&dec), dec.len, 0);
			dd_buf_release(&dec);
			return;
		}
		dd_buf_release(&dec);
		text_block(r, p, (size_t)(end - p), 0);
		return;
	}
	while (p < end && !r->done) {
		const char *pe = NULL;
		cJSON *v = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &pe, 0);

		if (!v || !pe || pe <= p) {
			cJSON_Delete(v);
			text_block(r, p, (size_t)(end - p), 0);
			return;
		}
		json_value(r, v);
		cJSON_Delete(v);
		p = skip_ws(pe, end);
	}
}

/* ---- the reader ----------------------------------------------------------- */

struct dd_logreader *logreader_new(void)
{
	struct dd_logreader *r = dd_xcalloc(1, sizeof(*r));

	r->mode = M_DETECT;
	r->doc_limit = LOGREADER_DOC_LIMIT;
	return r;
}

void logreader_free(struct dd_logreader *r)
{
	if (!r)
		return;
	dd_buf_release(&r->part);
	dd_buf_release(&r->doc);
	dd_buf_release(&r->ansi);
	dd_buf_release(&r->syn);
	dd_buf_release(&r->rawjson);
	dd_buf_release(&r->csv.rec);
	dd_buf_release(&r->csv.field);
	free(r);
}

enum dd_logformat logreader_format(const struct dd_logreader *r)
{
	return r ? r->fmt : DD_LOGFMT_UNKNOWN;
}

void logreader_set_doc_limit(struct dd_logreader *r, size_t max_bytes)
{
	r->doc_limit = max_bytes ? max_bytes : LOGREADER_DOC_LIMIT;
}

static int result(struct dd_logreader *r, struct dd_error *err)
{
	if (r->rc && err)
		*err = r->saved;
	return r->rc;
}

static int doc_add(struct dd_logreader *r, const char *data, size_t len, struct dd_error *err)
{
	if (len > r->doc_limit || r->doc.len > r->doc_limit - len) {
		struct dd_buf held;

		if (r->doc_strong) {
			r->rc = dd_error_set(&r->saved, DD_ELIMIT,
			                     "the log is an API JSON/repr document larger than %zu MiB, which is the most "
			                     "dagdoc reads whole; fetch it as NDJSON or in pages (continuation token)",
			                     r->doc_limit >> 20 ? r->doc_limit >> 20 : 1);
			r->done = 1;
			dd_buf_release(&r->doc);
			return result(r, err);
		}
		/* only looked like a document ("{" or "[{" first line): read it as lines */
		held = r->doc;
		dd_buf_init(&r->doc);
		r->mode = M_LINES;
		logreader_feed(r, held.data ? held.data : "", held.len, r->cb, r->ud, err);
		dd_buf_release(&held);
		return logreader_feed(r, data, len, r->cb, r->ud, err);
	}
	dd_buf_add(&r->doc, data, len);
	return 0;
}

static void part_add(struct dd_logreader *r, const char *s, size_t n)
{
	if (r->part.len + n > LOGREADER_MAX_LINE) {
		n = r->part.len < LOGREADER_MAX_LINE ? LOGREADER_MAX_LINE - r->part.len : 0;
		r->part_trunc = 1;
	}
	if (n)
		dd_buf_add(&r->part, s, n);
}

/* Does the start of the first non-blank line announce a document?  2 when
 * surely (an API document), 1 when probably (JSON array / lone bracket). */
static int looks_like_doc(const char *t, size_t n, int complete)
{
	const char *end = t + n, *p;

	if (!n)
		return 0;
	p = skip_ws(t + 1, end);
	if (t[0] == '[') {
		const char *q;

		if (p == end)
			return complete;
		q = skip_ws(p + 1, end);
		if (*p == '(')
			return q == end ? complete * 2 : (*q == '\'' || *q == '"') * 2;
		if (*p == '{')
			return q == end ? complete : *q == '"';
		return 0;
	}
	if (t[0] == '{') {
		if (p == end)
			return complete;
		if (*p != '"')
			return 0;
		p++;
		if ((size_t)(end - p) >= 8 && !memcmp(p, "content\"", 8))
			return 2;
		if ((size_t)(end - p) >= 19 && !memcmp(p, "continuation_token\"", 19))
			return 2;
	}
	return 0;
}

static const char *skip_blank_start(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	for (;;) {
		while (p < end && is_sp(*p))
			p++;
		if (end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
			p += 3;
		else
			return p;
	}
}

/* Detection: consumes bytes of data; may switch the mode. */
static size_t detect(struct dd_logreader *r, const char *data, size_t len, int finishing)
{
	const char *nl = memchr(data, '\n', len);
	size_t linepart = nl ? (size_t)(nl - data) : len;
	size_t room = r->part.len < DETECT_BYTES ? DETECT_BYTES - r->part.len : 0;
	size_t take = linepart < room ? linepart : room;
	const char *t, *pe;
	int complete;

	if (take)
		dd_buf_add(&r->part, data, take);
	complete = (nl && take == linepart) || finishing;
	pe = r->part.data ? r->part.data : "";
	t = skip_blank_start(pe, r->part.len);
	if (t == pe + r->part.len) {
		if (nl && take == linepart) {
			on_line(r, pe, r->part.len);
			dd_buf_reset(&r->part);
			return take + 1;
		}
		if (r->part.len >= DETECT_BYTES)
			r->mode = M_LINES;
		return take;
	}
	if (!complete && r->part.len < DETECT_BYTES)
		return take;
	if ((r->doc_strong = looks_like_doc(t, (size_t)(pe + r->part.len - t), complete))) {
		r->doc_strong = r->doc_strong == 2;
		r->mode = M_DOC;
		dd_buf_add(&r->doc, r->part.data, r->part.len);
		dd_buf_release(&r->part);
		return take;
	}
	r->mode = M_LINES;
	return take;
}

int logreader_feed(struct dd_logreader *r, const char *data, size_t len, dd_logline_cb cb, void *ud,
                   struct dd_error *err)
{
	if (r->done)
		return result(r, err);
	r->cb = cb;
	r->ud = ud;
	while (len && !r->done) {
		const char *nl;
		size_t n;

		if (r->mode == M_DOC)
			return doc_add(r, data, len, err);
		if (r->mode == M_DETECT) {
			size_t used = detect(r, data, len, 0);

			data += used;
			len -= used;
			continue;
		}
		nl = memchr(data, '\n', len);
		if (!nl) {
			part_add(r, data, len);
			break;
		}
		n = (size_t)(nl - data);
		if (r->part.len || r->part_trunc) {
			part_add(r, data, n);
			on_line(r, r->part.data ? r->part.data : "", r->part.len);
			dd_buf_reset(&r->part);
			r->part_trunc = 0;
		} else {
			on_line(r, data, n > LOGREADER_MAX_LINE ? LOGREADER_MAX_LINE : n);
		}
		data = nl + 1;
		len -= n + 1;
	}
	return result(r, err);
}

int logreader_finish(struct dd_logreader *r, dd_logline_cb cb, void *ud, struct dd_error *err)
{
	if (r->done)
		return result(r, err);
	r->cb = cb;
	r->ud = ud;
	if (r->mode == M_DETECT && r->part.len)
		detect(r, "", 0, 1);
	if (r->mode == M_DETECT || r->mode == M_LINES) {
		if (r->part.len || r->part_trunc) {
			const char *t = skip_blank_start(r->part.data, r->part.len);

			if (r->part_trunc || t != r->part.data + r->part.len || r->mode == M_LINES)
				on_line(r, r->part.data ? r->part.data : "", r->part.len);
		}
		dd_buf_reset(&r->part);
		r->part_trunc = 0;
		if (r->csv.open && !r->done)
			csv_record(r);   /* a quote never closed: what there is */
	} else if (r->mode == M_DOC) {
		process_doc(r);
		dd_buf_release(&r->doc);
	}
	r->done = 1;
	return result(r, err);
}
