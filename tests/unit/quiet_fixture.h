/* quiet_fixture.h - one quiet failure (quiet.h) built by hand, for the
 * renderers' unit tests: a value finding of `task` whose values are v[0..n),
 * the onset at `onset`, runs named r0, r1, ... a day apart before `last_ms`. */
#ifndef DAGDOC_TEST_QUIET_FIXTURE_H
#define DAGDOC_TEST_QUIET_FIXTURE_H

#include "dagdoc/quiet.h"
#include "dagdoc/util.h"

static inline struct quiet_finding *quiet_fixture(const char *task, const char *what, const char *detail,
						  const double *v, size_t n, size_t onset, int64_t last_ms)
{
	struct quiet_finding *q = dd_xcalloc(1, sizeof(*q));

	q->kind = QUIET_VALUE;
	q->task_id = dd_xstrdup(task);
	q->what = dd_xstrdup(what);
	q->detail = dd_xstrdup(detail);
	q->n_values = n;
	q->values = dd_xcalloc(n, sizeof(double));
	q->run_ids = dd_xcalloc(n, sizeof(char *));
	q->run_ms = dd_xcalloc(n, sizeof(int64_t));
	for (size_t i = 0; i < n; i++) {
		q->values[i] = v[i];
		q->run_ids[i] = dd_xasprintf("r%zu", i);
		q->run_ms[i] = last_ms - (int64_t)(n - 1 - i) * 86400000LL;
	}
	q->onset = onset;
	q->now = v[n - 1];
	return q;
}

#endif
