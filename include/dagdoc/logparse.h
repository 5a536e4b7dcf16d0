/*
 * logparse.h - log format reader, Python traceback parser, failure
 * fingerprints.
 *
 * 1. The log reader (logreader_*) takes the bytes of one task log in chunks
 *    of any size, recognises the format and delivers one `struct dd_logline`
 *    per logical line, with the logging prefix removed.
 *
 *    Every text line goes through layers (src/logline.c): decorations
 *    around it are peeled off, then a logging prefix, then a prefix nested
 *    in the message (subprocess output re-logged by Airflow), up to six
 *    layers; a nested prefix's level is the line's level.  Indentation is
 *    kept (the traceback parser measures it from the traceback's header,
 *    so an indented paste parses); the classifier matches patterns on the
 *    message without surrounding blanks.  Each form has a real line in
 *    tests/unit/test_logparse.c (line_cases):
 *
 *    decoration (outside any prefix)      example
 *    ----------------------------------   --------------------------------------------------
 *    Markdown / e-mail quote, nested      "> > Traceback (most recent call last):"
 *    pytest's exception lines             "E   TypeError: 'module' object is not callable"
 *    box borders (rich, CLI tables)       "│ /opt/flows/etl.py:41 in extract   │", "| x |"
 *    docker compose service               "airflow-worker-1  | [2024-...] {x.py:1} ERROR - msg"
 *    kubectl logs --prefix                "[pod/etl-7d9f5-x2v/base] Traceback (...):"
 *    Ray worker output                    "(begin_task_run pid=122393)   File \"...\", line 3"
 *    a message in double quotes           "\"A module that was compiled using NumPy 1.x ..."
 *    transport timestamp (anywhere)       "2024-03-06T11:35:52.884523509Z + pip3 install ..."
 *
 *    logging prefix                       example
 *    ----------------------------------   --------------------------------------------------
 *    Airflow 2 (3 timestamp forms)        "[2024-05-01T02:00:13.123+0000] {f.py:12} ERROR - msg",
 *                                         "[2024-05-01 02:00:13,123] ...", "[2024-05-01, 02:00:13 UTC] ..."
 *    Airflow headers (first layer only)   " INFO - ::group::...", "*** Found local files:"
 *    Prefect console, Prefect with date   "11:33:55.546 | ERROR   | Task run 'x-0' - msg",
 *                                         "ERROR | prefect.flow_runs - msg"
 *    structlog console (Airflow 3)        "2025-07-23 01:27:58 [info     ] event [logger] k=v"
 *    Python logging defaults              "ERROR:root:msg", "2024-05-01 02:00:13,123 - name - ERROR - msg",
 *                                         "2024-05-01 02:00:13,123 ERROR name: msg" (also "[ERROR]")
 *    uvicorn / gunicorn                   "ERROR:    Exception in ASGI application"
 *    dbt                                  "12:00:01  msg", "12:00:01.123456 [error] [Thread]: msg"
 *    Celery                               "[2024-05-01 02:00:13,123: ERROR/ForkPoolWorker-1] msg"
 *    log4j (Spark, Hadoop)                "24/01/15 12:34:56 ERROR Executor: msg"
 *    Kubernetes klog                      "E0615 12:34:56.789012       1 reflector.go:138] msg"
 *    glog / PyTorch c10                   "[W python_anomaly_mode.cpp:104] Warning: msg"
 *    GitHub Actions                       "##[error]msg", "::error file=x.py::msg"
 *    syslog                               "Mar 05 13:23:19 host tag[pid]: msg"
 *
 *    record forms (documents and lines)   example
 *    ----------------------------------   --------------------------------------------------
 *    Airflow v1 API JSON and Python repr  {"content":"[('host', 'text')]"}: literals decoded
 *    Airflow v2 API JSON and NDJSON,      {"event":..,"level":..}: msg = event; error_detail is
 *      Airflow 3 JSON lines on disk         rendered as the equivalent Python traceback text
 *    Prefect /logs/filter JSON            [{"level":40,"message":..}]
 *    JSON lines of other services         {"message":..} / {"msg":..} with "level"
 *    CSV exports (Prefect's download)     "timestamp,level,flow_run_id,task_run_id,message"
 *                                         then records whose quoted message spans lines
 *
 *    A record's message over several lines gives its first line the
 *    record's level and time and the others DD_LINE_CONT.  Anything else
 *    is plain text, level 0, msg = the whole line.
 *    ANSI escape sequences are removed from msg (raw keeps them); a trailing
 *    "\r" is removed from both.
 *
 *    Detection: the first non-blank bytes decide between "document" input
 *    (a JSON object whose first key is "content" or "continuation_token", a
 *    JSON array of objects '[{"', a lone "{" or "[" line, or a Python repr
 *    "[('") and line input.
 *    Line input is handled line by line, so mixed files work: a line that is a
 *    JSON object with "event" or "message" is a structured line wherever it
 *    appears, any other line goes through the text prefixes.
 *
 *    Memory: line input uses O(longest line) memory; lines longer than
 *    LOGREADER_MAX_LINE (1 MiB) are truncated to that length (the rest of the
 *    line is skipped, the line is still delivered once).  Document input is
 *    buffered whole, up to a cap (LOGREADER_DOC_LIMIT, 64 MiB, changeable with
 *    logreader_set_doc_limit).  Past the cap, an input that is surely an API
 *    document ({"content"..., {"continuation_token"..., [('host', ...) makes
 *    logreader_feed fail with DD_ELIMIT and a message (nothing of it is
 *    delivered: an API document is never cut up into text lines); an input
 *    that only looked like one (a lone "{" or "[" first line, a "[{" JSON
 *    array) is read as lines from its start instead.  A document that does
 *    not parse is delivered as text lines.
 *    NUL bytes and invalid UTF-8 are passed through untouched.
 *
 *    Line numbers: for line input, `lineno` is the physical line in the input
 *    (all lines made from one JSON line share its number).  For documents
 *    (v1/v2 API JSON, repr, Prefect JSON list) each delivered line gets the
 *    next number, i.e. the line number in the rendered log the user sees.
 *
 * 2. The traceback parser (tbparser_*) is fed the logical lines and collects
 *    Python tracebacks (see struct dd_traceback).
 * 3. dd_fingerprint groups the same failure across runs.
 */
