/*
 * classify.h - turns one task log into a failure: category, pattern,
 * entities, exception, fingerprint, decisive lines, redacted excerpt,
 * checks and fix, secondary hits, retry evidence, success.
 *
 * The classifier streams: feed it chunks of any size (logreader splits
 * lines and strips the logging prefix, the traceback parser follows
 * along, the pattern library matches every message in one prefilter
 * pass).  Memory stays bounded however large the log: it keeps a fixed
 * ring of recent lines, the last CLASSIFY_MAX_HITS hits plus the best one,
 * the last traceback's excerpt and, per pattern, the line of its last hit.
 *
 * Primary selection (the pattern brief's rules), one place for the weights:
 *
 *   score = pattern confidence
 *         + CLASSIFY_W_DECISIVE  when the hit is on the exception line of the
 *                                last traceback (the decisive error)
 *         + CLASSIFY_W_TB_EXC    when it is on the exception line of an
 *                                earlier traceback
 *   highest score wins; equal scores: the later line wins; same line: the
 *   higher confidence, then the pattern loaded first.
 *
 * The bonuses are small on purpose: they decide between patterns of
 * similar confidence, but a wrapper (confidence <= 0.25) plus the decisive
 * bonus stays below a generic fallback (>= 0.3) printed above it, and far
 * below a specific cause (>= 0.6).
 *
 * Outcome ("category"):
 *   "none"     no failure: the log shows the task succeeded (success = 1:
 *              its last terminal marker is "Marking task as SUCCESS/SKIPPED",
 *              "Task exited with return code 0" with no failure marker in
 *              that try, Prefect "Finished in state Completed()/Cached()",
 *              Airflow 3 "final_state": "success"/"skipped"), or the log holds
 *              no failure evidence at all (no hit, no traceback, no failure
 *              marker).  pattern, title, exception, fingerprint are NULL;
 *              pattern hits, if any, are still listed as secondary.
 *   one of pat_categories[]  the best hit's category.
 *   "unknown"  a failure (traceback or failure marker such as "Marking task
 *              as FAILED", a non-zero "Task exited with return code",
 *              Prefect Failed/Crashed) that no pattern explained; exception
 *              and fingerprint are still filled from the last traceback.
 *
 * Ownership: classify_new returns a classifier the caller frees with
 * classify_free; it borrows the library (which must outlive it and must
 * have been loaded with classify_library_load so the markers exist).
 * classify_finish fills a caller-provided struct dd_failure whose fields
 * it owns; dd_failure_release frees them.  dd_failure_to_json returns a
 * new cJSON tree the caller deletes.
 */
#ifndef DAGDOC_CLASSIFY_H
#define DAGDOC_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "dagdoc/error.h"
#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"
#include "dagdoc/pattern.h"
#include "dagdoc/util.h"

/* Changes whenever the classifier decides differently for the same
 * patterns and knowledge: part of the classification cache's key. */
#define CLASSIFY_LOGIC "2026-12-12.1"   /* since: compiled (Cython) frames are library frames */

/* Weights of primary selection (see above). */
#define CLASSIFY_W_DECISIVE 0.04
#define CLASSIFY_W_TB_EXC 0.02

/* Bounds. */
#define CLASSIFY_MAX_HITS 64          /* recent hits kept with their excerpt */
#define CLASSIFY_EXCERPT_BEFORE 5     /* excerpt: lines before the decisive line */
#define CLASSIFY_EXCERPT_AFTER 2      /* ... and after it */
#define CLASSIFY_EXCERPT_LINE_MAX 400 /* bytes kept of each excerpt line */
#define CLASSIFY_MAX_SECONDARY 20
#define CLASSIFY_MAX_RETRY_LINES 16
#define CLASSIFY_MAX_WARNINGS 8
#define CLASSIFY_MAX_ALTERNATIVES 2   /* runner-up causes reported beside the best one */

struct dd_entity {
	char *name;
	char *value;            /* redacted */
};

struct dd_alternative {
	char *category;         /* a cause other than the primary's */
	double confidence;
	char *source;           /* the pattern id or structural rule behind it */
};

struct dd_hitref {
	char *pattern;
	char *category;
	size_t line;
};

