/*
 * classify.c - one log in, one failure out (see classify.h).
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "dagdoc/classify.h"
#include "dagdoc/knowledge.h"
#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"

#include "classify_impl.h"

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
	MK_ERROR_SIGN,    /* a line that says something went wrong (no verdict on the try) */
	MK_STAGE_PARSE,   /* the DAG / flow file is being loaded */
	MK_STAGE_SCHEDULE,/* the run is being submitted, queued, its pod started */
	MK_STAGE_RUN,     /* the task's own code starts */
	MK_STAGE_TEARDOWN,/* callbacks, log upload after the task */
	MK_CONTEXT,       /* names the task / DAG the log belongs to */
	MK_RESCHEDULE,    /* a sensor gave up this try to poke again later: waiting, not done */
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
	/* signs of an error in any log: what makes "none" wrong */
	{ MK_ERROR_SIGN, "^(?:ERROR|FATAL|CRITICAL|Error|Fatal)\\b" },
	{ MK_ERROR_SIGN, "^[A-Za-z_][\\w.]*(?:Error|Exception|Exit|Failure|Interrupt|Fault)(?::|$)" },
	{ MK_ERROR_SIGN, "\\bProcess timed out\\b|^Failed to import\\b|^Broken DAG\\b|^Killed$|\\bSegmentation fault\\b|"
	                 "Traceback \\(most recent call last\\):$" },
	{ MK_ERROR_SIGN, "\\b(?:exit(?:ed)?|return(?:ed)?|terminated) (?:with )?(?:exit |return )?(?:code|status)\\b[:= ]*"
	                 "-?[1-9]\\d*\\b(?! \\(task deferral\\))" },
	{ MK_ERROR_SIGN, "\\breturned non-zero exit status\\b|\\bcore dumped\\b" },
	/* where in a run's life a line is (Airflow's and Prefect's own messages) */
	{ MK_STAGE_PARSE, "^Started process \\(PID=\\d+\\) to work on\\b|^Processing file \\S+ for tasks to queue|"
	                  "^Filling up the DagBag from\\b|^Failed to import:? |^Broken DAG\\b|^Failed to bag_dag\\b|"
	                  "^No viable dags retrieved\\b|\\bDagBag import timeout\\b|dagbag_import_timeout" },
	{ MK_STAGE_PARSE, "^Downloading flow code from storage\\b|^Flow could not be retrieved from deployment\\b|"
	                  "^Script at '[^']*' encountered an exception|^Importing flow code from\\b" },
	{ MK_STAGE_SCHEDULE, "^Failed to submit flow run\\b|^Worker '[^']*' submitting flow run\\b|\\bPod never started\\b|"
	                     "\\bhas been in queued state for\\b|\\bfinished \\(failed\\) although the task says it's queued\\b" },
	{ MK_STAGE_RUN, "^Starting attempt \\d+ of \\d+|^Executing <Task\\(|^Running <TaskInstance: |^Running command: |"
	                "^Beginning flow run\\b|^Created task run\\b|^Executing '[^']*' immediately|^Executing flow\\b" },
	/* which task the log is of (Airflow's own lines) */
	{ MK_RESCHEDULE, "^Rescheduling task, marking task as UP_FOR_RESCHEDULE\\b|^Marking task as UP_FOR_RESCHEDULE\\b" },
	{ MK_CONTEXT, "^Executing <Task\\([\\w.]+\\): (?<task>[\\w.-]+)>" },
	{ MK_CONTEXT, "^Marking task as [A-Z_]+\\. dag_id=(?<dag>[\\w.-]+), task_id=(?<task>[\\w.-]+)" },
	{ MK_STAGE_TEARDOWN, "^Error when executing \\w+ callback\\b|^Error when executing on_\\w+_callback\\b|"
	                     "\\bFailed to (?:upload|write|send) (?:remote )?(?:task )?logs?\\b|^Could not write logs to\\b" },
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

/* knowledge/ beside the given pattern directory, else the built-in one. */
static char *knowledge_dir(const char *builtin_dir)
{
	if (builtin_dir) {
		char *sib = dd_xasprintf("%s/../knowledge", builtin_dir);
		char *real = realpath(sib, NULL);

		free(sib);
		if (real)
			return real;
	}
	return kb_builtin_dir();
}

