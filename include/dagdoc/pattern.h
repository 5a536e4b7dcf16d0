/*
 * pattern.h - the pattern library: patterns/NAME.yaml loaded with libyaml,
 * regexes compiled with PCRE2 (JIT), and a one-pass multi-pattern
 * prefilter (Vectorscan) that finds the candidate patterns of a line so
 * PCRE2 only runs where it can match.
 *
 * File format (one file per category, see patterns/ and README):
 *
 *   category: dependency_upgrade          # one of pat_categories[]
 *   patterns:
 *     - id: dep.import-name-removed       # unique
 *       title: ...                        # one line
 *       match: '<regex>'                  # or a sequence of regexes (any may match)
 *       confidence: 0.9                   # in [0, 1]
 *       checks: ["pip show {package}"]    # {name} = named group of every regex; an item may be a
 *                                         # mapping {run: "pip show {package}", confirms: [regex],
 *                                         # refutes: [regex]}: what in that command's output
 *                                         # confirms or refutes the cause (evidence.h)
 *       fix: ["..."]
 *       stage: parse                      # optional: where such a failure happens
 *       examples: ["..."]                 # at least one; must classify to this pattern
 *       counterexamples: ["..."]          # no regex of this pattern may match them
 *
 * Regexes are PCRE2, no UTF mode, matched against the *message* of one log
 * line (logging prefix removed).  Named groups become entities.
 *
 * Loading: built-in directory first (pat_builtin_dir), then the user's
 * directories; a user pattern replaces the built-in with the same id.  Every
 * problem is reported as "FILE:LINE: pattern ID: what is wrong" (or
 * "FILE:LINE: what is wrong" for a problem outside any pattern) and nothing
 * is silently dropped: a library with problems is not usable.
 *
 * Matching never hangs: PCRE2 runs with match, depth and heap limits and a
 * bounded JIT stack; a limit hit counts as "no match" and is reported to
 * the caller (pat_match_line's return value) so it can warn.
 *
 * Ownership: pat_library_new returns a library the caller releases with
 * pat_library_free; pattern structs and their strings belong to the
 * library.  A pat_matcher (per thread / per classifier) belongs to its
 * creator and must be freed before the library.
 */
#ifndef DAGDOC_PATTERN_H
#define DAGDOC_PATTERN_H

#include <stddef.h>

#include "dagdoc/error.h"
#include "dagdoc/util.h"

/* The nine causes a pattern may name, NULL-terminated (a failure no
 * pattern or rule explains is "unknown"). */
extern const char *const pat_categories[];
int pat_category_valid(const char *name);
/* Where a failure happened, NULL-terminated: "parse" (the DAG/flow file did
 * not load), "schedule" (it never ran: queued, pending, not submitted),
 * "run" (the task's own code), "teardown" (callbacks, log upload). */
extern const char *const pat_stages[];
int pat_stage_valid(const char *name);

/* What in the output of a check's command confirms or refutes the
 * pattern's cause: regexes over each line, with {entity} placeholders (the
 * pattern's groups, or package/from/to/commit/task_id that rank adds). */
struct pat_check_rule {
	struct dd_strv confirms;
	struct dd_strv refutes;
};

struct pat_pattern {
	char *id;
	char *title;
	char *category;            /* one of pat_categories */
	char *stage;               /* one of pat_stages, or NULL: the log's context decides */
	double confidence;
	char *file;                /* the YAML file it came from ("<string>" for strings) */
	int line;                  /* 1-based line of the pattern's "id:" mapping */
	int user;                  /* 0 built-in; n > 0: from the n-th user source (directory, file, string) */
	int tag;                   /* 0 for library patterns; > 0 for internal markers (see pat_library_add_marker) */
	size_t index;              /* set by pat_library_finalize: position among library patterns
	                            * (0 .. pat_library_count-1); markers: position among markers */
	struct dd_strv regex;      /* regex sources, in file order */
	int *regex_line;           /* line of each regex */
	struct dd_strv checks;     /* templates with {entity} placeholders */
	struct pat_check_rule *check_rules;   /* parallel to checks (checks.n entries), or NULL */
	struct dd_strv fix;
	struct dd_strv examples;
	int *example_line;
	struct dd_strv counterexamples;
	int *counterexample_line;
};

struct pat_library;
struct kb;

struct pat_library *pat_library_new(void);
void pat_library_free(struct pat_library *lib);   /* frees its knowledge base too */
/* The structural knowledge base that goes with the library (knowledge.h):
 * the library takes ownership of kb (NULL removes it). */
void pat_library_set_knowledge(struct pat_library *lib, struct kb *kb);
const struct kb *pat_library_knowledge(const struct pat_library *lib);   /* NULL when none */

/*
 * Loads every *.yaml / *.yml file of `dir` in name order.  user = 0 for the
 * built-in library (a duplicate id is a problem), 1 for a user directory
 * (its patterns replace earlier ones with the same id; a duplicate inside
 * one user directory is still a problem).  Problems are appended to
 * `problems` (one line each, format above); the return value is 0 when the
 * directory added no problem, DD_EPARSE when it did (err gets the first),
 * DD_EIO / DD_ENOTFOUND when the directory cannot be read.
 */
int pat_library_add_dir(struct pat_library *lib, const char *dir, int user,
                        struct dd_strv *problems, struct dd_error *err);
/* Same for one file, or for YAML text (`name` is used in messages). */
int pat_library_add_file(struct pat_library *lib, const char *path, int user,
                         struct dd_strv *problems, struct dd_error *err);
int pat_library_add_string(struct pat_library *lib, const char *name, const char *text, size_t len,
                           int user, struct dd_strv *problems, struct dd_error *err);