struct dd_failure {
	char *input;            /* file name or "-" */
	char *category;         /* "none", "unknown" or one of pat_categories */
	const char *stage;      /* "parse", "schedule", "run", "teardown" (static); NULL for none */
	char *pattern;          /* the pattern id, or the structural rule ("kb.http-status", ...);
	                         * NULL for none/unknown */
	char *title;            /* NULL for none/unknown */
	double confidence;      /* NULL for none/unknown: 0 */
	struct dd_alternative *alternatives;   /* up to CLASSIFY_MAX_ALTERNATIVES, best first */
	size_t n_alternatives;
	struct dd_strv reasons; /* the structural layer's evidence, one line each (--explain) */
	struct dd_frame *frames;/* the decisive traceback's frames, outermost first (copies), or NULL */
	size_t n_frames;
	struct dd_strv packages;/* the packages of every library frame of every traceback seen */
	struct dd_entity *entities;
	size_t n_entities;
	char *exc_type;         /* NULL when no exception is known */
	char *exc_message;      /* redacted, NULL when no exception is known */
	char *fingerprint;      /* 16 hex chars; NULL for none */
	size_t line_first, line_last;  /* decisive evidence; 0 when none */
	char *excerpt;          /* redacted lines around the decisive line, NULL for none */
	size_t excerpt_first;   /* line number of the excerpt's first line */
	struct dd_strv checks;  /* placeholders filled */
	struct dd_strv fix;
	struct dd_hitref *secondary;   /* other patterns that matched, by line */
	size_t n_secondary;
	size_t retries;         /* retry evidence lines seen */
	size_t retry_lines[CLASSIFY_MAX_RETRY_LINES];
	size_t n_retry_lines;
	int success;            /* the log shows the task succeeded */
	const char *format;     /* logparse_format_name of the detected format (static) */
	size_t n_lines;
	uint64_t n_bytes;
	struct dd_strv warnings;  /* e.g. a pattern hit the PCRE2 match limit on a line */
};

/*
 * Loads the built-in library (builtin_dir, or pat_builtin_dir() when NULL),
 * then each user directory (overriding by id), adds the classifier's
 * markers and finalizes.  Problems are appended to `problems`; on any
 * problem returns DD_EPARSE and *out = NULL, err saying how many there
 * are ("12 problems in the pattern library; fix them and run again").
 */
int classify_library_load(const char *builtin_dir, const struct dd_strv *user_dirs,
                          struct pat_library **out, struct dd_strv *problems, struct dd_error *err);
/* Adds the markers to a library built by hand (tests); call before pat_library_finalize. */
int classify_add_markers(struct pat_library *lib, struct dd_error *err);

struct classify;
struct classify *classify_new(const struct pat_library *lib, const char *input_name);
void classify_free(struct classify *c);
int classify_feed(struct classify *c, const char *data, size_t len, struct dd_error *err);
int classify_finish(struct classify *c, struct dd_failure *out, struct dd_error *err);

/* One-shot helpers.  classify_file reads `path` ("-" = standard input) in
 * chunks: DD_EIO when it cannot be read. */
int classify_buffer(const struct pat_library *lib, const char *name, const char *data, size_t len,
                    struct dd_failure *out, struct dd_error *err);
int classify_file(const struct pat_library *lib, const char *path, struct dd_failure *out, struct dd_error *err);

void dd_failure_release(struct dd_failure *f);
const char *dd_failure_entity(const struct dd_failure *f, const char *name);  /* NULL when absent */

/* The JSON object documented in README / `dagdoc classify --format json`. */
struct cJSON;
struct cJSON *dd_failure_to_json(const struct dd_failure *f);
/* The failure as `dagdoc classify` prints it (ANSI colours with color). */
void dd_failure_render_text(const struct dd_failure *f, int color, FILE *out);

/*
 * The classification cache's form of a failure (analysis keeps one per
 * classified try in the store): what a cached try is grouped and shown by
 * (category, stage, pattern, title, confidence, exception, fingerprint,
 * entities), versioned by CLASSIFY_CACHE_VERSION so a change of the form
 * is never misread.  classify_cache_encode returns a string the caller
 * frees; classify_cache_decode fills *f (dd_failure_release frees it) and
 * returns 0, or DD_EPARSE for another version or a damaged entry.
 */
#define CLASSIFY_CACHE_VERSION 1
char *classify_cache_encode(const struct dd_failure *f);
int classify_cache_decode(const char *text, struct dd_failure *f);

#endif