int classify_library_load(const char *builtin_dir, const struct dd_strv *user_dirs,
                          struct pat_library **out, struct dd_strv *problems, struct dd_error *err)
{
	char *kdir = knowledge_dir(builtin_dir);
	struct kb *kb = NULL;
	int rc;

	*out = NULL;
	if (!kdir)
		return dd_error_set(err, DD_ENOTFOUND, "cannot find the knowledge directory (knowledge/ beside "
		                    "patterns/); set DAGDOC_KNOWLEDGE_DIR or reinstall dagdoc");
	rc = kb_load(kdir, &kb, problems, err);
	free(kdir);
	if (rc >= 0)
		rc = pat_library_load(builtin_dir, user_dirs, classify_add_markers, out, problems, err);
	if (rc < 0) {
		kb_free(kb);
		if (problems && problems->n)
			dd_error_set(err, rc, "%zu problem%s in the pattern library; fix %s and run again",
			             problems->n, problems->n == 1 ? "" : "s", problems->n == 1 ? "it" : "them");
		return rc;
	}
	pat_library_set_knowledge(*out, kb);
	return 0;
}

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
	for (size_t i = 0; i < TB_CAPTURES; i++)
		capture_clear(&c->tb_cap[i]);
	capture_clear(&c->fail_cap);
	capture_clear(&c->sign_cap);
	dd_buf_release(&c->sign_msg);
	for (size_t i = 0; i < NOTABLE; i++)
		free(c->notable[i]);
	free(c->ctx_task);
	free(c->ctx_dag);
	free(c->last_hit_line);
	dd_strv_release(&c->warnings);
	dd_buf_release(&c->bmsg);
	dd_buf_release(&c->bmatch);
	dd_buf_release(&c->braw);
	dd_buf_release(&c->ev.text);
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

static void note_error_sign(struct classify *c)
{
	if (c->last_error_sign == c->cur->lineno)
		return;
	c->n_error_signs++;
	c->last_error_sign = c->cur->lineno;
	capture_start(c, &c->sign_cap, c->cur->lineno);
	dd_buf_reset(&c->sign_msg);
	if (c->cur_m)
		dd_buf_add(&c->sign_msg, c->cur_m, c->cur_mlen > HIT_MSG_MAX ? HIT_MSG_MAX : c->cur_mlen);
}

static void note_stage(struct classify *c, const char *stage)
{
	size_t i = c->n_stage_marks % STAGE_MARKS;

	if (c->n_stage_marks && c->stage_marks[(c->n_stage_marks - 1) % STAGE_MARKS].stage == stage)
		i = (c->n_stage_marks - 1) % STAGE_MARKS;   /* the same stage again: move its mark */
	else
		c->n_stage_marks++;
	c->stage_marks[i].line = c->cur->lineno;
	c->stage_marks[i].stage = stage;
}

