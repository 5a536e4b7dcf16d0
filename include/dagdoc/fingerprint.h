/*
 * fingerprint.h - one id for the same failure across runs
 * (src/fingerprint.c): what dagdoc groups failures by.
 */
#ifndef DAGDOC_FINGERPRINT_H
#define DAGDOC_FINGERPRINT_H

#include <stddef.h>

#include "dagdoc/traceback.h"

struct dd_buf;

/* Fingerprint: exception type + message normalised (numbers, hex, UUIDs, timestamps, paths, quoted values)
 * + the top user frame "file:func" (no line number). Returns a 16-hex-char id (malloc'd);
 * if norm_out != NULL the normalised text that was hashed is appended to it (for --explain and tests):
 * "ExcType|normalised message|dags/file.py:func".
 * exc_type and message may be NULL (treated as ""); the hash is FNV-1a 64.
 * The frame's file is reduced to its last two path components (so the same DAG
 * file deployed under different roots matches). */
char *dd_fingerprint(const char *exc_type, const char *message, const struct dd_frame *top_app, struct dd_buf *norm_out);
/* Normalise one message the same way (exposed for tests / unmatched lines); appends to out.
 *   timestamps (2024-05-01T02:00:13.123+0000 and the like) -> <ts>
 *   UUIDs -> <uuid>; 0x... and hex runs of 8+ characters with a digit -> <hex>
 *   numbers (digits, with inner '.' or ','), except digits glued to a letter
 *     such as python3, s3, int64 -> <n>
 *   temp paths (/tmp/.., /var/tmp/.., /var/folders/.., /dev/shm/.., and any
 *     path with a mkstemp-style component (tmpk2x9ab)) -> <tmp>
 *   quoted values ('..', "..", `..`) -> '<*>' (same quote), except a plain
 *     dotted identifier such as 'pandas', 'x', 'DataFrame.append' which names
 *     what failed and is kept; the inside of a kept value is left as is
 *   whitespace runs and newlines -> one space; leading/trailing space dropped;
 *   output capped at 1024 bytes. */
void dd_normalize_message(const char *msg, size_t len, struct dd_buf *out);

#endif
