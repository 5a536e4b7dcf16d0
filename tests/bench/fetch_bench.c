/* fetch_bench.c - times conn_fetch_logs on the fake Airflow (built and run
 * by tests/bench/fetch.sh).
 *
 *   fetch_bench URL DAG TRIES LATENCY_MS [CONCURRENCY]
 *
 * Lists the DAG's runs, then fetches the log of tries 1..TRIES of task
 * "extract" of every run in one conn_fetch_logs call, and prints the wall
 * time of that call against the lower bound requests x latency / concurrency. */
#include "dagdoc/util.h"

#include <sys/resource.h>

#include "dagdoc/connector.h"

struct runs {
	struct dd_strv ids;
};

static int add_run(const struct dd_run *r, void *ud)
{
	dd_strv_push(ud, r->run_id);
	return 0;
}

struct tally {
	size_t logs, failed;
	uint64_t bytes;
};

static int on_log(const struct dd_log_request *req, const char *text, size_t len, int truncated,
                  const struct dd_error *err, void *ud)
{
	struct tally *t = ud;

	(void)req;
	(void)text;
	(void)truncated;
	if (err)
		t->failed++;
	else
		t->logs++;
	t->bytes += len;
	return 0;
}

int main(int argc, char **argv)
{
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv runs = DD_STRV_INIT;
	struct dd_log_request *reqs;
	struct dd_conn_stats before, after;
	struct tally t = { 0, 0, 0 };
	struct rusage ru;
	int tries, latency_ms;
	size_t n = 0;
	int64_t t0, t1;
	double wall, bound;

	if (argc < 5) {
		fprintf(stderr, "usage: fetch_bench URL DAG TRIES LATENCY_MS [CONCURRENCY]\n");
		return 2;
	}
	tries = atoi(argv[3]);
	latency_ms = atoi(argv[4]);
	memset(&s, 0, sizeof(s));
	s.name = "bench";
	s.kind = DD_SOURCE_AIRFLOW;
	s.url = argv[1];
	s.concurrency = argc > 5 ? atoi(argv[5]) : 8;
	s.timeout_s = 60;
	s.connect_timeout_s = 10;
	s.max_log_bytes = 16 << 20;
	s.origin = "environment";
	if (conn_open(&s, 0, &c, &e) < 0 || conn_list_runs(c, argv[2], 0, add_run, &runs, &e) < 0) {
		fprintf(stderr, "fetch_bench: %s\n", e.msg);
		return 2;
	}
	reqs = dd_xcalloc(runs.n * (size_t)tries + 1, sizeof(*reqs));
	for (size_t i = 0; i < runs.n; i++)
		for (int k = 1; k <= tries; k++) {
			reqs[n].dag_id = argv[2];
			reqs[n].run_id = runs.v[i];
			reqs[n].task_id = "extract";
			reqs[n].map_index = -1;
			reqs[n].try_number = k;
			n++;
		}
	conn_stats(c, &before);
	t0 = dd_now_ms();
	if (conn_fetch_logs(c, reqs, n, on_log, &t, &e) < 0) {
		fprintf(stderr, "fetch_bench: %s\n", e.msg);
		return 2;
	}
	t1 = dd_now_ms();
	conn_stats(c, &after);
	getrusage(RUSAGE_SELF, &ru);
	wall = (double)(t1 - t0) / 1000.0;
	bound = (double)(after.requests - before.requests) * latency_ms / 1000.0 / s.concurrency;
	printf("%s: %zu logs fetched (%zu failed), %.1f MB, %llu requests, %llu retries\n",
	       conn_describe(c), t.logs, t.failed, (double)t.bytes / 1e6,
	       (unsigned long long)(after.requests - before.requests),
	       (unsigned long long)(after.retries - before.retries));
	printf("wall %.2f s; lower bound %llu x %d ms / %d = %.2f s; ratio %.2f (target <= 1.5); max RSS %ld MB\n",
	       wall, (unsigned long long)(after.requests - before.requests), latency_ms, s.concurrency,
	       bound, bound > 0 ? wall / bound : 0.0, ru.ru_maxrss / 1024);
	free(reqs);
	dd_strv_release(&runs);
	conn_close(c);
	return t.failed ? 1 : 0;
}
