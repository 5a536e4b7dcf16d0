/*
 * rank.h - candidate causes of a DAG's failures, each scored by a
 * transparent sum of evidence weights and normalised to a confidence.
 *
 * For each failure group of the analysis (analyze.h) rank_causes weighs
 * every kind of cause: the pattern's category and confidence, how sharp
 * the onset is, the candidate commits (those between the bundle versions
 * the last good and the first bad run ran, when the orchestrator reports
 * them; else the onset window: the last good try's start minus the
 * repository's deploy lag, to the first failed try's start) that moved a
 * package the failure is tied to, touched the DAG file or a frame's file,
 * or a repository module the DAG file imports (gitcorr_imports), or last
 * changed the failing frame's line (blame), retries that pass,
 * failures scattered between successes, stalls and health findings, and
 * the absence of any commit.
 *
 * A requirement change is tied to the failure by one or more links,
 * named on the commit (rk_commit.links) and by --explain:
 *   "named in message"  the change's package is one the message names
 *   "frame"             a traceback frame, or the exception, is the package's
 *   "lock graph"        a package the failure is tied to requires it, by
 *                       the changed file's dependency graph (lock files,
 *                       pip-compile's # via)
 *   "interpreter"       the Python version moved and the failure is one a
 *                       new interpreter explains (analyze.h: an_interp)
 * A dependency change the window cannot show (no commit moved the package)
 * names instead where the deployed requirements leave the package loose
 * (rk_cause.outside): a rebuild can install a new release with no commit.
 * A failure every retry recovered from is not pinned on any commit.
 * Causes with no evidence beyond "a try failed" are not ranked beside
 * real ones: they join the cause of the same task, or rk_result.also_seen.  The score of a cause is the sum of its
 * evidence weights; confidence = 1 - exp(-score).  Every weight is kept
 * with its reason so --explain can show it.  The weights live in rank.c,
 * in one table.
 *
 * Evidence (rk_input, evidence.h): outputs the engineer pasted, and the
 * verdicts established earlier and kept in the store (rk_fact, keyed by
 * the failure's fingerprint and the cause's kind).  Each is weighed for
 * every kind of cause of every group, before the group's kinds are
 * chosen: a verdict that confirms adds W_CONFIRMED (a kind nothing else
 * pointed at, as OOMKilled does for memory, becomes a cause), one that
 * refutes subtracts it; the kind that led before the evidence stays listed,
 * fallen, so the refutation shows.  Every verdict is an evidence line and
 * an rk_verdict on its cause.  A pattern's checks that carry confirms /
 * refutes (pattern.h) are the rules for the cause of its category.
 * Recognised outputs that bear on no cause are listed in unused_evidence.
 *
 * Ownership: rank_causes fills a caller-provided struct rk_result whose
 * fields it owns (rank_release frees them).  It borrows the analysis, the
 * repositories and the input only during the call.
 */
#ifndef DAGDOC_RANK_H
#define DAGDOC_RANK_H

#include <stddef.h>
#include <stdint.h>

#include "dagdoc/analyze.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/util.h"

enum rk_kind {
	RK_DEPENDENCY_CHANGE,
	RK_CODE_CHANGE,
	RK_CONFIG_CHANGE,
	RK_UPSTREAM_STALL,
	RK_INTERMITTENT_FAULT,
	RK_RESOURCE_EXHAUSTION,
	RK_ORCHESTRATOR_FAULT,
	RK_DATA_ISSUE,
	RK_UNKNOWN,
	RK__COUNT
};
const char *rk_kind_name(enum rk_kind k);   /* "dependency_change" ... */

struct rk_evidence {
	char *text;
	double weight;
};

/* The link words (see above). */
#define RK_LINK_NAMED "named in message"
#define RK_LINK_FRAME "frame"
#define RK_LINK_LOCK "lock graph"
#define RK_LINK_INTERPRETER "interpreter"

struct rk_commit {
	struct gitcorr_commit commit;
	char *repo;                 /* repository path */
	double suspicion;           /* sum of the weights that name it */
	struct dd_strv why;         /* what implicates it */
	struct dd_strv links;       /* how its requirement change is tied to the failure: RK_LINK_* words */
	struct dd_strv link_why;    /* parallel to links: what shows each ("the traceback passes through
	                               site-packages/sqlalchemy") */
};

/* A dependency change no commit shows: where the deployed requirements leave
 * the package free to move (file NULL when no requirement file names it). */