static int on_match(const struct pat_match *m, void *ud)
{
	struct classify *c = ud;
	if (c->matching_event) {
		/* a joined text: only what no single line of it matched */
		size_t at = m->pattern->index < c->n_pats ? c->last_hit_line[m->pattern->index] : 0;
		if (m->pattern->tag == 0 && !(at >= c->cur->lineno && at <= c->ev.last))
			record_hit(c, m);
		return 0;
	}
	switch (m->pattern->tag) {
	case 0:
		record_hit(c, m);
		break;
	case MK_ERROR_SIGN:
		note_error_sign(c);
		break;
	case MK_STAGE_PARSE: note_stage(c, "parse"); break;
	case MK_STAGE_SCHEDULE: note_stage(c, "schedule"); break;
	case MK_STAGE_RUN: note_stage(c, "run"); break;
	case MK_STAGE_TEARDOWN: note_stage(c, "teardown"); break;
	case MK_CONTEXT:
		for (size_t i = 0; i < m->n_ent; i++) {
			char **dst = !strcmp(m->ent[i].name, "task") ? &c->ctx_task : &c->ctx_dag;

			free(*dst);
			*dst = cap_copy(m->ent[i].value, m->ent[i].len, CONTEXT_MAX);
		}
		break;
	case MK_SUCCESS:
		c->last_terminal = 1;
		break;
	case MK_RC0:
		if (!c->failed_in_try && c->last_terminal != 2)
			c->last_terminal = 1;
		break;
	case MK_RESCHEDULE:
		c->last_terminal = 2;
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
		if (c->last_terminal == 2)
			c->last_terminal = 0;
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
	for (size_t i = 0; i < TB_CAPTURES; i++)
		capture_add(&c->tb_cap[i], x);
	capture_add(&c->fail_cap, x);
	capture_add(&c->sign_cap, x);
}

/* Matches a joined text as if it were the message of line `first`
 * (through `last`); markers are not counted twice. */
static void match_joined(struct classify *c, const char *text, size_t len, size_t first, size_t last)
{
	const struct dd_logline *saved = c->cur;
	struct dd_logline L = { .msg = text, .msg_len = len, .lineno = first };
	size_t saved_last = c->ev.last;

	c->cur = &L;
	c->ev.last = last;
	c->matching_event = 1;
	pat_match_line(c->matcher, text, len, on_match, c);
	c->matching_event = 0;
	c->ev.last = saved_last;
	c->cur = saved;
}

static void check_new_traceback(struct classify *c)
{
	const struct dd_traceback *tb = tbparser_last(c->tbp);
	if (!tb || (tb == c->seen_tb && tb->exc_line == c->seen_tb_exc))
		return;
	c->seen_tb = tb;
	c->seen_tb_exc = tb->exc_line;
	capture_start(c, &c->tb_cap[c->n_tb_cap++ % TB_CAPTURES], tb->exc_line);
	if (tb->exc_message && strchr(tb->exc_message, '\n')) {
		/* a message over several lines: "Type: all of it" as one text */
		struct dd_buf b = DD_BUF_INIT;
		size_t extra = 0;

		dd_buf_adds(&b, tb->exc_type);
		dd_buf_adds(&b, ": ");
		for (const char *s = tb->exc_message; *s; s++) {
			if (*s == '\n') {
				extra++;
				while (b.len && b.data[b.len - 1] == ' ')
					b.len--;
				dd_buf_addch(&b, ' ');
				while (s[1] == ' ' || s[1] == '\t')
					s++;
			} else {
				dd_buf_addch(&b, *s);
			}
		}
		match_joined(c, b.data, b.len, tb->exc_line, tb->exc_line + extra);
		dd_buf_release(&b);
	}
}

#define EV_MAX_LINES 8
#define EV_MAX_BYTES 2048
#define EV_WRAP_MIN 40   /* a plain line this long that stops mid-sentence was wrapped */

static void event_close(struct classify *c)
{
	if (c->ev.n_lines >= 2)
		match_joined(c, c->ev.text.data, c->ev.text.len, c->ev.first, c->ev.last);
	if (c->ev.n_lines >= 3 && c->ev.prefixed)
		/* the lines under a record, a message of their own (a wrapped one) */
		match_joined(c, c->ev.text.data + c->ev.cont_at, c->ev.text.len - c->ev.cont_at, c->ev.first + 1,
		             c->ev.last);
	c->ev.n_lines = 0;
	dd_buf_reset(&c->ev.text);
}

/* Adds a line to the open event or starts a new one.  `busy`: the line
 * belongs to a traceback (its own structure, not prose). */
static void event_line(struct classify *c, const struct dd_logline *ln, const char *m, size_t mlen,
                       size_t indent, int busy)
{
	int cont = 0;

	if (c->ev.n_lines && !busy && mlen && c->ev.n_lines < EV_MAX_LINES && c->ev.text.len + mlen < EV_MAX_BYTES) {
		if (ln->flags & DD_LINE_CONT)
			cont = 1;
		else if (ln->level == 0)
			cont = c->ev.prefixed || (c->ev.open_end && c->ev.last_len >= EV_WRAP_MIN && indent == c->ev.indent);
	}
	if (!cont) {
		event_close(c);
		if (busy || !mlen)
			return;
		c->ev.first = ln->lineno;
		c->ev.prefixed = ln->level > 0;
		c->ev.indent = indent;
	} else {
		dd_buf_addch(&c->ev.text, ' ');
		if (c->ev.n_lines == 1)
			c->ev.cont_at = c->ev.text.len;
	}
	dd_buf_add(&c->ev.text, m, mlen);
	c->ev.n_lines++;
	c->ev.last = ln->lineno;
	c->ev.open_end = !(m[mlen - 1] == '.' || m[mlen - 1] == '!' || m[mlen - 1] == '?');
	c->ev.last_len = mlen;
}

static void process_line(struct classify *c, const struct dd_logline *ln, const char *m, size_t mlen,
                         size_t batch_index)
{
	c->n_lines++;
	c->cur = ln;
	ring_push(c, ln);
	tbparser_line(c->tbp, ln);
	check_new_traceback(c);
	event_line(c, ln, m, mlen, (size_t)(m - ln->msg), tbparser_busy(c->tbp));
	c->cur = ln;
	c->cur_m = m;
	c->cur_mlen = mlen;
	int rc = pat_batch_line(c->matcher, batch_index, m, mlen, on_match, c);
	if (rc > 0) {
		c->n_limit_lines++;
		if (c->warnings.n < CLASSIFY_MAX_WARNINGS - 1)
			dd_strv_push_owned(&c->warnings,
			                   dd_xasprintf("line %zu: pattern %s hit the PCRE2 match limit; treated as no match",
			                                ln->lineno, pat_matcher_last_limit(c->matcher)));
	}
	if (ln->level >= 40 && mlen)
		note_error_sign(c);
	if (ln->level >= 30 && mlen) {
		char **slot = &c->notable[c->n_notable++ % NOTABLE];

		free(*slot);
		*slot = cap_copy(m, mlen, HIT_MSG_MAX);
	}
	c->cur = NULL;
	c->cur_m = NULL;
}

/* One prefilter pass over the batch, then every line in order. */
static void flush_batch(struct classify *c)
{
	if (!c->n_bl)
		return;
	DD_GROW(c->starts, c->cap_starts, c->n_bl);
	for (size_t i = 0; i < c->n_bl; i++)
		c->starts[i] = c->bl[i].m_off;
	pat_batch_scan(c->matcher, c->bmatch.data, c->bmatch.len, c->starts, c->n_bl);
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
			.flags = b->flags,
		};
		process_line(c, &ln, c->bmsg.data + b->m_off, b->m_len, i);
	}
	c->n_bl = 0;
	dd_buf_reset(&c->bmsg);
	dd_buf_reset(&c->bmatch);
	dd_buf_reset(&c->braw);
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

