/*
 * knowledge.h - the structural knowledge base: tables in knowledge/NAME.yaml
 * (beside patterns/) that say what the shape of a failure points at when
 * no pattern does.  Data, not code: each file's header says where its
 * facts come from and how to add one.
 *
 *   exceptions.yaml   exception types as Python prints them -> a cause
 *                     ("requests.exceptions.ConnectionError" -> intermittent);
 *                     "module.*" covers a module's other classes, a bare name
 *                     is a builtin; `wrapper: true` marks types that only
 *                     report a failure printed before them
 *   http_status.yaml  HTTP statuses -> a cause
 *   exit_codes.yaml   signals (by number), exit codes, and exit codes with a
 *                     meaning for one tool (dbt, Spark, YARN) -> a cause
 *   packages.yaml     import names -> PyPI distributions, names of published
 *                     packages, generic names of a pipeline's own modules
 *   stdlib.yaml       the standard library's modules, and those removed
 *   cues.yaml         words in a message (cues) or in an exception's class
 *                     name (type_cues) that point at a cause (PCRE2)
 *   advice.yaml       checks and fixes per cause, for answers from the tables
 *   frames.yaml       parts of the orchestrators' source trees (internal
 *                     machinery, code that runs a task) and platform clients
 *
 * Entries name a cause with a prior `confidence` (a type alone is weak
 * evidence) and `says`, a few words on what it means.  Unknown keys, a bad
 * category or a bad regex are problems "FILE:LINE: what is wrong", as in
 * the pattern library; a knowledge base with problems is not usable.
 *
 * Ownership: kb_load returns a base the caller frees with kb_free (or hands
 * to pat_library_set_knowledge, which then owns it).  Every pointer a
 * lookup returns belongs to the base.  A loaded base is read-only and may
 * be shared between threads.
 */
#ifndef DAGDOC_KNOWLEDGE_H
#define DAGDOC_KNOWLEDGE_H

#include <stddef.h>

#include "dagdoc/error.h"
#include "dagdoc/util.h"

struct kb_entry {
	const char *key;          /* the type / status / signal name / code, as written */
	const char *category;     /* one of pat_categories, or "unknown" */
	double confidence;
	const char *says;         /* "an HTTP connection failed" */
	const char *also;         /* the runner-up cause, or NULL */
	double also_confidence;
	int wrapper;              /* exceptions: only reports a failure printed before it */
	const char *file;
	int line;
};

struct kb_removed {
	const char *module;       /* "distutils", "collections.Mapping" */
	const char *in;           /* "3.12" */
	const char *use;          /* what to use instead */
};

struct kb_cue {
	int on_type;              /* 1: matched against an exception's class name (type_cues), 0: its message */
	const char *category;
	double weight;            /* evidence, added to the other evidence for that cause */
	const char *says;
	const char *regex;
	const char *file;
	int line;
};

struct kb;

int kb_load(const char *dir, struct kb **out, struct dd_strv *problems, struct dd_error *err);
void kb_free(struct kb *kb);
/* $DAGDOC_KNOWLEDGE_DIR, else knowledge/ beside the binary's pattern
 * directory (see pat_builtin_dir); allocated, NULL when none exists. */
char *kb_builtin_dir(void);
/* 16 hex digits that change with any entry (part of the classification cache key). */
const char *kb_digest(const struct kb *kb);

/* An exception type as printed ("botocore.exceptions.ClientError",
 * "KeyError"): the exact entry, else the longest "module.*" entry that
 * covers it, else the builtin of the same name when `type` has no module;
 * NULL when the base says nothing. */
const struct kb_entry *kb_exception(const struct kb *kb, const char *type);
const struct kb_entry *kb_http_status(const struct kb *kb, int status);
const struct kb_entry *kb_signal(const struct kb *kb, int number);
const struct kb_entry *kb_exit_code(const struct kb *kb, int code);
/* An exit code with a meaning for one tool ("dbt", "spark", "yarn"). */
const struct kb_entry *kb_tool_exit_code(const struct kb *kb, const char *tool, int code);

/*
 * Import names.  kb_distribution: the PyPI distribution that provides
 * `module` (dotted: the longest known prefix; "sklearn.svm" ->
 * "scikit-learn"), written into *dist (allocated, caller frees); returns 1
 * when `module`'s top level is a published package (the distribution is
 * then known or equal to the PEP 503 name), 0 when it is not known to be
 * one, -1 when it is a generic name pipelines use for their own modules
 * ("utils", "config").  kb_stdlib: 1 when `module`'s top level is in the
 * standard library; *removed (may be NULL) receives the entry when the
 * module (or its top level) was removed from it.
 */
int kb_distribution(const struct kb *kb, const char *module, char **dist);
int kb_stdlib(const struct kb *kb, const char *module, const struct kb_removed **removed);
/* PEP 503: lower case, runs of "-", "_", "." become one "-"; appends to out. */
void kb_normalize_name(const char *name, struct dd_buf *out);

size_t kb_cue_count(const struct kb *kb);
const struct kb_cue *kb_cue_get(const struct kb *kb, size_t i);
/* Does cue i match text?  1 yes, 0 no (a PCRE2 limit counts as no). */
int kb_cue_matches(const struct kb *kb, size_t i, const char *text, size_t len);

/* What a frame's file is (the longest matching path decides). */
enum { KB_FRAME_NONE, KB_FRAME_INTERNAL, KB_FRAME_TASK_CODE, KB_FRAME_INFRA_CLIENT };
int kb_frame_role(const struct kb *kb, const char *file);

/* Checks and fixes for a cause: templates with {exception}, {package},
 * {module}, {host}, {status}, {signal}, {code} placeholders.  NULL when
 * the base has none for it. */
const struct dd_strv *kb_checks(const struct kb *kb, const char *category);
const struct dd_strv *kb_fixes(const struct kb *kb, const char *category);
/* What in each check's output confirms or refutes the cause, parallel to
 * kb_checks (a check may be written {run, confirms, refutes} as a
 * pattern's is); NULL when none. */
struct pat_check_rule;
const struct pat_check_rule *kb_check_rules(const struct kb *kb, const char *category);

#endif
