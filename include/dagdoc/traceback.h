/*
 * traceback.h - the streaming Python traceback parser (src/traceback.c),
 * fed the logical lines of logparse.h, and the classification of a
 * frame's file (the user's code, a library, the stdlib, the orchestrator).
 *
 * Ownership: the parser owns every traceback and frame it returns; see
 * each function for how long they stay valid.
 */
#ifndef DAGDOC_TRACEBACK_H
#define DAGDOC_TRACEBACK_H

#include <stddef.h>

#include "dagdoc/logparse.h"

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
	char *package;                      /* top-level package when file is under site-packages/dist-packages
	                                     * or the frame is compiled ("sklearn/tree/_tree.pyx", in
	                                     * sklearn.tree._tree.Tree.__setstate__: a library frame), else NULL
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

#endif
