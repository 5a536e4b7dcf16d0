/*
 * fuzz_quiet.c - libFuzzer target: arbitrary bytes as the successful logs
 * of one task (split into runs at each 0x1e byte, a day apart) through the
 * quiet failure detectors (templates, input dates, training losses), the
 * findings and the sensor's upstream DAG.  Must not crash, hang or leak.
 */
#include "dagdoc/util.h"

#include <math.h>

#include "dagdoc/quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct quiet_task *q = quiet_task_new("task");
	struct quiet_finding *v = NULL;
	size_t n = 0, cap = 0, runs = 0;
	char *up;

	while (p <= end && runs < 64) {
		const char *sep = memchr(p, 0x1e, (size_t)(end - p));
		size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
		char run[32];

		snprintf(run, sizeof(run), "r%zu", runs);
		quiet_task_add_log(q, run, 1764547200000LL + (int64_t)runs * 86400000LL, p, len);
		runs++;
		if (!sep)
			break;
		p = sep + 1;
	}
	quiet_task_finish(q, &v, &n, &cap);
	for (size_t i = 0; i < n; i++) {
		double *y = dd_xcalloc(v[i].n_values + 1, sizeof(*y));
		char s[64];

		quiet_scale(v[i].values, v[i].n_values, y);
		quiet_format_value(v[i].now, s, sizeof(s));
		if (v[i].onset >= v[i].n_values || !v[i].detail || !v[i].what)
			__builtin_trap();
		free(y);
	}
	quiet_findings_free(v, n);
	quiet_task_free(q);
	up = quiet_sensor_upstream((const char *)data, size);
	free(up);
	return 0;
}