#ifndef DAGDOC_LOGPARSE_H
#define DAGDOC_LOGPARSE_H

#include <stddef.h>
#include <stdint.h>

struct dd_buf;
struct dd_error;

/* One logical log line after format detection and prefix stripping.
 * All pointers belong to the reader and are valid only during the callback. */
struct dd_logline {
	const char *msg;     /* message text with the logging prefix removed (not NUL-terminated) */
	size_t msg_len;
	const char *raw;     /* the line as it appeared (for excerpts); for JSON lines the raw JSON.
	                      * For the 2nd.. lines of a multi-line JSON message and for lines
	                      * synthesised from error_detail, raw is the same text as msg. */
	size_t raw_len;
	size_t lineno;       /* 1-based line number in the input as the user sees it (see above) */
	int level;           /* Python logging level 10/20/30/40/50; 0 unknown (unprefixed lines,
	                      * continuation lines of multi-line messages, synthesised traceback lines) */
	int64_t ts_ms;       /* 0 unknown (also for time-of-day-only prefixes such as Prefect's console) */
	unsigned flags;      /* DD_LINE_* (added; 0 for ordinary text lines) */
};
#define DD_LINE_JSON 1u  /* made from a JSON record (structured line, API element) */
#define DD_LINE_CONT 2u  /* continues the record of the previous line (2nd.. line of a
                          * multi-line message, or a line synthesised from error_detail) */

enum dd_logformat { DD_LOGFMT_UNKNOWN, DD_LOGFMT_PLAIN, DD_LOGFMT_AIRFLOW2, DD_LOGFMT_AIRFLOW_V1_REPR,
                    DD_LOGFMT_AIRFLOW_V2_JSON, DD_LOGFMT_AIRFLOW3_JSONL, DD_LOGFMT_PREFECT };
/* "unknown", "plain", "airflow2", "airflow-v1-repr", "airflow-v2-json", "airflow3-jsonl", "prefect". */
const char *logparse_format_name(enum dd_logformat f);

typedef int (*dd_logline_cb)(const struct dd_logline *line, void *ud);  /* non-zero stops */

#define LOGREADER_MAX_LINE ((size_t)1 << 20)
#define LOGREADER_DOC_LIMIT ((size_t)64 << 20)

