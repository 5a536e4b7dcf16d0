/*
 * reqparse.h - what packages and versions a dependency file pins, and how
 * two versions of it differ ("pandas 1.5.3 -> 2.0.0").
 *
 * Understands requirements*.txt / constraints*.txt (extras, markers,
 * -r/-c includes through a callback), pyproject.toml (PEP 621
 * [project] dependencies and optional-dependencies, Poetry
 * [tool.poetry.*dependencies]), poetry.lock and uv.lock ([[package]]
 * name/version), Pipfile and Pipfile.lock (JSON, cJSON), conda
 * environment.yml (libyaml; pip: sub-lists too) and Dockerfile (FROM
 * image:tag as the package "image", `pip install` arguments).
 *
 * The interpreter is the package "python", its version as the file writes
 * it: a Dockerfile's FROM python:3.11-slim or apache/airflow:2.10.5-python3.11
 * (ARG defaults substituted; the Airflow and Prefect images also give
 * apache-airflow / prefect their version), .python-version, runtime.txt
 * ("python-3.11.4"), requires-python, Poetry's `python =`, Pipfile's and
 * Pipfile.lock's python_version, conda's python=.
 *
 * The dependency graph a file records is kept as edges ("pandas requires
 * numpy"): poetry.lock's [package.dependencies], uv.lock's dependencies =
 * [...], a "dependencies" list or object in a Pipfile.lock entry, and the
 * `# via` comments pip-compile and uv write under each pin.
 *
 * Names are normalised as PEP 503 says (lower case, runs of -_. -> "-").
 * A version is the pinned version ("2.0.0" for ==2.0.0) or the specifier
 * as written without spaces (">=2.0,<3"), "" when unpinned.
 *
 * Ownership: a dd_reqset owns its entries (reqset_release); changes from
 * reqparse_diff are owned by the caller (req_changes_free).
 */
#ifndef DAGDOC_REQPARSE_H
#define DAGDOC_REQPARSE_H

#include <stddef.h>

#include "dagdoc/util.h"

struct dd_req {
	char *name;
	char *version;
	int line;          /* 1-based line of the parsed file that declares it; 0 when it came
	                      from an included file or the form has no lines */
};

/* `from` requires `to` (both normalised), as the file's dependency graph says. */
struct dd_req_edge {
	char *from;
	char *to;
};

struct dd_reqset {
	struct dd_req *v;
	size_t n;
	size_t cap;
	struct dd_req_edge *edges;
	size_t n_edges;
	size_t cap_edges;
};
#define DD_REQSET_INIT { NULL, 0, 0, NULL, 0, 0 }

struct dd_req_change {
	char *package;
	char *from;        /* NULL when added */
	char *to;          /* NULL when removed */
	char *file;        /* the file whose change says so */
	struct dd_strv required_by;   /* the packages that require it by the file's graph (the new
	                                 side's, else the old side's), sorted; empty when the file
	                                 records no graph */
};

enum reqparse_kind {
	REQ_NONE = 0,
	REQ_TXT,           /* requirements*.txt, constraints*.txt, *.in */
	REQ_PYPROJECT,
	REQ_LOCK_TOML,     /* poetry.lock, uv.lock */
	REQ_PIPFILE_LOCK,
	REQ_CONDA,
	REQ_DOCKERFILE,
	REQ_PYTHON_VERSION,   /* .python-version, runtime.txt: the interpreter alone */
	REQ_PIPFILE,
};

/* The kind of file a path names, by its base name; REQ_NONE otherwise. */
enum reqparse_kind reqparse_kind_for(const char *path);

/* Reads an included file (-r/-c) named relative to the including file;
 * returns 0 and appends its text to out, or non-zero when absent. */
typedef int (*reqparse_include_fn)(const char *path, struct dd_buf *out, void *ud);

/* Parses text as `path` (its kind from reqparse_kind_for) into out
 * (added to).  Never fails on odd input: what it cannot read it skips. */
void reqparse(const char *path, const char *text, size_t len,
              reqparse_include_fn include, void *ud, struct dd_reqset *out);

/* Version of `name` (normalised or not) in set, NULL when absent. */
const char *reqset_get(const struct dd_reqset *set, const char *name);
/* The entry of `name` (normalised or not), NULL when absent. */
const struct dd_req *reqset_find(const struct dd_reqset *set, const char *name);
/* 1 when the set's graph says `from` requires `to` (names normalised or not). */
int reqset_requires(const struct dd_reqset *set, const char *from, const char *to);
/* 1 when a version as reqparse writes it pins one release ("2.0.0"), 0 when it
 * leaves room for another ("", ">=1.5", "~=2.31", "^2.0", "2.*"). */
int reqparse_is_exact(const char *version);
void reqset_release(struct dd_reqset *set);

/* Differences from old to new, sorted by package name; file copied in;
 * each change's required_by from the graph of new (of old when removed). */
void reqparse_diff(const struct dd_reqset *old, const struct dd_reqset *new_, const char *file,
                   struct dd_req_change **out, size_t *n_out);
void req_changes_free(struct dd_req_change *changes, size_t n);
/* One change: its fields freed (the struct zeroed, not freed); a deep copy into *to. */
void req_change_release(struct dd_req_change *ch);
void req_change_copy(struct dd_req_change *to, const struct dd_req_change *from);

/* PEP 503 name normalisation into a new string. */
char *reqparse_normalize_name(const char *name, size_t len);

#endif
