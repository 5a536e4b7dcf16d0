/*
 * classify.c - one log in, one failure out (see classify.h).
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "dagdoc/jsonout.h"
#include "dagdoc/classify.h"
#include "dagdoc/logparse.h"
#include "dagdoc/redact.h"

/* ---------------------------------------------------------------- markers */

enum marker {
	MK_SUCCESS = 1,   /* terminal success: Marking task as SUCCESS/SKIPPED, Prefect Completed/Cached */
	MK_RC0,           /* Task exited with return code 0 (success unless the try failed) */
	MK_FAILED,        /* terminal failure */
	MK_RETRY,         /* Marking task as UP_FOR_RETRY: failure of this try + retry evidence */
	MK_RETRY_EVIDENCE,/* Prefect "Retry 1/5 will start", "Retrying ..." */
	MK_START,         /* Starting attempt N of M: a new try */
	MK_A3_FINISHED,   /* Airflow 3 supervisor "Task finished": read final_state from the raw JSON */
	MK_FAILURE_NOTE,  /* failure evidence that is not terminal: "Task failed with exception" */
};

static const struct {
	int tag;
	const char *regex;
} markers[] = {
	{ MK_SUCCESS, "^Marking task as (?:SUCCESS|SKIPPED)\\b" },
	{ MK_SUCCESS, "Finished in state (?:Completed|Cached)\\(" },
	{ MK_RC0, "^Task exited with return code 0\\b" },
	{ MK_FAILED, "^(?:Immediate failure requested\\. )?Marking task as FAILED\\b" },
	{ MK_FAILED, "^Task exited with return code (?!0\\b)\\d+\\b(?! \\(task deferral\\))" },
	{ MK_FAILED, "Finished in state (?:Failed|Crashed|TimedOut|NotReady|Cancelled)\\(" },
	{ MK_FAILED, "^Crash detected! " },
	{ MK_FAILED, "^Process exited abnormally\\b" },
	{ MK_RETRY, "^Marking task as UP_FOR_RETRY\\b" },
	{ MK_RETRY_EVIDENCE, "\\bRetry \\d+/\\d+ will start\\b" },
	{ MK_RETRY_EVIDENCE, "Received non-final state 'AwaitingRetry'" },
	{ MK_RETRY_EVIDENCE, "\\bRetrying\\b" },
	{ MK_START, "^Starting attempt \\d+ of \\d+" },
	{ MK_A3_FINISHED, "^Task finished\\b" },
	{ MK_FAILURE_NOTE, "^Task failed with exception\\b" },
};

