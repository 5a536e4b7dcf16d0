/*
 * classify_impl.h - private to the classifier (src/classify.c: markers and
 * streaming; src/classify_result.c: deciding the failure; src/failure.c:
 * the failure's JSON and cache forms).  classify.h is the public surface.
 */
#ifndef DAGDOC_CLASSIFY_IMPL_H
#define DAGDOC_CLASSIFY_IMPL_H

#include "dagdoc/classify.h"
#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"
#include "dagdoc/pattern.h"

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

/* classify_result.c: what the streamed log says, into *f (zeroed by the
 * caller); the stream is complete.  Returns 0. */
int classify_decide(struct classify *c, struct dd_failure *f);

/* failure.c: adds name=value (redacted) unless name is there already. */
void failure_set_entity(struct dd_failure *f, const char *name, const char *value);

#endif