static int on_line(const struct dd_logline *ln, void *ud)
{
	struct classify *c = ud;
	size_t lead = 0, len = ln->msg_len;

	while (lead < len && is_blank(ln->msg[lead]))
		lead++;
	while (len > lead && is_blank(ln->msg[len - 1]))
		len--;
	DD_GROW(c->bl, c->cap_bl, c->n_bl + 1);
	struct bline *b = &c->bl[c->n_bl++];
	b->lineno = ln->lineno;
	b->level = ln->level;
	b->flags = ln->flags;
	b->ts_ms = ln->ts_ms;
	/* bmsg and bmatch are laid out alike: the trimmed message sits at the
	 * same offset in bmatch as inside its line in bmsg */
	b->msg_off = c->bmsg.len;
	b->msg_len = ln->msg_len;
	dd_buf_add(&c->bmsg, ln->msg, ln->msg_len);
	dd_buf_addch(&c->bmsg, '\n');
	b->m_off = b->msg_off + lead;
	b->m_len = len - lead;
	while (c->bmatch.len < b->m_off)
		dd_buf_addch(&c->bmatch, '\n');
	dd_buf_add(&c->bmatch, ln->msg + lead, b->m_len);
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

int classify_finish(struct classify *c, struct dd_failure *f, struct dd_error *err)
{
	int rc;

	memset(f, 0, sizeof(*f));
	if (c->finished)
		return dd_error_set(err, DD_ERR, "classify_finish called twice");
	c->finished = 1;
	rc = logreader_finish(c->reader, on_line, c, err);
	flush_batch(c);
	tbparser_finish(c->tbp);
	check_new_traceback(c);   /* one completed by finish */
	event_close(c);
	if (rc < 0)
		return rc;
	return classify_decide(c, f);
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
