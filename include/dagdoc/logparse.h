/*
 * logparse.h - the log format reader: bytes of a task log in, logical
 * lines out.  Python tracebacks are traceback.h, failure fingerprints
 * fingerprint.h.
 *
 * The log reader (logreader_*) takes the bytes of one task log in chunks
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
 * The traceback parser (traceback.h) is fed these lines.
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

#endif
