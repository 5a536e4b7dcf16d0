/*
 * reqparse.h - what packages and versions a dependency file pins, and how
 * two versions of it differ ("pandas 1.5.3 -> 2.0.0").
 *
 * Understands requirements*.txt / constraints*.txt (extras, markers,
 * -r/-c includes through a callback), pyproject.toml (PEP 621
 * [project] dependencies and optional-dependencies, Poetry
 * [tool.poetry.*dependencies]), poetry.lock and uv.lock ([[package]]
 * name/version), Pipfile.lock (JSON, cJSON), conda environment.yml
 * (libyaml; pip: sub-lists too) and Dockerfile (FROM image:tag as the
 * package "image", `pip install` arguments).
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
};

struct dd_reqset {
	struct dd_req *v;
	size_t n;
	size_t cap;
};
#define DD_REQSET_INIT { NULL, 0, 0 }

struct dd_req_change {
	char *package;
	char *from;        /* NULL when added */
	char *to;          /* NULL when removed */
	char *file;        /* the file whose change says so */
};

enum reqparse_kind {
	REQ_NONE = 0,
	REQ_TXT,           /* requirements*.txt, constraints*.txt, *.in */
	REQ_PYPROJECT,
	REQ_LOCK_TOML,     /* poetry.lock, uv.lock */
	REQ_PIPFILE_LOCK,
	REQ_CONDA,
	REQ_DOCKERFILE,
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
void reqset_release(struct dd_reqset *set);

/* Differences from old to new, sorted by package name; file copied in. */
void reqparse_diff(const struct dd_reqset *old, const struct dd_reqset *new_, const char *file,
                   struct dd_req_change **out, size_t *n_out);
void req_changes_free(struct dd_req_change *changes, size_t n);

/* PEP 503 name normalisation into a new string. */
char *reqparse_normalize_name(const char *name, size_t len);

#endif
