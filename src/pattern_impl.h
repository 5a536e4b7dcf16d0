/*
 * pattern_impl.h - private to the pattern library (src/pattern.c: the
 * library, regexes, placeholders, discovery; pattern_load.c: the YAML
 * loader; pattern_match.c: the prefilter and matching).  pattern.h is the
 * public surface.
 */
#ifndef DAGDOC_PATTERN_IMPL_H
#define DAGDOC_PATTERN_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <hs.h>
#include <sys/types.h>

#include "dagdoc/pattern.h"

/* PCRE2 limits: far above what any real log line needs, far below a hang. */
#define PAT_MATCH_LIMIT 200000u
#define PAT_DEPTH_LIMIT 5000u
#define PAT_HEAP_LIMIT_KB 20480u
#define PAT_JIT_STACK_MAX (512 * 1024)

/* One compiled regex; the library's flat list of them is the prefilter's id space. */
struct pat_regex {
	pcre2_code *code;
	size_t pattern;            /* index into lib->pats */
	size_t index;              /* index within the pattern */
	unsigned prefilter;        /* 0 exact, 1 approximate, 2 not in the database (always run) */
	char **group_name;         /* by group number (NULL when unnamed), owned */
	uint32_t n_groups;
};

struct pat_library {
	struct pat_pattern **pats;  /* library patterns and markers, load order */
	size_t n_pats, cap_pats;
	struct pat_regex *rx;       /* built by finalize */
	size_t n_rx;
	size_t *first_rx;           /* per pattern: index of its first regex in rx */
	size_t *pub;                /* indices of non-marker patterns */
	size_t n_pub;
	size_t n_markers;
	size_t *always;             /* regex ids not in the prefilter */
	size_t n_always;
	hs_database_t *db;
	int finalized;
	int n_gen;                  /* user sources added so far */
	struct pat_stats stats;
	uint32_t max_ovec;
	struct kb *knowledge;       /* owned; may be NULL */
	/* Compiled code built at add time, kept until finalize (per pattern, per regex). */
	pcre2_code ***codes;
	size_t cap_codes;
};

/* pattern.c */
void pattern_free(struct pat_pattern *p);
void free_codes(pcre2_code **codes, size_t n);
/* Compiles one regex as the library does (JIT, no UTF); NULL and a
 * message "regex error at offset N: ..." in msg when it does not compile. */
pcre2_code *compile_regex(const char *src, struct dd_buf *msg);
int code_has_group(const pcre2_code *code, const char *name, size_t len);
/* The next {name} placeholder of s from *pos (see pat_fill): 1 and its
 * name's offset and length, 0 when none is left. */
int next_placeholder(const char *s, size_t *pos, size_t *name_off, size_t *name_len);
ssize_t find_index(const struct pat_library *lib, const char *id);

#endif