struct rk_outside {
	char *package;              /* normalised */
	char *file;                 /* repository path, or NULL */
	int line;                   /* 1-based, 0 unknown */
	char *text;                 /* the line as written, stripped, or NULL */
	char *version;              /* its specifier: "" unpinned, ">=1.5" ..., or NULL */
	char *why;                  /* one sentence: why it can still be a dependency */
};

/* How many checks and fixes a cause carries: the answer, the same in
 * every format (text, Markdown, JSON, HTML); the runbook's pager budget
 * shows fewer. */
#define RK_MAX_CHECKS 6
#define RK_MAX_FIXES 4

/* What an output (or the store) established about a cause. */
struct rk_verdict {
	int verdict;                /* EV_CONFIRMED (1) or EV_REFUTED (-1) */
	char *what;                 /* "numpy 2.0.0 deployed" */
	char *tool;                 /* "pip show" */
	char *source;               /* "ev.txt line 2", or NULL when it came from the store */
	char *line_text;            /* the line that decided, or NULL */
	char *user;                 /* who established it (stored), or NULL */
	int64_t at_ms;              /* when (stored), or 0 */
	int stored;                 /* read from the store: no need to record it again */
};

/* A verdict kept in the store (store.h: store_facts). */
struct rk_fact {
	const char *fingerprint, *kind;   /* the failure's fingerprint, rk_kind_name */
	int verdict;
	const char *what, *tool, *user;
	int64_t at_ms;
};

struct ev_set;
struct pat_library;
struct rk_input {
	const struct ev_set *outputs;     /* pasted outputs (evidence.h), or NULL */
	const struct rk_fact *facts;      /* established before */
	size_t n_facts;
	const struct pat_library *lib;    /* the patterns' check rules, or NULL */
};

struct rk_cause {
	enum rk_kind kind;
	char *category;             /* of the failure group ("unknown" ...) */
	double score;
	double confidence;
	char *summary;              /* one line: "Dependency upgrade: pandas 1.5.3 -> 2.0.0" */
	char *failure;              /* the failure line: "AttributeError: 'DataFrame' ..." */
	char *pattern;              /* pattern id or NULL */
	struct dd_strv task_ids;
	char *fingerprint;
	char *first_bad_run, *last_good_run;
	int64_t first_bad_ms, last_good_ms;    /* wall clock: the first failed try's start, the last good
	                                          try's (0 none) */
	int64_t first_bad_logical_ms, last_good_logical_ms;   /* those runs' logical dates */
	size_t failed_runs, runs_since_onset, failed_since_onset, tries;
	int still_failing;
	int stuck;                  /* not a failure: work still queued or running far past its
	                               usual time (failure says what; first_bad_run is that run) */
	struct dd_entity *entities; /* the failure's, plus package/from/to of an implicated change */
	size_t n_entities;
	struct rk_commit *commits;  /* implicated commits, most suspect first */
	size_t n_commits;
	struct rk_evidence *evidence;
	size_t n_evidence;
	struct dd_strv checks;      /* at most RK_MAX_CHECKS, the most specific first */
	struct dd_strv fix;         /* at most RK_MAX_FIXES; every format shows all of both */
	char *excerpt;              /* redacted log lines around the failure, may be NULL */
	int64_t window_from_ms, window_to_ms;  /* git window searched, 0 when no repository */
	char *bundle_from, *bundle_to;         /* the bundle versions that bounded the candidates instead, or NULL */
	struct rk_outside *outside;            /* a dependency change from outside the repository, or NULL */
	struct rk_verdict *verdicts;           /* what evidence said of it, in order */
	size_t n_verdicts;
	int confirmed;                         /* 1: the evidence confirms it (more confirmations than
	                                          refutations); -1: refutes it; 0: neither */
};

struct rk_result {
	struct rk_cause *causes;    /* best first */
	size_t n_causes;
	struct dd_strv notes;       /* things the user should know (a repository could not be read ...) */
	struct dd_strv also_seen;   /* failures with nothing to say beyond "a try failed", one line each */
	struct dd_strv unused_evidence;   /* recognised outputs that bear on no cause, one line each */
};

/* in: evidence to weigh (may be NULL). */
int rank_causes(const struct an_result *an, struct gitcorr_repo **repos, size_t n_repos,
                const struct rk_input *in, struct rk_result *out, struct dd_error *err);
void rank_release(struct rk_result *r);

#endif
