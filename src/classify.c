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
#include "dagdoc/knowledge.h"
#include "dagdoc/logparse.h"
#include "dagdoc/redact.h"
#include "dagdoc/structure.h"

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

#define STAGE_MARKS 32       /* recent stage markers kept */
#define CONTEXT_MAX 256      /* bytes kept of a task or DAG id */
#define NOTABLE 6            /* warning/error lines kept for what they name */
#define TB_CAPTURES 4        /* excerpts kept for the last tracebacks */
#define WRAPPER_REACH 200    /* a wrapper traceback reports a failure at most this many lines before it */
#define SPECIFIC 0.6         /* a pattern this confident wins over the structural layer */
#define WRAPPER 0.3          /* a pattern this weak only reports a failure described elsewhere */
#define WRAPPER_LINE 0.2     /* ... and one this weak marks its traceback as a wrapper's */
#define MIN_ALTERNATIVE 0.05 /* a runner-up less likely than this is not worth naming */
#define MIN_ANSWER 0.15      /* a structural answer less sure than this leaves the failure unknown */

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
	if (rc < 0)
		return rc;
	rc = pat_library_load(builtin_dir, user_dirs, classify_add_markers, out, problems, err);
	if (rc < 0) {
		kb_free(kb);
		return rc;
	}
	pat_library_set_knowledge(*out, kb);
	return 0;
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
	unsigned flags;
	int has_raw;
	int64_t ts_ms;
	size_t msg_off, msg_len;    /* the message as the reader gave it (bmsg) */
	size_t m_off, m_len;        /* what patterns see: without surrounding blanks (bmatch) */
	size_t raw_off, raw_len;
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
	struct dd_buf bmsg, bmatch, braw;
	struct bline *bl;
	size_t n_bl, cap_bl;
	size_t *starts;
	size_t cap_starts;
	/* tracebacks */
	const struct dd_traceback *seen_tb;
	size_t seen_tb_exc;
	struct capture tb_cap[TB_CAPTURES];   /* around the exception lines of the last tracebacks */
	size_t n_tb_cap;
	/* markers */
	int last_terminal;       /* 0 none, 1 success, -1 failure, 2 waiting (rescheduled) */
	int failed_in_try;
	size_t last_fail_line;
	struct capture fail_cap;
	size_t retries;
	size_t retry_lines[CLASSIFY_MAX_RETRY_LINES];
	size_t n_retry_lines;
	size_t last_retry_line;
	/* failure evidence that is not a verdict (ERROR lines, error-looking lines) */
	size_t n_error_signs;
	size_t last_error_sign;
	struct capture sign_cap;
	struct dd_buf sign_msg;  /* the last sign's message (capped) */
	char *notable[NOTABLE];  /* the last warning and error messages (capped), a ring */
	size_t n_notable;
	const char *cur_m;       /* the current line's message as patterns see it */
	size_t cur_mlen;
	/* where in a run's life the log is, by line */
	struct {
		size_t line;
		const char *stage;
	} stage_marks[STAGE_MARKS];
	size_t n_stage_marks;
	char *ctx_task, *ctx_dag;   /* the task and DAG the log names */
	/* the logical event being put together: a message and the lines that
	 * continue it (a wrapped sentence, a record's indented lines, the
	 * lines of a multi-line JSON message) */
	struct {
		size_t first, last, n_lines, indent, last_len;
		int prefixed;        /* its first line had a logging level */
		int open_end;        /* its last line does not end a sentence */
		struct dd_buf text;  /* the lines' messages joined by one space */
		size_t cont_at;      /* where its second line starts in text */
	} ev;
	int matching_event;      /* on_match is reporting a joined text */
	const struct dd_traceback *decisive;   /* set by classify_finish */
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

/* Does a wrapper pattern ("Bash command failed", "Process returned
 * non-zero exit status": confidence <= WRAPPER_LINE) match this line? */
static int wrapper_line(const struct classify *c, size_t line)
{
	for (size_t i = 0; i < c->n_pats; i++)
		if (c->last_hit_line[i] == line && pat_library_get(c->lib, i)->confidence <= WRAPPER_LINE)
			return 1;
	return 0;
}

/* The traceback that decides: the last one, unless it is a wrapper (an
 * exception that only reports a failure printed before it, such as
 * "AirflowException: Bash command failed") and a traceback shortly before
 * it says more. */