struct dd_logreader;  /* streaming: bounded memory however large the input */
struct dd_logreader *logreader_new(void);           /* logreader_free releases */
void logreader_free(struct dd_logreader *r);        /* NULL is fine */
/* Feed any chunk size; complete lines are delivered through cb.
 * Returns 0, or DD_ELIMIT when a document exceeds the cap (see above); after
 * a failure or after cb asked to stop, further feed/finish calls do nothing
 * and return the same result. */
int logreader_feed(struct dd_logreader *r, const char *data, size_t len, dd_logline_cb cb, void *ud, struct dd_error *err);
/* Flush the last partial line / buffered JSON document. */
int logreader_finish(struct dd_logreader *r, dd_logline_cb cb, void *ud, struct dd_error *err);
/* The format of the first non-blank content (a plain first line is upgraded
 * when one of the next 100 lines has a recognised prefix). */
enum dd_logformat logreader_format(const struct dd_logreader *r);
/* Changes the document cap (0 restores LOGREADER_DOC_LIMIT).  Call before feeding. */
void logreader_set_doc_limit(struct dd_logreader *r, size_t max_bytes);

/* Parses one text line (no JSON) the way the reader does: fills every field
 * of *out (lineno = 0).  msg/raw point into `line`, except that when the line
 * holds ANSI escape sequences msg points into `scratch` (caller-owned, reset
 * by this call; may be NULL, then escapes are left in msg).  Returns the
 * format the prefix belongs to (DD_LOGFMT_AIRFLOW2, DD_LOGFMT_PREFECT, or
 * DD_LOGFMT_PLAIN when there was no known prefix or only a generic one). */
enum dd_logformat logparse_line(const char *line, size_t len, struct dd_buf *scratch, struct dd_logline *out);

/* ---- Python tracebacks --------------------------------------------------- */

enum dd_frame_kind {
	DD_FRAME_APP = 0,        /* the user's code */
	DD_FRAME_LIBRARY,        /* site-packages / dist-packages (not the orchestrator) */
	DD_FRAME_STDLIB,         /* lib/python3.x without site-packages, <frozen ...>, Lib\ on Windows */
	DD_FRAME_ORCHESTRATOR,   /* airflow/prefect under site-packages, or an Airflow/Prefect source checkout */
	DD_FRAME_OTHER,          /* "<string>", "<stdin>", "<decorator-gen-1>" ... */
};

/* Streaming Python traceback parser, fed the logical lines above. */
struct dd_frame {
	char *file; int line; char *func;   /* owned; func is "" for a SyntaxError location line */
	char *package;                      /* top-level package when file is under site-packages/dist-packages, else NULL
	                                     * ("pandas", "airflow"; the namespace packages google and azure
	                                     * give two levels: "google.cloud", "google.protobuf"; Airflow
	                                     * providers three: "airflow.providers.http") */
	int in_app;                         /* 1 when user code (not site-packages, not the stdlib, not airflow/prefect internals) */
	int kind;                           /* enum dd_frame_kind (added) */
	char *source;                       /* the source line printed under it (trimmed, capped), or NULL */
};
struct dd_traceback {
	char *exc_type;       /* "KeyError", "airflow.exceptions.AirflowSensorTimeout" as printed */
	char *exc_message;    /* rest of the exception line(s), may be ""; continuation lines joined with '\n'
	                       * (at most 50 lines / 8 KiB) */
	struct dd_frame *frames; size_t n_frames;  /* outermost first, as printed (at most 200: the
	                                            * outermost 100 and the innermost 100 are kept) */
	int chained;          /* 1 when preceded by "During handling ..." / "The above exception was the direct cause ..." */
	int truncated;        /* 1 when cut short before its exception line: exc_type then comes from the
	                       * innermost frame's "raise X(...)" and exc_message is "" */
	size_t first_line, exc_line;  /* lineno of "Traceback (most recent call last):" and of the exception line */
};
/*
 * What the parser recognises: a line ending in "Traceback (most recent call
 * last):" (also "Broken DAG: [...] Traceback (most recent call last):"), or a
 * '  File "...", line N, in f' line outside a traceback (pasted excerpts),
 * starts a traceback.  Frames at any indentation, source lines, "^^^^"/"~~~"
 * marker lines, "[Previous line repeated N more times]" and SyntaxError
 * location/caret lines are understood.  The first unindented line that looks
 * like "dotted.Name" or "dotted.Name: message" is the exception line; the
 * message continues on the following unprefixed (level 0) non-blank lines and
 * ends at a blank line, a prefixed log line, a new traceback or a chaining
 * sentence.  A traceback interrupted before its exception line (an excerpt
 * that ends early) is kept when its innermost frame's source line raises a
 * named exception ("raise AirflowSensorTimeout(message)": truncated = 1),
 * else its frames are kept as the partial traceback.
 * When every line of a traceback carries the same logging prefix (subprocess
 * output re-logged line by line: "INFO -   File ..."), lines of that level
 * belong to it and its message ends at the first unindented line.  Lines
 * flagged DD_LINE_CONT always belong to the record before them.  Exception
 * groups (3.11+, "  | " and "+-+----" decorations) give the group and each
 * member with a traceback as separate entries.
 */
