/*
 * structure.h - the structural layer: what the shape of a failure says
 * about its cause when no specific pattern does.
 *
 * It reads the decisive exception (type as printed, message, frames) or
 * the decisive error line, and adds up evidence per cause from the
 * knowledge base (knowledge.h):
 *
 *   the exception type's prior (and types named in its message, such as
 *     SQLAlchemy's "(psycopg2.errors.UniqueViolation) ...")
 *   words of the class name (type_cues) when the table does not list it
 *   an HTTP status in the message (requests, httpx, aiohttp, google,
 *     kubernetes forms)
 *   an exit code or signal ("return code -9", "exit code 137", "Killed")
 *   a module that did not import: removed from the standard library, one
 *     of the pipeline's own modules, or a published package
 *   where it was raised: the pipeline's code, a library, the orchestrator
 *   the stage (a failure before the task ran points at the platform)
 *   words in the message (cues)
 *
 * and answers up to three causes, the best first, with a confidence and a
 * title that says what it saw ("HTTP 429 from logging.googleapis.com: a
 * quota or rate limit, usually transient").  Every piece of evidence is
 * kept as one line in `reasons` for --explain.
 *
 * Ownership: structure_explain fills a caller-provided struct st_result
 * whose strings it owns; st_result_release frees them.  It borrows its
 * inputs and the knowledge base.
 */
#ifndef DAGDOC_STRUCTURE_H
#define DAGDOC_STRUCTURE_H

#include <stddef.h>

#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"
#include "dagdoc/util.h"

struct kb;

struct st_input {
	const char *exc_type;              /* as printed, or NULL */
	const char *exc_message;           /* may span lines, or NULL */
	const struct dd_frame *frames;     /* of the decisive traceback, outermost first */
	size_t n_frames;
	const char *text;                  /* the decisive error line(s) when there is no exception, or NULL */
	const char *stage;                 /* "parse", "schedule", "run", "teardown" or NULL */
	const struct dd_strv *own_modules; /* top-level modules of the pipeline's repository, or NULL */
	const char *context;               /* warning and error lines before the failure, earlier
	                                    * tracebacks' messages: only for what they name (host, path) */
};

#define ST_MAX_ANSWERS 3
#define ST_MAX_ENTITIES 8

struct st_answer {
	const char *category;      /* a cause from pat_categories (static) */
	double score;              /* summed evidence */
	double confidence;         /* in [0, 1) */
	char *title;               /* what it saw, one line */
	char *rule;                /* the strongest evidence: "kb.exception", "kb.http-status", "kb.import", ... */
};

struct st_result {
	struct st_answer answers[ST_MAX_ANSWERS];
	size_t n_answers;          /* 0: nothing in the shape of the failure points anywhere */
	struct {
		char *name, *value;    /* exception, package, module, host, status, signal, code */
	} entities[ST_MAX_ENTITIES];
	size_t n_entities;
	struct dd_strv reasons;    /* "+0.50 intermittent: requests.exceptions.ConnectionError (an HTTP connection failed)" */
};

int structure_explain(const struct kb *kb, const struct st_input *in, struct st_result *out);
void st_result_release(struct st_result *r);
const char *st_entity(const struct st_result *r, const char *name);   /* NULL when absent */

#endif