static const struct dd_traceback *decisive_tb(const struct classify *c)
{
	const struct kb *kb = pat_library_knowledge(c->lib);
	const struct dd_traceback *last = tbparser_last(c->tbp);
	size_t n = tbparser_count(c->tbp);

	for (size_t i = n; i-- > 0;) {
		const struct dd_traceback *t = tbparser_get(c->tbp, i);
		const struct kb_entry *e = kb_exception(kb, t->exc_type);

		if (t != last && t->exc_line + WRAPPER_REACH < last->first_line)
			break;
		if (!(e && e->wrapper) && !wrapper_line(c, t->exc_line))
			return t;
	}
	return last;
}

static const struct capture *tb_capture(const struct classify *c, const struct dd_traceback *tb)
{
	for (size_t i = 0; tb && i < TB_CAPTURES; i++)
		if (c->tb_cap[i].center == tb->exc_line)
			return &c->tb_cap[i];
	return NULL;
}

static double hit_score(struct classify *c, const struct hit *h)
{
	double s = h->p->confidence;
	const struct dd_traceback *dec = c->decisive;
	if (dec && on_exc_line(dec, h->line))
		return s + CLASSIFY_W_DECISIVE;
	size_t n = tbparser_count(c->tbp);
	for (size_t i = 0; i < n; i++) {
		const struct dd_traceback *tb = tbparser_get(c->tbp, i);
		if (tb && tb != dec && on_exc_line(tb, h->line))
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

/* Where in a run's life the failure at `line` happened. */
static const char *decide_stage(const struct classify *c, const struct hit *best, const struct dd_traceback *tb,
                                size_t line)
{
	size_t n = c->n_stage_marks < STAGE_MARKS ? c->n_stage_marks : STAGE_MARKS;
	const char *stage = NULL;
	size_t at = 0;

	/* the frames know: the DAG processor or Prefect's flow loader on the stack */
	for (size_t i = 0; tb && i < tb->n_frames; i++) {
		const char *file = tb->frames[i].file ? tb->frames[i].file : "";
		const char *fn = tb->frames[i].func ? tb->frames[i].func : "";

		if (tb->frames[i].kind == DD_FRAME_ORCHESTRATOR &&
		    (strstr(file, "/dagbag.py") || strstr(file, "/dag_processing/") ||
		     !strcmp(fn, "load_flow_from_entrypoint") || !strcmp(fn, "load_script_as_module") ||
		     !strcmp(fn, "load_flow_from_script")))
			return "parse";
	}
	/* a pattern that knows where its failure happens ("could not be found;
	 * ... failed to parse") outranks the run's earlier markers */
	if (best && best->p->stage)
		return best->p->stage;
	for (size_t i = 0; i < n; i++) {
		size_t k = (c->n_stage_marks - n + i) % STAGE_MARKS;

		if (c->stage_marks[k].line <= line && c->stage_marks[k].line >= at) {
			at = c->stage_marks[k].line;
			stage = c->stage_marks[k].stage;
		}
	}
	return stage ? stage : "run";
}

/* Checks and fixes with every {placeholder} filled; a line whose
 * placeholder has no value is left out. */
static void fill_lines(struct dd_strv *out, const struct dd_strv *tmpl, struct dd_failure *f, int drop_unfilled)
{
	struct dd_buf b = DD_BUF_INIT;

	for (size_t i = 0; tmpl && i < tmpl->n; i++) {
		pat_fill(&b, tmpl->v[i], lookup_entity, f);
		if (drop_unfilled) {
			int open = 0;

			for (const char *t = b.data; t && *t; t++)
				if (*t == '{' && (t[1] == '_' || dd_is_alpha((unsigned char)t[1])) && t[-(t > b.data)] != '$')
					open = 1;
			if (open) {
				dd_buf_reset(&b);
				continue;
			}
		}
		dd_strv_push_owned(out, dd_buf_detach(&b));
	}
	dd_buf_release(&b);
}

/* The "package" entity names the distribution pip knows ("scikit-learn",
 * not "sklearn"; "apache-airflow-providers-cncf-kubernetes", not
 * "airflow.providers.cncf.kubernetes"); the import name stays as "module". */
static void normalize_package(const struct kb *kb, struct dd_failure *f)
{
	for (size_t i = 0; i < f->n_entities; i++) {
		char *dist = NULL;

		if (strcmp(f->entities[i].name, "package"))
			continue;
		if (kb_distribution(kb, f->entities[i].value, &dist) == 1 && dist &&
		    strcmp(dist, f->entities[i].value)) {
			struct dd_buf norm = DD_BUF_INIT;

			kb_normalize_name(f->entities[i].value, &norm);
			if (!norm.data || strcmp(norm.data, dist))   /* a real rename, not only case */
				set_entity(f, "module", f->entities[i].value);
			free(f->entities[i].value);
			f->entities[i].value = dist;
			dist = NULL;
			dd_buf_release(&norm);
		}
		free(dist);
		return;
	}
}

/* The decisive traceback's frames, and the packages of every traceback's
 * library frames, for analysis and git correlation (no log is read twice). */
static void keep_frames(const struct classify *c, struct dd_failure *f, const struct dd_traceback *dec)
{
	for (size_t i = 0; i < tbparser_count(c->tbp); i++) {
		const struct dd_traceback *tb = tbparser_get(c->tbp, i);

		for (size_t k = 0; k < tb->n_frames; k++)
			if (tb->frames[k].package && !dd_strv_contains(&f->packages, tb->frames[k].package))
				dd_strv_push(&f->packages, tb->frames[k].package);
	}
	if (!dec || !dec->n_frames)
		return;
	f->frames = dd_xcalloc(dec->n_frames, sizeof(*f->frames));
	for (size_t k = 0; k < dec->n_frames; k++) {
		const struct dd_frame *from = &dec->frames[k];
		struct dd_frame *to = &f->frames[k];

		to->file = dd_xstrdup(from->file);
		to->line = from->line;
		to->func = dd_xstrdup(from->func);
		to->package = dd_xstrdup(from->package);
		to->in_app = from->in_app;
		to->kind = from->kind;
		to->source = dd_xstrdup(from->source);
	}
	f->n_frames = dec->n_frames;
}

/* Adds a runner-up cause (not the primary's, not twice). */
static void add_alternative(struct dd_failure *f, const char *category, double confidence, const char *source)
{
	size_t i;

	if (!category || !strcmp(category, f->category) || confidence < MIN_ALTERNATIVE)
		return;
	for (i = 0; i < f->n_alternatives; i++)
		if (!strcmp(f->alternatives[i].category, category)) {
			if (confidence > f->alternatives[i].confidence) {
				f->alternatives[i].confidence = confidence;
				free(f->alternatives[i].source);
				f->alternatives[i].source = dd_xstrdup(source);
			}
			return;
		}
	if (f->n_alternatives < CLASSIFY_MAX_ALTERNATIVES + 4) {
		f->alternatives = dd_xrealloc(f->alternatives, (f->n_alternatives + 1) * sizeof(*f->alternatives));
		f->alternatives[f->n_alternatives++] =
			(struct dd_alternative){ dd_xstrdup(category), confidence, dd_xstrdup(source) };
	}
}

static int cmp_alternative(const void *a, const void *b)
{
	double x = ((const struct dd_alternative *)a)->confidence, y = ((const struct dd_alternative *)b)->confidence;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The strongest hit of each other category, the structural layer's other
 * answers: the two best become the alternatives. */
static void alternatives(const struct classify *c, struct dd_failure *f, const struct st_result *st)
{
	for (int i = 0; i < HIT_SLOTS; i++) {
		const struct hit *h = &c->slots[i];

		if (h->used && (h->in_ring || h->is_champ) && h->p->confidence > 0.25)
			add_alternative(f, h->p->category, h->p->confidence * 0.8, h->p->id);
	}
	for (size_t i = 0; i < st->n_answers; i++)
		add_alternative(f, st->answers[i].category, st->answers[i].confidence, st->answers[i].rule);
	if (f->n_alternatives > 1)
		qsort(f->alternatives, f->n_alternatives, sizeof(*f->alternatives), cmp_alternative);
	while (f->n_alternatives > CLASSIFY_MAX_ALTERNATIVES) {
		struct dd_alternative *x = &f->alternatives[--f->n_alternatives];

		free(x->category);
		free(x->source);
	}
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
	check_new_traceback(c);   /* one completed by finish */
	event_close(c);
	if (rc < 0)
		return rc;
	const struct kb *kb = pat_library_knowledge(c->lib);
	const struct dd_traceback *last = tbparser_last(c->tbp);
	const struct dd_traceback *dec = last ? decisive_tb(c) : NULL;
	c->decisive = dec;

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

	/* the best hit */
	const struct hit *best = NULL;
	for (int i = 0; i < HIT_SLOTS; i++) {
		const struct hit *h = &c->slots[i];
		if (!h->used || (!h->in_ring && !h->is_champ))
			continue;
		if (!best || better_primary(c, h, best))
			best = h;
	}
	int failure_seen = best || last || c->last_terminal == -1 || c->failed_in_try ||
	                   tbparser_started(c->tbp) || c->n_error_signs;
	/* still waiting (a sensor rescheduled) counts only with evidence of what
	 * it waits for */
	if (c->last_terminal == 2 && !c->failed_in_try && !last && !c->n_error_signs)
		failure_seen = best && !strcmp(best->p->category, "stalled_upstream");

	if (f->success || !failure_seen) {
		f->category = dd_xstrdup("none");
		goto secondary;
	}

	/* what the shape of the failure says */
	size_t at = dec ? dec->exc_line : c->last_error_sign ? c->last_error_sign : c->last_fail_line;
	struct st_result st;
	/* no complete traceback: the frames of one cut short still say where */
	const struct dd_traceback *frames_of = dec ? dec : tbparser_partial(c->tbp);
	struct st_input in = {
		.exc_type = dec ? dec->exc_type : NULL,
		.exc_message = dec ? dec->exc_message : NULL,
		.frames = frames_of ? frames_of->frames : NULL,
		.n_frames = frames_of ? frames_of->n_frames : 0,
		/* an error line after the traceback may name the failure itself
		 * ("Crash detected! ... interrupted by ... 429 Too Many Requests") */
		.text = c->sign_msg.len && (!dec || c->last_error_sign > dec->exc_line + msg_extra_lines(dec))
		        ? c->sign_msg.data : NULL,
	};
	in.stage = decide_stage(c, best, dec, best && (!dec || best->line > at) ? best->line : at);
	struct dd_buf context = DD_BUF_INIT;
	for (size_t i = 0; i < tbparser_count(c->tbp); i++) {
		const struct dd_traceback *t = tbparser_get(c->tbp, i);
		if (t != dec && t->exc_message)
			dd_buf_addf(&context, "%s: %s\n", t->exc_type, t->exc_message);
	}
	for (size_t i = 0; i < NOTABLE; i++)
		if (c->notable[(c->n_notable + i) % NOTABLE])
			dd_buf_addf(&context, "%s\n", c->notable[(c->n_notable + i) % NOTABLE]);
	in.context = context.data;
	structure_explain(kb, &in, &st);
	dd_buf_release(&context);
	f->stage = in.stage;
	for (size_t i = 0; i < st.reasons.n; i++)
		dd_strv_push(&f->reasons, st.reasons.v[i]);

	/* A specific pattern wins.  A wrapper (a line that only reports a
	 * failure, confidence <= WRAPPER) gives way to any structural answer.
	 * In between, the pattern (backed by the structure when they agree)
	 * and the structure's best answer compete. */
	int use_pattern = best != NULL;
	if (best && hit_score(c, best) < SPECIFIC && st.n_answers) {
		double pat = hit_score(c, best);

		if (best->p->confidence <= WRAPPER) {
			/* a wrapper only reports: what the structure says of the failure
			 * it reports is more (its entities and checks are kept below) */
			use_pattern = st.answers[0].confidence < MIN_ANSWER;
		} else {
			for (size_t i = 0; i < st.n_answers; i++)
				if (!strcmp(st.answers[i].category, best->p->category))
					pat = 1 - (1 - pat) * (1 - st.answers[i].confidence);
			if (strcmp(st.answers[0].category, best->p->category) && st.answers[0].confidence > pat)
				use_pattern = 0;
		}
	}

	if (use_pattern) {
		f->category = dd_xstrdup(best->p->category);
		f->pattern = dd_xstrdup(best->p->id);
		f->title = dd_xstrdup(best->p->title);
		f->confidence = best->p->confidence;
		for (size_t i = 0; i < st.n_answers; i++)
			if (!strcmp(st.answers[i].category, f->category))
				f->confidence = 1 - (1 - f->confidence) * (1 - 0.5 * st.answers[i].confidence);
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
		} else if (dec && best->line < dec->first_line) {
			/* a cause logged before the traceback it led to */
			tb = dec;
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
	} else {
		if (st.n_answers && st.answers[0].confidence >= MIN_ANSWER) {
			f->category = dd_xstrdup(st.answers[0].category);
			f->pattern = dd_xstrdup(st.answers[0].rule);
			f->title = dd_xstrdup(st.answers[0].title);
			f->confidence = st.answers[0].confidence;
		} else {
			f->category = dd_xstrdup("unknown");
		}
		if (dec) {
			const struct capture *cp = tb_capture(c, dec);

			fill_from_traceback(f, dec);
			f->line_first = dec->first_line;
			f->line_last = dec->exc_line + msg_extra_lines(dec);
			set_entity(f, "exception", dec->exc_type);
			if (cp)
				build_excerpt(f, cp);
		} else {
			/* no traceback: the last error sign, else the failure marker */
			size_t line = c->last_error_sign ? c->last_error_sign : c->last_fail_line;
			const struct capture *cp = c->last_error_sign ? &c->sign_cap : &c->fail_cap;

			f->line_first = f->line_last = line;
			build_excerpt(f, cp);
			if (c->sign_msg.len)
				split_exception_line(c->sign_msg.data, &f->exc_type, &f->exc_message);
			if (!f->exc_type) {
				free(f->exc_message);
				f->exc_message = NULL;
			}
			for (size_t i = 0; i < cp->n; i++)
				if (cp->lines[i].lineno == line && !f->fingerprint)
					f->fingerprint = dd_fingerprint(f->exc_type ? f->exc_type : "",
					                                f->exc_message ? f->exc_message : cp->lines[i].text, NULL,
					                                NULL);
		}
	}
	for (size_t i = 0; i < st.n_entities; i++)
		set_entity(f, st.entities[i].name, st.entities[i].value);
	{
		/* the file of the pipeline's code where it failed, and the task */
		const struct dd_frame *app = dec ? traceback_top_app_frame(dec) : NULL;

		if (app && app->file) {
			const char *b = strrchr(app->file, '/'), *w = strrchr(app->file, '\\');
			if (w && (!b || w > b))
				b = w;
			set_entity(f, "file", b ? b + 1 : app->file);
		}
		if (c->ctx_task)
			set_entity(f, "task", c->ctx_task);
		if (c->ctx_dag)
			set_entity(f, "dag", c->ctx_dag);
	}
	if (dec && !use_pattern) {
		const char *pkg = innermost_package(dec);
		if (pkg)
			set_entity(f, "package", pkg);
	}
	if (!use_pattern && best) {
		/* the wrapper's line still names the file, the DAG ... and its checks apply */
		for (size_t i = 0; i < best->n_ent; i++)
			if (best->ent_val[i][0])
				set_entity(f, best->ent_name[i], best->ent_val[i]);
	}
	normalize_package(kb, f);
	keep_frames(c, f, dec);
	if (use_pattern) {
		fill_lines(&f->checks, &best->p->checks, f, 0);
		fill_lines(&f->fix, &best->p->fix, f, 0);
	} else {
		fill_lines(&f->checks, kb_checks(kb, f->category), f, 1);
		if (best && best->p->confidence <= WRAPPER)
			fill_lines(&f->checks, &best->p->checks, f, 1);
		fill_lines(&f->fix, kb_fixes(kb, f->category), f, 1);
	}
	alternatives(c, f, &st);
	st_result_release(&st);

secondary:
	/* secondary: every other pattern that matched, by line of its last hit */
	for (size_t i = 0; i < c->n_pats; i++) {
		if (!c->last_hit_line[i])
			continue;
		const struct pat_pattern *p = pat_library_get(c->lib, i);
		if (f->pattern && !strcmp(p->id, f->pattern))
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
	jsonout_str(o, "excerpt", f->excerpt);
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
			set_entity(f, e->string, e->valuestring);
	cJSON_Delete(o);
	if (!f->category) {
		dd_failure_release(f);
		return DD_EPARSE;
	}
	return 0;
}
