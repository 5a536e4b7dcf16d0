/*
 * logline.h - private to the log reader (src/logparse.c, src/logline.c):
 * the per-line parser the streaming reader and the JSON forms share.
 */
#ifndef DAGDOC_LOGLINE_H
#define DAGDOC_LOGLINE_H

#include "dagdoc/logparse.h"

/* Peels decorations and logging prefixes off L->msg/L->msg_len (in place;
 * the pointers stay inside the original text) and sets L->level and
 * L->ts_ms from what it finds.  Returns the format of the outermost
 * logging prefix (DD_LOGFMT_PLAIN when there was none). */
enum dd_logformat logline_parse(struct dd_logline *L);

/* A level name in any case ("error", "Warning", "exception"): 10-50, 0 when unknown. */
int logline_level_name(const char *s, size_t n);

#endif