struct dd_tbparser;
struct dd_tbparser *tbparser_new(void);             /* tbparser_free releases (NULL is fine) */
void tbparser_free(struct dd_tbparser *p);
void tbparser_line(struct dd_tbparser *p, const struct dd_logline *line);   /* feed every line in order */
void tbparser_finish(struct dd_tbparser *p);
/* 1 while the last line fed belongs to a traceback (its header, frames,
 * source lines or exception message), 0 otherwise. */
int tbparser_busy(const struct dd_tbparser *p);
/* Tracebacks begun so far, including those cut short before their
 * exception line (which are not kept). */
size_t tbparser_started(const struct dd_tbparser *p);
/* The last traceback cut short before its exception line whose frames do
 * not say what it raised (frames only, exc_type NULL), when no complete one
 * came after it; NULL otherwise.  Valid until the next line is fed. */
const struct dd_traceback *tbparser_partial(const struct dd_tbparser *p);
/* Completed tracebacks in order (the parser keeps at most the last 16 to bound memory; older ones are dropped).
 * The returned pointers belong to the parser and stay valid until tbparser_free
 * (or until 16 newer tracebacks have completed). */
size_t tbparser_count(const struct dd_tbparser *p);
const struct dd_traceback *tbparser_get(const struct dd_tbparser *p, size_t i);
/* The decisive one: the last traceback (NULL if none). Its exc line is the "decisive line". */
const struct dd_traceback *tbparser_last(const struct dd_tbparser *p);
/* Top user frame: the innermost in_app frame of the traceback, NULL if none. */
const struct dd_frame *traceback_top_app_frame(const struct dd_traceback *tb);
/* Classifies a frame's file name; *package_out (may be NULL) receives a
 * malloc'd package name for DD_FRAME_LIBRARY/ORCHESTRATOR frames under
 * site-packages, else NULL.  Returns an enum dd_frame_kind. */
int traceback_classify_file(const char *file, char **package_out);

/* ---- fingerprints --------------------------------------------------------- */

/* Fingerprint: exception type + message normalised (numbers, hex, UUIDs, timestamps, paths, quoted values)
 * + the top user frame "file:func" (no line number). Returns a 16-hex-char id (malloc'd);
 * if norm_out != NULL the normalised text that was hashed is appended to it (for --explain and tests):
 * "ExcType|normalised message|dags/file.py:func".
 * exc_type and message may be NULL (treated as ""); the hash is FNV-1a 64.
 * The frame's file is reduced to its last two path components (so the same DAG
 * file deployed under different roots matches). */
char *dd_fingerprint(const char *exc_type, const char *message, const struct dd_frame *top_app, struct dd_buf *norm_out);
/* Normalise one message the same way (exposed for tests / unmatched lines); appends to out.
 *   timestamps (2024-05-01T02:00:13.123+0000 and the like) -> <ts>
 *   UUIDs -> <uuid>; 0x... and hex runs of 8+ characters with a digit -> <hex>
 *   numbers (digits, with inner '.' or ','), except digits glued to a letter
 *     such as python3, s3, int64 -> <n>
 *   temp paths (/tmp/.., /var/tmp/.., /var/folders/.., /dev/shm/.., and any
 *     path with a mkstemp-style component (tmpk2x9ab)) -> <tmp>
 *   quoted values ('..', "..", `..`) -> '<*>' (same quote), except a plain
 *     dotted identifier such as 'pandas', 'x', 'DataFrame.append' which names
 *     what failed and is kept; the inside of a kept value is left as is
 *   whitespace runs and newlines -> one space; leading/trailing space dropped;
 *   output capped at 1024 bytes. */
void dd_normalize_message(const char *msg, size_t len, struct dd_buf *out);

#endif