/*
 * Internal markers: regexes the caller (the classifier) wants reported in
 * the same prefilter pass (success / retry / failure lines).  tag > 0 is
 * handed back in matches.  They are not listed, shown or tested.
 * Returns 0 or DD_EPARSE (bad regex).  Call before pat_library_finalize.
 */
int pat_library_add_marker(struct pat_library *lib, const char *regex, int tag, struct dd_error *err);

/*
 * Builds the prefilter database.  Must be called once after the last add;
 * afterwards the library is read-only and may be shared between threads.
 * Regexes the prefilter cannot compile even approximately are run with
 * PCRE2 on every line (pat_library_stats reports how many).  With the
 * environment variable DAGDOC_NO_PREFILTER=1 every regex runs that way
 * (to measure what the prefilter buys).  The compiled database is cached
 * (see pattern.c; DAGDOC_NO_CACHE=1 disables the cache).
 */
int pat_library_finalize(struct pat_library *lib, struct dd_error *err);

/* Library patterns (markers excluded) in load order; NULL past the end. */
size_t pat_library_count(const struct pat_library *lib);
const struct pat_pattern *pat_library_get(const struct pat_library *lib, size_t i);
const struct pat_pattern *pat_library_find(const struct pat_library *lib, const char *id);

struct pat_stats {
	size_t patterns, regexes, markers;
	size_t prefilter_exact;     /* regexes the prefilter matches exactly */
	size_t prefilter_approx;    /* compiled with HS_FLAG_PREFILTER: PCRE2 confirms */
	size_t always_run;          /* not in the prefilter: PCRE2 on every line */
	int prefilter;              /* 1 when the Vectorscan database is in use */
};
void pat_library_stats(const struct pat_library *lib, struct pat_stats *st);

/* ---- matching ---------------------------------------------------------- */

#define PAT_MAX_ENTITIES 16

struct pat_entity {
	const char *name;          /* group name, owned by the library */
	const char *value;         /* points into the subject, NOT NUL-terminated */
	size_t len;
};

struct pat_match {
	const struct pat_pattern *pattern;
	size_t regex_index;        /* which of pattern->regex matched */
	struct pat_entity ent[PAT_MAX_ENTITIES];
	size_t n_ent;              /* named groups that took part in the match */
};

/* Called once per matching pattern, in library order; non-zero stops. */
typedef int (*pat_match_cb)(const struct pat_match *m, void *ud);

struct pat_matcher;
struct pat_matcher *pat_matcher_new(const struct pat_library *lib);  /* lib must be finalized */
void pat_matcher_free(struct pat_matcher *m);

/*
 * Matches one message against every pattern (markers included).  Returns
 * the number of regexes that hit a PCRE2 limit on this line (treated as no
 * match; the id of the last one is available from pat_matcher_last_limit),
 * or a negative DD_E* code when cb stopped the scan (DD_EINTR).
 */
int pat_match_line(struct pat_matcher *m, const char *msg, size_t len, pat_match_cb cb, void *ud);
const char *pat_matcher_last_limit(const struct pat_matcher *m);

/*
 * Batch matching, the fast path for large logs: the prefilter runs once over
 * many messages instead of once per message.  `buf` holds n messages, each
 * followed by '\n': message i starts at starts[i] (ascending).  Then call
 * pat_batch_line for each i in ascending order (any subset) with the
 * message's text: it reports that line's matches exactly as pat_match_line
 * would (same callback, same order, same return value).  The matcher keeps
 * the candidates of one batch at a time; `starts` need only live during
 * pat_batch_scan.  Always returns 0.
 */
int pat_batch_scan(struct pat_matcher *m, const char *buf, size_t len, const size_t *starts, size_t n);
int pat_batch_line(struct pat_matcher *m, size_t i, const char *msg, size_t len, pat_match_cb cb, void *ud);

/* Does any regex of `p` match `text` (one line)?  1 yes, 0 no, DD_ELIMIT. */
int pat_pattern_matches(struct pat_matcher *m, const struct pat_pattern *p, const char *text, size_t len);

/* ---- helpers ------------------------------------------------------------ */

/*
 * Appends `tmpl` to out with every {name} (name = [A-Za-z_][A-Za-z0-9_]*)
 * replaced by lookup(name); when lookup returns NULL the placeholder is
 * kept literally.  Other braces are copied as they are, and so are ${NAME}
 * and %{name} (shell variables, curl -w formats): they are not placeholders,
 * neither here nor in the loader's "{name} must be a group" check.
 */
typedef const char *(*pat_lookup_fn)(const char *name, void *ud);
void pat_fill(struct dd_buf *out, const char *tmpl, pat_lookup_fn lookup, void *ud);

/*
 * The built-in pattern directory: $DAGDOC_PATTERNS_DIR if set; else
 * <dir of /proc/self/exe>/patterns, <exe dir>/../patterns,
 * <exe dir>/../share/dagdoc/patterns, DD_DATADIR "/patterns" - the first
 * that exists.  Returns an allocated path (caller frees) or NULL when none
 * exists.
 */
char *pat_builtin_dir(void);

/*
 * Convenience for commands: new library + built-in dir (when builtin_dir
 * is NULL, pat_builtin_dir()) + each user dir + before_finalize (may be
 * NULL; the classifier adds its markers there) + finalize.  On problems
 * returns DD_EPARSE with every problem in `problems` and *out = NULL.
 */
int pat_library_load(const char *builtin_dir, const struct dd_strv *user_dirs,
                     int (*before_finalize)(struct pat_library *lib, struct dd_error *err),
                     struct pat_library **out, struct dd_strv *problems, struct dd_error *err);

#endif