int classify_add_markers(struct pat_library *lib, struct dd_error *err)
{
	for (size_t i = 0; i < DD_ARRAY_SIZE(markers); i++) {
		int rc = pat_library_add_marker(lib, markers[i].regex, markers[i].tag, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int classify_library_load(const char *builtin_dir, const struct dd_strv *user_dirs,
                          struct pat_library **out, struct dd_strv *problems, struct dd_error *err)
{
	return pat_library_load(builtin_dir, user_dirs, classify_add_markers, out, problems, err);
}

/* ---------------------------------------------------------------- state */

#define RING 16             /* recent raw lines kept for excerpts (>= EXCERPT_BEFORE + 1) */
#define HIT_MSG_MAX 2048
#define HIT_SLOTS (CLASSIFY_MAX_HITS + 2)
#define BATCH_BYTES (512 * 1024)  /* lines are matched in batches of about this size */
#define BATCH_LINES 8192

struct bline {
	size_t lineno;
	int level;
	int has_raw;
	int64_t ts_ms;
	size_t msg_off, msg_len, raw_off, raw_len;
};

struct xline {
	size_t lineno;
	char *text;             /* capped copy of raw */
};

struct rline {
	size_t lineno;
	int used;
	char text[CLASSIFY_EXCERPT_LINE_MAX + 4];
};

/* Lines around a center line, gathered while streaming. */
struct capture {
	size_t center;
	size_t until;           /* keep appending lines up to this number */
	struct xline lines[CLASSIFY_EXCERPT_BEFORE + 1 + CLASSIFY_EXCERPT_AFTER];
	size_t n;
	size_t n_after;         /* lines after the center line */
};

struct hit {
	int used;
	int in_ring;
	int is_champ;
	const struct pat_pattern *p;
	size_t line;
	char *msg;              /* capped copy of the matched message */
	size_t n_ent;
	char *ent_name[PAT_MAX_ENTITIES];   /* borrowed from the library */
	char *ent_val[PAT_MAX_ENTITIES];    /* owned, capped */
	struct capture cap;
};

struct classify {
	const struct pat_library *lib;
	char *input;
	struct dd_logreader *reader;
	struct pat_matcher *matcher;
	struct dd_tbparser *tbp;
	struct rline ring[RING];
	size_t ring_pos;         /* next slot */
	size_t max_until;        /* largest capture end: no capture wants lines past it */
	struct hit slots[HIT_SLOTS];
	int ring_hits[CLASSIFY_MAX_HITS];   /* slot indices, oldest first when full */
	size_t n_ring_hits, ring_hits_pos;
	int champ;               /* slot index or -1 */
	size_t *last_hit_line;   /* per library pattern (0 = never) */
	size_t n_pats;
	/* current line (for marker handling) */
	const struct dd_logline *cur;
	/* the batch of lines waiting for the prefilter (copies: reader lines live
	 * only during its callback) */
	struct dd_buf bmsg, braw;
	struct bline *bl;
	size_t n_bl, cap_bl;
	size_t *starts;
	size_t cap_starts;
	/* tracebacks */
	const struct dd_traceback *seen_tb;
	size_t seen_tb_exc;
	struct capture tb_cap;
	/* markers */
	int last_terminal;       /* 0 none, 1 success, -1 failure */
	int failed_in_try;
	size_t last_fail_line;
	struct capture fail_cap;
	size_t retries;
	size_t retry_lines[CLASSIFY_MAX_RETRY_LINES];
	size_t n_retry_lines;
	size_t last_retry_line;
	/* limits */
	struct dd_strv warnings;
	size_t n_limit_lines;
	size_t n_lines;
	uint64_t n_bytes;
	int finished;
};

static void capture_clear(struct capture *cp)
{
	for (size_t i = 0; i < cp->n; i++)
		free(cp->lines[i].text);
	memset(cp, 0, sizeof(*cp));
}

static char *cap_copy(const char *s, size_t len, size_t max)
{
	return dd_xstrndup(s, len > max ? max : len);
}

/* Starts a capture centred on `center` from the ring (which already holds the current line). */
static void capture_start(struct classify *c, struct capture *cp, size_t center)
{
	capture_clear(cp);
	cp->center = center;
	cp->until = center + CLASSIFY_EXCERPT_AFTER;
	if (cp->until > c->max_until)
		c->max_until = cp->until;
	size_t lo = center > CLASSIFY_EXCERPT_BEFORE ? center - CLASSIFY_EXCERPT_BEFORE : 1;
	const struct rline *sel[RING];
	size_t n = 0;
	for (size_t k = 0; k < RING; k++) {
		const struct rline *x = &c->ring[(c->ring_pos + k) % RING];
		if (x->used && x->lineno >= lo && x->lineno <= center)
			sel[n++] = x;
	}
	size_t from = n > CLASSIFY_EXCERPT_BEFORE + 1 ? n - (CLASSIFY_EXCERPT_BEFORE + 1) : 0;
	for (size_t i = from; i < n; i++)
		cp->lines[cp->n++] = (struct xline){ sel[i]->lineno, dd_xstrdup(sel[i]->text) };
	for (size_t k = 0; k < RING; k++) {
		const struct rline *x = &c->ring[(c->ring_pos + k) % RING];
		if (x->used && x->lineno > center && x->lineno <= cp->until && cp->n_after < CLASSIFY_EXCERPT_AFTER) {
			cp->lines[cp->n++] = (struct xline){ x->lineno, dd_xstrdup(x->text) };
			cp->n_after++;
		}
	}
}

static void capture_add(struct capture *cp, const struct rline *x)
{
	if (!cp->center || x->lineno <= cp->center || x->lineno > cp->until || cp->n_after >= CLASSIFY_EXCERPT_AFTER)
		return;
	cp->lines[cp->n++] = (struct xline){ x->lineno, dd_xstrdup(x->text) };
	cp->n_after++;
}

static void hit_clear(struct hit *h)
{
	free(h->msg);
	for (size_t i = 0; i < h->n_ent; i++)
		free(h->ent_val[i]);
	capture_clear(&h->cap);
	memset(h, 0, sizeof(*h));
}

struct classify *classify_new(const struct pat_library *lib, const char *input_name)
{
	struct classify *c = dd_xcalloc(1, sizeof(*c));
	c->lib = lib;
	c->input = dd_xstrdup(input_name ? input_name : "-");
	c->reader = logreader_new();
	c->matcher = pat_matcher_new(lib);
	c->tbp = tbparser_new();
	c->champ = -1;
	c->n_pats = pat_library_count(lib);
	c->last_hit_line = dd_xcalloc(c->n_pats ? c->n_pats : 1, sizeof(size_t));
	return c;
}

void classify_free(struct classify *c)
{
	if (!c)
		return;
	free(c->input);
	logreader_free(c->reader);
	pat_matcher_free(c->matcher);
	tbparser_free(c->tbp);
	for (size_t i = 0; i < HIT_SLOTS; i++)
		hit_clear(&c->slots[i]);
	capture_clear(&c->tb_cap);
	capture_clear(&c->fail_cap);
	free(c->last_hit_line);
	dd_strv_release(&c->warnings);
	dd_buf_release(&c->bmsg);
	dd_buf_release(&c->braw);
	free(c->bl);
	free(c->starts);
	free(c);
}

/* ---------------------------------------------------------------- streaming */

static int better_raw(const struct hit *a, const struct hit *b)
{
	/* is a a better champion than b (confidence only, later wins ties)? */
	if (a->p->confidence != b->p->confidence)
		return a->p->confidence > b->p->confidence;
	return a->line >= b->line;
}

static int free_slot(struct classify *c)
{
	for (int i = 0; i < HIT_SLOTS; i++)
		if (!c->slots[i].in_ring && !c->slots[i].is_champ)
			return i;
	return -1;   /* cannot happen: HIT_SLOTS > ring + champion */
}

static void record_hit(struct classify *c, const struct pat_match *m)
{
	const struct dd_logline *ln = c->cur;
	if (m->pattern->index < c->n_pats)
		c->last_hit_line[m->pattern->index] = ln->lineno;

	/* the ring of recent hits: evict the oldest */
	if (c->n_ring_hits == CLASSIFY_MAX_HITS) {
		int old = c->ring_hits[c->ring_hits_pos];
		c->slots[old].in_ring = 0;
		if (!c->slots[old].is_champ)
			hit_clear(&c->slots[old]);
	}
	int s = free_slot(c);
	if (s < 0)
		return;
	struct hit *h = &c->slots[s];
	hit_clear(h);
	h->used = 1;
	h->p = m->pattern;
	h->line = ln->lineno;
	h->msg = cap_copy(ln->msg, ln->msg_len, HIT_MSG_MAX);
	for (size_t i = 0; i < m->n_ent; i++) {
		h->ent_name[h->n_ent] = (char *)m->ent[i].name;
		h->ent_val[h->n_ent] = cap_copy(m->ent[i].value, m->ent[i].len, 512);
		h->n_ent++;
	}
	capture_start(c, &h->cap, ln->lineno);
	if (c->n_ring_hits == CLASSIFY_MAX_HITS) {
		c->ring_hits[c->ring_hits_pos] = s;
		c->ring_hits_pos = (c->ring_hits_pos + 1) % CLASSIFY_MAX_HITS;
	} else {
		c->ring_hits[c->n_ring_hits++] = s;
	}
	h->in_ring = 1;
	if (c->champ < 0 || better_raw(h, &c->slots[c->champ])) {
		if (c->champ >= 0) {
			struct hit *old = &c->slots[c->champ];
			old->is_champ = 0;
			if (!old->in_ring)
				hit_clear(old);
		}
		c->champ = s;
		h->is_champ = 1;
	}
}

static void note_retry(struct classify *c, size_t line)
{
	if (c->last_retry_line == line)
		return;   /* one line, one piece of evidence */
	c->last_retry_line = line;
	c->retries++;
	if (c->n_retry_lines < CLASSIFY_MAX_RETRY_LINES)
		c->retry_lines[c->n_retry_lines++] = line;
}

static void note_failure(struct classify *c, int terminal)
{
	if (terminal)
		c->last_terminal = -1;
	c->failed_in_try = 1;
	c->last_fail_line = c->cur->lineno;
	capture_start(c, &c->fail_cap, c->cur->lineno);
}

/* Airflow 3 supervisor: {"final_state": "success", "event": "Task finished", ...} */
static void a3_finished(struct classify *c)
{
	const struct dd_logline *ln = c->cur;
	if (!ln->raw || ln->raw_len == 0 || ln->raw[0] != '{')
		return;
	cJSON *j = cJSON_ParseWithLength(ln->raw, ln->raw_len);
	if (!j)
		return;
	const cJSON *fs = cJSON_GetObjectItemCaseSensitive(j, "final_state");
	if (cJSON_IsString(fs)) {
		const char *v = fs->valuestring;
		if (!strcmp(v, "success") || !strcmp(v, "skipped")) {
			c->last_terminal = 1;
		} else if (!strcmp(v, "up_for_retry")) {
			note_failure(c, 1);
			note_retry(c, ln->lineno);
		} else if (!strcmp(v, "failed") || !strcmp(v, "upstream_failed") || !strcmp(v, "removed")) {
			note_failure(c, 1);
		}
	}
	cJSON_Delete(j);
}

static int on_match(const struct pat_match *m, void *ud)
{
	struct classify *c = ud;
	switch (m->pattern->tag) {
	case 0:
		record_hit(c, m);
		break;
	case MK_SUCCESS:
		c->last_terminal = 1;
		break;
	case MK_RC0:
		if (!c->failed_in_try)
			c->last_terminal = 1;
		break;
	case MK_FAILED:
		note_failure(c, 1);
		break;
	case MK_RETRY:
		note_failure(c, 1);
		note_retry(c, c->cur->lineno);
		break;
	case MK_RETRY_EVIDENCE:
		note_retry(c, c->cur->lineno);
		break;
	case MK_START:
		c->failed_in_try = 0;
		break;
	case MK_A3_FINISHED:
		a3_finished(c);
		break;
	case MK_FAILURE_NOTE:
		note_failure(c, 0);
		break;
	default:
		break;
	}
	return 0;
}

static void ring_push(struct classify *c, const struct dd_logline *ln)
{
	struct rline *x = &c->ring[c->ring_pos];
	const char *t = ln->raw ? ln->raw : ln->msg;
	size_t len = ln->raw ? ln->raw_len : ln->msg_len;
	x->lineno = ln->lineno;
	x->used = 1;
	if (len > CLASSIFY_EXCERPT_LINE_MAX) {
		/* cut on a UTF-8 boundary and mark the cut */
		size_t cut = CLASSIFY_EXCERPT_LINE_MAX;
		while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(x->text, t, cut);
		memcpy(x->text + cut, "...", 4);
	} else {
		memcpy(x->text, t, len);
		x->text[len] = 0;
	}
	c->ring_pos = (c->ring_pos + 1) % RING;
	if (ln->lineno > c->max_until)
		return;
	/* feed ongoing captures */
	for (size_t i = 0; i < HIT_SLOTS; i++)
		if (c->slots[i].used && c->slots[i].cap.until >= ln->lineno)
			capture_add(&c->slots[i].cap, x);
	capture_add(&c->tb_cap, x);
	capture_add(&c->fail_cap, x);
}

static void check_new_traceback(struct classify *c)
{
	const struct dd_traceback *tb = tbparser_last(c->tbp);
	if (!tb || (tb == c->seen_tb && tb->exc_line == c->seen_tb_exc))
		return;
	c->seen_tb = tb;
	c->seen_tb_exc = tb->exc_line;
	capture_start(c, &c->tb_cap, tb->exc_line);
}

static void process_line(struct classify *c, const struct dd_logline *ln, size_t batch_index)
{
	c->n_lines++;
	c->cur = ln;
	ring_push(c, ln);
	tbparser_line(c->tbp, ln);
	check_new_traceback(c);
	int rc = pat_batch_line(c->matcher, batch_index, ln->msg, ln->msg_len, on_match, c);
	if (rc > 0) {
		c->n_limit_lines++;
		if (c->warnings.n < CLASSIFY_MAX_WARNINGS - 1)
			dd_strv_push_owned(&c->warnings,
			                   dd_xasprintf("line %zu: pattern %s hit the PCRE2 match limit; treated as no match",
			                                ln->lineno, pat_matcher_last_limit(c->matcher)));
	}
	c->cur = NULL;
}

/* One prefilter pass over the batch, then every line in order. */
static void flush_batch(struct classify *c)
{
	if (!c->n_bl)
		return;
	DD_GROW(c->starts, c->cap_starts, c->n_bl);
	for (size_t i = 0; i < c->n_bl; i++)
		c->starts[i] = c->bl[i].msg_off;
	pat_batch_scan(c->matcher, c->bmsg.data, c->bmsg.len, c->starts, c->n_bl);
	for (size_t i = 0; i < c->n_bl; i++) {
		const struct bline *b = &c->bl[i];
		struct dd_logline ln = {
			.msg = c->bmsg.data + b->msg_off,
			.msg_len = b->msg_len,
			.raw = b->has_raw ? c->braw.data + b->raw_off : NULL,
			.raw_len = b->has_raw ? b->raw_len : 0,
			.lineno = b->lineno,
			.level = b->level,
			.ts_ms = b->ts_ms,
		};
		process_line(c, &ln, i);
	}
	c->n_bl = 0;
	dd_buf_reset(&c->bmsg);
	dd_buf_reset(&c->braw);
}

static int on_line(const struct dd_logline *ln, void *ud)
{
	struct classify *c = ud;
	DD_GROW(c->bl, c->cap_bl, c->n_bl + 1);
	struct bline *b = &c->bl[c->n_bl++];
	b->lineno = ln->lineno;
	b->level = ln->level;
	b->ts_ms = ln->ts_ms;
	b->msg_off = c->bmsg.len;
	b->msg_len = ln->msg_len;
	dd_buf_add(&c->bmsg, ln->msg, ln->msg_len);
	dd_buf_addch(&c->bmsg, '\n');
	b->has_raw = ln->raw != NULL;
	b->raw_off = c->braw.len;
	b->raw_len = ln->raw ? ln->raw_len : 0;
	if (ln->raw)
		dd_buf_add(&c->braw, ln->raw, ln->raw_len);
	if (c->bmsg.len + c->braw.len >= BATCH_BYTES || c->n_bl >= BATCH_LINES)
		flush_batch(c);
	return 0;
}

int classify_feed(struct classify *c, const char *data, size_t len, struct dd_error *err)
{
	c->n_bytes += len;
	return logreader_feed(c->reader, data, len, on_line, c, err);
}

/* ---------------------------------------------------------------- result */

static size_t msg_extra_lines(const struct dd_traceback *tb)
{
	size_t n = 0;
	for (const char *s = tb->exc_message; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Is `line` inside traceback tb (frames .. end of exception message)? */
static int in_traceback(const struct dd_traceback *tb, size_t line)
{
	return line >= tb->first_line && line <= tb->exc_line + msg_extra_lines(tb);
}

static int on_exc_line(const struct dd_traceback *tb, size_t line)
{
	return line >= tb->exc_line && line <= tb->exc_line + msg_extra_lines(tb);
}

static double hit_score(struct classify *c, const struct hit *h)
{
	double s = h->p->confidence;
	const struct dd_traceback *last = tbparser_last(c->tbp);
	if (last && on_exc_line(last, h->line))
		return s + CLASSIFY_W_DECISIVE;
	size_t n = tbparser_count(c->tbp);
	for (size_t i = 0; i < n; i++) {
		const struct dd_traceback *tb = tbparser_get(c->tbp, i);
		if (tb && tb != last && on_exc_line(tb, h->line))
			return s + CLASSIFY_W_TB_EXC;
	}
	return s;
}

/* Is candidate a better primary than b? */
static int better_primary(struct classify *c, const struct hit *a, const struct hit *b)
{
	double sa = hit_score(c, a), sb = hit_score(c, b);
	if (sa > sb + 1e-9)
		return 1;
	if (sb > sa + 1e-9)
		return 0;
	if (a->line != b->line)
		return a->line > b->line;
	if (a->p->confidence != b->p->confidence)
		return a->p->confidence > b->p->confidence;
	return a->p->index < b->p->index;
}

static void set_entity(struct dd_failure *f, const char *name, const char *value)
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

/* Entities the primary hit lacks, taken from the other hits of its
 * category, newest line first: a sensor's timeout line does not name the
 * DAG it waited on, but its earlier poke lines do. */
static void merge_category_entities(const struct classify *c, const struct hit *best, struct dd_failure *f)
{
	unsigned char done[HIT_SLOTS] = { 0 };

	for (;;) {
		const struct hit *next = NULL;
		int at = -1;

		for (int i = 0; i < HIT_SLOTS; i++) {
			const struct hit *h = &c->slots[i];

			if (done[i] || h == best || !h->used || (!h->in_ring && !h->is_champ) ||
			    strcmp(h->p->category, best->p->category))
				continue;
			if (!next || h->line > next->line) {
				next = h;
				at = i;
			}
		}
		if (!next)
			return;
		done[at] = 1;
		for (size_t i = 0; i < next->n_ent; i++)
			if (next->ent_val[i][0])
				set_entity(f, next->ent_name[i], next->ent_val[i]);
	}
}

static const char *lookup_entity(const char *name, void *ud)
{
	return dd_failure_entity(ud, name);
}

static char *redacted(const char *s, size_t max)
{
	struct dd_buf b = DD_BUF_INIT;
	size_t len = strlen(s);
	redact_append(&b, s, len > max ? max : len);
	return dd_buf_detach(&b);
}

static void build_excerpt(struct dd_failure *f, const struct capture *cp)
{
	if (!cp->n)
		return;
	struct dd_redactor *r = redactor_new();
	struct dd_buf b = DD_BUF_INIT;
	for (size_t i = 0; i < cp->n; i++) {
		if (i)
			dd_buf_addch(&b, '\n');
		redactor_line(r, &b, cp->lines[i].text, strlen(cp->lines[i].text));
	}
	redactor_free(r);
	f->excerpt = dd_buf_detach(&b);
	f->excerpt_first = cp->lines[0].lineno;
}

/* The innermost frame under site-packages that is not the orchestrator. */
static const char *innermost_package(const struct dd_traceback *tb)
{
	for (size_t i = tb->n_frames; i-- > 0;) {
		const struct dd_frame *fr = &tb->frames[i];
		if (fr->package && fr->kind == DD_FRAME_LIBRARY)
			return fr->package;
	}
	return NULL;
}

/* "pkg.ExcType: message" on one line (a matched line outside a traceback). */
static void split_exception_line(const char *msg, char **type, char **message)
{
	size_t i = 0;
	while (msg[i] && (isalnum((unsigned char)msg[i]) || msg[i] == '_' || msg[i] == '.'))
		i++;
	if (i > 0 && (msg[i] == ':' || msg[i] == 0) && !isdigit((unsigned char)msg[0])) {
		size_t len = i;
		const char *base = msg;
		for (size_t k = 0; k < len; k++)
			if (msg[k] == '.')
				base = msg + k + 1;
		size_t blen = len - (size_t)(base - msg);
		static const char *const suffix[] = { "Error", "Exception", "Exit", "Interrupt", "Timeout",
		                                      "Failure", "Warning", "Killed", "Abort", NULL };
		for (size_t s = 0; suffix[s]; s++) {
			size_t sl = strlen(suffix[s]);
			if (blen >= sl && memmem(base, blen, suffix[s], sl)) {
				*type = dd_xstrndup(msg, len);
				const char *rest = msg + i;
				if (*rest == ':')
					rest++;
				while (*rest == ' ')
					rest++;
				*message = redacted(rest, 8192);
				return;
			}
		}
	}
	*type = NULL;
	*message = redacted(msg, 8192);
}

static void fill_from_traceback(struct dd_failure *f, const struct dd_traceback *tb)
{
	f->exc_type = dd_xstrdup(tb->exc_type);
	f->exc_message = redacted(tb->exc_message ? tb->exc_message : "", 8192);
	f->fingerprint = dd_fingerprint(tb->exc_type, tb->exc_message, traceback_top_app_frame(tb), NULL);
}

int classify_finish(struct classify *c, struct dd_failure *f, struct dd_error *err)
{
	memset(f, 0, sizeof(*f));
	if (c->finished)
		return dd_error_set(err, DD_ERR, "classify_finish called twice");
	c->finished = 1;
	int rc = logreader_finish(c->reader, on_line, c, err);
	flush_batch(c);
	tbparser_finish(c->tbp);
	if (rc < 0)
		return rc;
	/* a traceback completed by finish: capture from the ring */
	const struct dd_traceback *last = tbparser_last(c->tbp);
	if (last && (last != c->seen_tb || last->exc_line != c->seen_tb_exc)) {
		c->seen_tb = last;
		c->seen_tb_exc = last->exc_line;
		capture_start(c, &c->tb_cap, last->exc_line);
	}

	f->input = dd_xstrdup(c->input);
	f->format = logparse_format_name(logreader_format(c->reader));
	f->n_lines = c->n_lines;
	f->n_bytes = c->n_bytes;
	f->retries = c->retries;
	memcpy(f->retry_lines, c->retry_lines, sizeof(f->retry_lines));
	f->n_retry_lines = c->n_retry_lines;
	f->success = c->last_terminal == 1;
	for (size_t i = 0; i < c->warnings.n; i++)
		dd_strv_push(&f->warnings, c->warnings.v[i]);
	if (c->n_limit_lines > c->warnings.n)
		dd_strv_push_owned(&f->warnings, dd_xasprintf("%zu lines hit the PCRE2 match limit in all; treated as no match",
		                                              c->n_limit_lines));

	/* the primary hit */
	const struct hit *best = NULL;
	for (int i = 0; i < HIT_SLOTS; i++) {
		const struct hit *h = &c->slots[i];
		if (!h->used || (!h->in_ring && !h->is_champ))
			continue;
		if (!best || better_primary(c, h, best))
			best = h;
	}
	int failure_seen = best || last || c->last_terminal == -1 || c->failed_in_try;

	if (f->success || !failure_seen) {
		f->category = dd_xstrdup("none");
		best = NULL;
	} else if (best) {
		f->category = dd_xstrdup(best->p->category);
		f->pattern = dd_xstrdup(best->p->id);
		f->title = dd_xstrdup(best->p->title);
		f->confidence = best->p->confidence;
		for (size_t i = 0; i < best->n_ent; i++)
			if (best->ent_val[i][0])
				set_entity(f, best->ent_name[i], best->ent_val[i]);
		merge_category_entities(c, best, f);
		/* which traceback explains it */
		const struct dd_traceback *tb = NULL;
		size_t n = tbparser_count(c->tbp);
		for (size_t i = n; i-- > 0;) {
			const struct dd_traceback *t = tbparser_get(c->tbp, i);
			if (t && in_traceback(t, best->line)) {
				tb = t;
				break;
			}
		}
		if (tb) {
			fill_from_traceback(f, tb);
			f->line_first = tb->first_line;
			f->line_last = tb->exc_line + msg_extra_lines(tb);
		} else if (last && best->line < last->first_line) {
			/* a cause logged before the traceback it led to */
			tb = last;
			fill_from_traceback(f, tb);
			f->line_first = f->line_last = best->line;
		} else {
			const char *ex = NULL;
			for (size_t i = 0; i < best->n_ent; i++)
				if (!strcmp(best->ent_name[i], "exception"))
					ex = best->ent_val[i];
			split_exception_line(best->msg, &f->exc_type, &f->exc_message);
			if (ex && !f->exc_type)
				f->exc_type = dd_xstrdup(ex);
			f->fingerprint = dd_fingerprint(f->exc_type ? f->exc_type : best->p->id, best->msg, NULL, NULL);
			f->line_first = f->line_last = best->line;
		}
		if (tb) {
			const char *pkg = innermost_package(tb);
			if (pkg)
				set_entity(f, "package", pkg);
		}
		if (f->exc_type)
			set_entity(f, "exception", f->exc_type);
		build_excerpt(f, &best->cap);
		struct dd_buf b = DD_BUF_INIT;
		for (size_t i = 0; i < best->p->checks.n; i++) {
			pat_fill(&b, best->p->checks.v[i], lookup_entity, f);
			dd_strv_push_owned(&f->checks, dd_buf_detach(&b));
		}
		for (size_t i = 0; i < best->p->fix.n; i++) {
			pat_fill(&b, best->p->fix.v[i], lookup_entity, f);
			dd_strv_push_owned(&f->fix, dd_buf_detach(&b));
		}
		dd_buf_release(&b);
	} else {
		f->category = dd_xstrdup("unknown");
		if (last) {
			fill_from_traceback(f, last);
			f->line_first = last->first_line;
			f->line_last = last->exc_line + msg_extra_lines(last);
			const char *pkg = innermost_package(last);
			if (pkg)
				set_entity(f, "package", pkg);
			set_entity(f, "exception", last->exc_type);
			build_excerpt(f, &c->tb_cap);
		} else {
			f->line_first = f->line_last = c->last_fail_line;
			build_excerpt(f, &c->fail_cap);
			const struct capture *cp = &c->fail_cap;
			for (size_t i = 0; i < cp->n; i++)
				if (cp->lines[i].lineno == c->last_fail_line && !f->fingerprint)
					f->fingerprint = dd_fingerprint("", cp->lines[i].text, NULL, NULL);
		}
	}

	/* secondary: every other pattern that matched, by line of its last hit */
	for (size_t i = 0; i < c->n_pats; i++) {
		if (!c->last_hit_line[i])
			continue;
		const struct pat_pattern *p = pat_library_get(c->lib, i);
		if (best && p == best->p)
			continue;
		f->secondary = dd_xrealloc(f->secondary, (f->n_secondary + 1) * sizeof(*f->secondary));
		f->secondary[f->n_secondary++] = (struct dd_hitref){ dd_xstrdup(p->id), dd_xstrdup(p->category),
		                                                     c->last_hit_line[i] };
	}
	/* keep the latest CLASSIFY_MAX_SECONDARY, in line order */
	for (size_t i = 1; i < f->n_secondary; i++)
		for (size_t k = i; k > 0 && f->secondary[k - 1].line > f->secondary[k].line; k--) {
			struct dd_hitref t = f->secondary[k];
			f->secondary[k] = f->secondary[k - 1];
			f->secondary[k - 1] = t;
		}
	if (f->n_secondary > CLASSIFY_MAX_SECONDARY) {
		size_t drop = f->n_secondary - CLASSIFY_MAX_SECONDARY;
		for (size_t i = 0; i < drop; i++) {
			free(f->secondary[i].pattern);
			free(f->secondary[i].category);
		}
		memmove(f->secondary, f->secondary + drop, CLASSIFY_MAX_SECONDARY * sizeof(*f->secondary));
		f->n_secondary = CLASSIFY_MAX_SECONDARY;
	}
	return 0;
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
	dd_strv_release(&f->warnings);
	memset(f, 0, sizeof(*f));
}

/* ---------------------------------------------------------------- helpers */

int classify_buffer(const struct pat_library *lib, const char *name, const char *data, size_t len,
                    struct dd_failure *out, struct dd_error *err)
{
	struct classify *c = classify_new(lib, name);
	int rc = classify_feed(c, data, len, err);
	if (rc == 0)
		rc = classify_finish(c, out, err);
	else
		memset(out, 0, sizeof(*out));
	classify_free(c);
	return rc;
}

int classify_file(const struct pat_library *lib, const char *path, struct dd_failure *out, struct dd_error *err)
{
	int stdin_input = !strcmp(path, "-");
	int fd = stdin_input ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return dd_error_set(err, DD_EIO, "cannot read %s: %s; check the path and its permissions", path,
		                    strerror(errno));
	struct classify *c = classify_new(lib, path);
	size_t bufsz = 1 << 20;
	char *buf = dd_xmalloc(bufsz);
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, bufsz);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = dd_error_set(err, DD_EIO, "cannot read %s: %s; check the path and its permissions", path,
			                  strerror(errno));
			break;
		}
		if (n == 0)
			break;
		rc = classify_feed(c, buf, (size_t)n, err);
		if (rc < 0)
			break;
	}
	free(buf);
	if (!stdin_input)
		close(fd);
	if (rc == 0)
		rc = classify_finish(c, out, err);
	classify_free(c);
	return rc;
}

/* ---------------------------------------------------------------- JSON */

struct cJSON *dd_failure_to_json(const struct dd_failure *f)
{
	cJSON *o = cJSON_CreateObject();
	jsonout_str(o, "input", f->input);
	jsonout_str(o, "category", f->category);
	jsonout_str(o, "pattern", f->pattern);
	jsonout_str(o, "title", f->title);
	cJSON_AddNumberToObject(o, "confidence", f->confidence);
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
	return o;
}
