/* Unit tests: src/quiet.c and src/quiet_train.c, quiet failures in the logs
 * of successful tries.  The lines are as Airflow 2 (logging_mixin.py behind
 * the task prefix), Airflow 3 (JSON lines), Prefect, Keras, PyTorch
 * Lightning and the Hugging Face Trainer print them; the healthy histories
 * vary as real ones do and must not be flagged. */
#include "dagdoc/util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "dagdoc/quiet.h"

#define DAY_MS 86400000LL
#define DAY0   (20423LL * DAY_MS) /* 2025-12-01 */

struct found {
	struct quiet_finding *v;
	size_t n, cap;
};

/* A deterministic wobble in [-1, 1] (runs of a real task vary). */
static double wobble(unsigned i, unsigned salt)
{
	unsigned x = (i + 1) * 2654435761u ^ (salt * 40503u);

	x ^= x >> 13;
	x *= 0x5bd1e995u;
	x ^= x >> 15;
	return (double)(x % 2001) / 1000.0 - 1.0;
}

static void a2_line(struct dd_buf *b, int64_t ms, const char *src, const char *msg)
{
	char iso[40];

	dd_format_time(ms, 0, iso, sizeof(iso));
	dd_buf_addf(b, "[%.19s.%03d+0000] {%s} INFO - %s\n", iso, (int)(ms % 1000), src, msg);
}

/* An Airflow 2 success log of one load task, with its own lines around the counts. */
static char *a2_log(int64_t logical_ms, unsigned i, long rows, int files, const char *input)
{
	struct dd_buf b = DD_BUF_INIT;
	int64_t t = logical_ms + DAY_MS + 3000;
	char msg[256], day[16];

	dd_format_time(logical_ms, 0, day, sizeof(day));
	a2_line(&b, t, "taskinstance.py:2867", "Starting attempt 1 of 2");
	snprintf(msg, sizeof(msg), "Executing <Task(PythonOperator): load_orders> on %.10s 02:00:00+00:00", day);
	a2_line(&b, t, "taskinstance.py:2890", msg);
	snprintf(msg, sizeof(msg), "Started process %u to run task", 21000 + i * 7);
	a2_line(&b, t, "standard_task_runner.py:72", msg);
	if (input) {
		snprintf(msg, sizeof(msg), "Reading %s", input);
		a2_line(&b, t + 1000, "logging_mixin.py:190", msg);
	}
	snprintf(msg, sizeof(msg), "Loaded %'ld rows into warehouse.orders", rows);
	{
		/* thousands separators as Python's f"{rows:,}" writes them */
		char num[32], sep[40];
		size_t n = (size_t)snprintf(num, sizeof(num), "%ld", rows), k = 0;

		for (size_t j = 0; j < n; j++) {
			sep[k++] = num[j];
			if ((n - j - 1) % 3 == 0 && j + 1 < n)
				sep[k++] = ',';
		}
		sep[k] = '\0';
		snprintf(msg, sizeof(msg), "Loaded %s rows into warehouse.orders", sep);
	}
	a2_line(&b, t + 40000, "logging_mixin.py:190", msg);
	snprintf(msg, sizeof(msg), "wrote %d files to s3://lake/orders/", files);
	a2_line(&b, t + 41000, "logging_mixin.py:190", msg);
	snprintf(msg, sizeof(msg), "query took %.1f seconds", 30 + 10 * wobble(i, 7));
	a2_line(&b, t + 41000, "logging_mixin.py:190", msg);
	a2_line(&b, t + 42000, "python.py:240", "Done. Returned value was: None");
	a2_line(&b, t + 42000, "local_task_job_runner.py:243", "Task exited with return code 0");
	a2_line(&b, t + 42000, "taskinstance.py:3503", "1 downstream tasks scheduled from follow-on schedule check");
	return dd_buf_detach(&b);
}

static void finish(struct quiet_task *q, struct found *f)
{
	quiet_task_finish(q, &f->v, &f->n, &f->cap);
	quiet_task_free(q);
}

static void found_free(struct found *f)
{
	quiet_findings_free(f->v, f->n);
	memset(f, 0, sizeof(*f));
}

static void run_id(char *out, size_t n, int64_t ms)
{
	char iso[40];

	dd_format_time(ms, 0, iso, sizeof(iso));
	snprintf(out, n, "scheduled__%.19s+00:00", iso);
}

static void test_template(void **state)
{
	struct dd_buf shape = DD_BUF_INIT;
	struct quiet_num nums[4];
	int n;

	(void)state;
	n = quiet_template("Loaded 1,204,332 rows into warehouse.orders", 43, &shape, nums, 4);
	assert_int_equal(n, 1);
	assert_string_equal(dd_buf_str(&shape), "Loaded # rows into warehouse.orders");
	assert_true(nums[0].value == 1204332 && nums[0].count);
	dd_buf_reset(&shape);
	n = quiet_template("query took 3.2 seconds for 12 files", 35, &shape, nums, 4);
	assert_int_equal(n, 2);
	assert_false(nums[0].count);
	assert_true(nums[1].count && nums[1].value == 12);
	dd_buf_reset(&shape);
	assert_int_equal(quiet_template("42", 2, &shape, nums, 4), -1);
	dd_buf_release(&shape);
}

/* 20 noisy runs, then two that loaded nothing: a quiet failure from run 18. */
static void test_rows_fall_to_zero(void **state)
{
	struct quiet_task *q = quiet_task_new("load_orders");
	struct found f = {0};
	char rid[64];

	(void)state;
	for (unsigned i = 0; i < 20; i++) {
		int64_t ms = DAY0 + i * DAY_MS + 2 * 3600000LL;
		long rows = i < 18 ? (long)(1204332 * (1 + 0.15 * wobble(i, 1))) : 0;
		char *log = a2_log(ms, i, rows, 12, NULL);

		run_id(rid, sizeof(rid), ms);
		quiet_task_add_log(q, rid, ms, log, strlen(log));
		free(log);
	}
	finish(q, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, QUIET_VALUE);
	assert_string_equal(f.v[0].what, "Loaded # rows into warehouse.orders");
	assert_int_equal(f.v[0].onset, 18);
	assert_true(f.v[0].now == 0);
	assert_true(f.v[0].usual > 1000000);
	assert_int_equal(f.v[0].n_values, 20);
	assert_non_null(strstr(f.v[0].detail, "since run scheduled__2025-12-19"));
	found_free(&f);
}

/* A cliff that is not zero: 12 files a day, then 2. */
static void test_files_cliff(void **state)
{
	struct quiet_task *q = quiet_task_new("load_orders");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 12; i++) {
		int64_t ms = DAY0 + i * DAY_MS;
		char *log = a2_log(ms, i, (long)(50000 * (1 + 0.1 * wobble(i, 3))), i < 11 ? 12 : 2, NULL);

		quiet_task_add_log(q, "r", ms, log, strlen(log));
		free(log);
	}
	finish(q, &f);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.v[0].what, "wrote # files to s3://lake/orders/");
	assert_true(f.v[0].now == 2 && f.v[0].usual == 12);
	found_free(&f);
}

/* Healthy: weekends load half as much, weekdays vary by a third, one
 * holiday loads a tenth; durations and pids move; nothing is flagged. */
static void test_noisy_history_not_flagged(void **state)
{
	struct quiet_task *q = quiet_task_new("load_orders");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 30; i++) {
		int64_t ms = DAY0 + i * DAY_MS;
		double base = (i % 7 == 5 || i % 7 == 6) ? 600000 : 1200000;
		long rows = (long)(base * (1 + 0.33 * wobble(i, 5)));
		char *log;

		if (i == 24)
			rows = 130000; /* a holiday: low, once, then back */
		log = a2_log(ms, i, rows, 10 + (int)(3 * wobble(i, 9)), NULL);
		quiet_task_add_log(q, "r", ms, log, strlen(log));
		free(log);
	}
	finish(q, &f);
	assert_int_equal(f.n, 0);
	found_free(&f);
}

/* A load that finds nothing every Sunday: a Sunday's 0 is a value the history has had. */
static void test_weekly_zero_not_flagged(void **state)
{
	struct quiet_task *q = quiet_task_new("load_orders");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 21; i++) {     /* the newest run is the third Sunday */
		int64_t ms = DAY0 + i * DAY_MS;
		char *log = a2_log(ms, i, i % 7 == 6 ? 0 : (long)(800000 * (1 + 0.2 * wobble(i, 11))), 12, NULL);

		quiet_task_add_log(q, "r", ms, log, strlen(log));
		free(log);
	}
	finish(q, &f);
	assert_int_equal(f.n, 0);
	found_free(&f);
}

/* Few runs: no judgement before QUIET_MIN_POINTS values. */
static void test_short_history_not_judged(void **state)
{
	struct quiet_task *q = quiet_task_new("load_orders");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 5; i++) {
		int64_t ms = DAY0 + i * DAY_MS;
		char *log = a2_log(ms, i, i < 4 ? 1000000 : 0, 12, NULL);

		quiet_task_add_log(q, "r", ms, log, strlen(log));
		free(log);
	}
	finish(q, &f);
	assert_int_equal(f.n, 0);
	found_free(&f);
}

/* The partition read lags a day as usual, then three. */
static void test_stale_partition(void **state)
{
	struct quiet_task *q = quiet_task_new("train_model");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 15; i++) {
		int64_t ms = DAY0 + i * DAY_MS + 2 * 3600000LL;
		int lag = i < 13 ? 1 : 3 + (int)(i - 13);
		char day[40], path[128], *log;

		dd_format_time(ms - lag * DAY_MS, 0, day, sizeof(day));
		snprintf(path, sizeof(path), "s3://lake/features/dt=%.10s/part-00000.parquet", day);
		log = a2_log(ms, i, (long)(80000 * (1 + 0.1 * wobble(i, 2))), 12, path);
		quiet_task_add_log(q, "r", ms, log, strlen(log));
		free(log);
	}
	finish(q, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, QUIET_STALE_INPUT);
	assert_int_equal(f.v[0].onset, 13);
	assert_true(f.v[0].now == 4 && f.v[0].usual == 1);
	found_free(&f);
}

/* Dates read from a WHERE, a path, ds=; not the run's own date in Airflow's lines. */
static void test_input_dates(void **state)
{
	struct quiet_task *q;
	struct found f = {0};

	(void)state;
	q = quiet_task_new("export");
	for (unsigned i = 0; i < 12; i++) {
		int64_t ms = DAY0 + i * DAY_MS;
		int lag = (i % 2) ? 1 : 0; /* alternating 0 and 1: usual */
		char day[40], msg[200];
		struct dd_buf b = DD_BUF_INIT;

		dd_format_time(ms - lag * DAY_MS, 0, day, sizeof(day));
		snprintf(msg, sizeof(msg), "Running query: SELECT * FROM orders WHERE order_date >= '%.10s'", day);
		a2_line(&b, ms + DAY_MS, "sql.py:512", msg);
		snprintf(msg, sizeof(msg), "Executing <Task(SQLExecuteQueryOperator): export> on %.10s 00:00:00+00:00",
			 day);
		a2_line(&b, ms + DAY_MS, "taskinstance.py:2890", msg);
		quiet_task_add_log(q, "r", ms, b.data, b.len);
		dd_buf_release(&b);
	}
	finish(q, &f);
	assert_int_equal(f.n, 0);
	found_free(&f);
}

/* Keras 2 output (fit verbose=1) through the Airflow 2 prefix. */
static char *keras_log(int64_t ms, const double *loss, const double *val, int epochs)
{
	struct dd_buf b = DD_BUF_INIT;
	char msg[300];

	for (int e = 0; e < epochs; e++) {
		snprintf(msg, sizeof(msg), "Epoch %d/%d", e + 1, epochs);
		a2_line(&b, ms + e * 1000, "logging_mixin.py:190", msg);
		snprintf(msg, sizeof(msg),
			 "1875/1875 [==============================] - 5s 2ms/step - loss: %.4f - "
			 "accuracy: 0.9150 - val_loss: %.4f - val_accuracy: 0.9550",
			 loss[e], val[e]);
		a2_line(&b, ms + e * 1000 + 500, "logging_mixin.py:190", msg);
	}
	return dd_buf_detach(&b);
}

static void test_keras_nan(void **state)
{
	struct quiet_task *q = quiet_task_new("train");
	struct found f = {0};
	double loss[5] = {0.61, 0.42, 0.35, 0.31, 0.29}, val[5] = {0.55, 0.44, 0.39, 0.37, 0.36};

	(void)state;
	for (unsigned i = 0; i < 8; i++) {
		char *log;

		if (i == 7) {
			loss[3] = loss[4] = NAN;
			val[3] = val[4] = NAN;
		}
		log = keras_log(DAY0 + i * DAY_MS, loss, val, 5);
		quiet_task_add_log(q, "r", DAY0 + i * DAY_MS, log, strlen(log));
		free(log);
	}
	finish(q, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, QUIET_TRAIN_NAN);
	assert_string_equal(f.v[0].what, "loss");
	assert_non_null(strstr(f.v[0].detail, "loss became nan at epoch 4"));
	assert_int_equal(f.v[0].onset, 7);
	found_free(&f);
}

/* Keras 3 (rich bar) over Airflow 3 JSON lines: healthy runs whose final
 * val_loss wanders (0.31..0.39) and whose val_loss bumps once at the end. */
static void test_keras3_healthy(void **state)
{
	struct quiet_task *q = quiet_task_new("train");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 20; i++) {
		struct dd_buf b = DD_BUF_INIT;

		for (int e = 0; e < 8; e++) {
			double l = 0.7 * exp(-0.3 * e) + 0.1 + 0.01 * wobble(i * 8 + (unsigned)e, 4);
			double v = 0.6 * exp(-0.3 * e) + 0.3 + 0.04 * wobble(i, 6) + (e == 7 ? 0.02 : 0);

			dd_buf_addf(
				&b,
				"{\"timestamp\":\"2025-12-02T02:00:%02dZ\",\"level\":\"info\",\"event\":\"Epoch %d/8\","
				"\"logger\":\"task.stdout\"}\n",
				e, e + 1);
			dd_buf_addf(
				&b,
				"{\"timestamp\":\"2025-12-02T02:00:%02dZ\",\"level\":\"info\",\"event\":\"1875/1875 "
				"\xe2\x94\x81\xe2\x94\x81\xe2\x94\x81 3s 1ms/step - accuracy: 0.8796 - loss: %.4f - "
				"val_accuracy: 0.9592 - val_loss: %.4f\",\"logger\":\"task.stdout\"}\n",
				e, l, v);
		}
		quiet_task_add_log(q, "r", DAY0 + i * DAY_MS, b.data, b.len);
		dd_buf_release(&b);
	}
	finish(q, &f);
	assert_int_equal(f.n, 0);
	found_free(&f);
}

/* PyTorch Lightning's progress bar: val_loss rises while train_loss falls. */
static void test_lightning_overfit(void **state)
{
	struct quiet_task *q = quiet_task_new("train");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 10; i++) {
		struct dd_buf b = DD_BUF_INIT;

		for (int e = 0; e < 10; e++) {
			double t = 0.9 * exp(-0.35 * e) + 0.05, v = 0.8 * exp(-0.3 * e) + 0.25;
			char msg[300];

			if (i == 9 && e >= 4)
				v = 0.31 + 0.06 * (e - 4); /* rises from epoch 5 on */
			snprintf(msg, sizeof(msg),
				 "Epoch %d: 100%%|\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88| 313/313 "
				 "[00:05<00:00, 58.21it/s, v_num=%u, train_loss=%.3f, val_loss=%.3f]",
				 e, i, t, v);
			a2_line(&b, DAY0 + e * 1000, "logging_mixin.py:190", msg);
		}
		quiet_task_add_log(q, "r", DAY0 + i * DAY_MS, b.data, b.len);
		dd_buf_release(&b);
	}
	finish(q, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, QUIET_TRAIN_OVERFIT);
	assert_non_null(strstr(f.v[0].detail, "val_loss rose from"));
	assert_non_null(strstr(f.v[0].detail, "while train_loss fell"));
	found_free(&f);
}

/* The Hugging Face Trainer's dict lines, through Prefect's console prefix: the loss diverges. */
static void test_hf_diverged(void **state)
{
	struct quiet_task *q = quiet_task_new("fine_tune");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 7; i++) {
		struct dd_buf b = DD_BUF_INIT;

		for (int s = 1; s <= 6; s++) {
			double loss = i == 6 && s > 2 ? 0.6 * pow(2.2, s - 2) : 0.69 - 0.08 * s;

			dd_buf_addf(&b,
				    "02:14:%02d.%03d | INFO    | Task run 'fine_tune-0' - {'loss': %.4f, 'grad_norm': "
				    "%.3f, 'learning_rate': %.1e, 'epoch': %.1f}\n",
				    s, 100 + s, loss, 2.3 + s * 0.1, 5e-5 * (1 - s / 7.0), s * 0.5);
			if (s % 2 == 0)
				dd_buf_addf(&b,
					    "02:14:%02d.%03d | INFO    | Task run 'fine_tune-0' - {'eval_loss': %.4f, "
					    "'eval_runtime': 1.234, 'eval_samples_per_second': 810.2, "
					    "'eval_steps_per_second': 101.3, 'epoch': %.1f}\n",
					    s, 500 + s, 0.7 - 0.05 * s, s * 0.5);
		}
		dd_buf_adds(&b, "02:15:00.000 | INFO    | Task run 'fine_tune-0' - {'train_runtime': 93.1, "
				"'train_samples_per_second': 64.4, 'train_steps_per_second': 8.05, 'train_loss': 0.51, "
				"'epoch': 3.0}\n");
		quiet_task_add_log(q, "r", DAY0 + i * DAY_MS, b.data, b.len);
		dd_buf_release(&b);
	}
	finish(q, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, QUIET_TRAIN_DIVERGED);
	assert_non_null(strstr(f.v[0].detail, "loss diverged"));
	found_free(&f);
}

/* Plain prints ("epoch 3 loss=0.2 val_loss=0.3"): the final val_loss is far worse than before. */
static void test_plain_worse(void **state)
{
	struct quiet_task *q = quiet_task_new("train");
	struct found f = {0};

	(void)state;
	for (unsigned i = 0; i < 12; i++) {
		struct dd_buf b = DD_BUF_INIT;

		for (int e = 1; e <= 5; e++) {
			double fin = i == 11 ? 0.95 : 0.30 + 0.03 * wobble(i, 8);

			dd_buf_addf(&b, "epoch %d loss=%.4f val_loss=%.4f\n", e, 1.0 / e, fin + (5 - e) * 0.01);
		}
		quiet_task_add_log(q, "r", DAY0 + i * DAY_MS, b.data, b.len);
		dd_buf_release(&b);
	}
	finish(q, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].kind, QUIET_TRAIN_WORSE);
	assert_string_equal(f.v[0].what, "val_loss");
	assert_true(fabs(f.v[0].now - 0.95) < 1e-9);
	assert_int_equal(f.v[0].onset, 11);
	found_free(&f);
}

/* No epochs, steps: a YOLO-style "=> STEP 750 ... giou_loss: nan" and detectron2's loss dict of
 * tensors ("'loss_cls': tensor(nan, device='cuda:1', ...)") name the step a NaN came at; one run
 * is enough for a NaN. */
static void test_nan_at_step(void **state)
{
	static const char *const logs[] = {
		"=> STEP  748   lr: 0.000598   giou_loss: 2.10   conf_loss: 6.18   prob_loss: 0.03   total_loss: 8.31\n"
		"=> STEP  749   lr: 0.000599   giou_loss: 2.54   conf_loss: 6.51   prob_loss: 0.02   total_loss: 9.07\n"
		"=> STEP  750   lr: 0.000600   giou_loss:  nan   conf_loss: 10.89   prob_loss: 0.06   total_loss:  "
		"nan\n",
		"[12/01 02:14:07 d2.utils.events]:  eta: 1:02:11  iter: 739  total_loss: 1.873  loss_cls: 0.412\n"
		"loss_dict = {'loss_cls': tensor(nan, device='cuda:1', grad_fn=<NllLossBackward>), 'loss_box_reg': "
		"tensor(nan, device='cuda:1', grad_fn=<DivBackward0>)}\n",
	};
	static const char *const want[] = {"giou_loss became nan at step 750", "loss_cls became nan at step 739"};

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_SIZE(logs); i++) {
		struct quiet_task *q = quiet_task_new("train");
		struct found f = {0};

		quiet_task_add_log(q, "r", DAY0, logs[i], strlen(logs[i]));
		finish(q, &f);
		assert_int_equal(f.n, 1);
		assert_int_equal(f.v[0].kind, QUIET_TRAIN_NAN);
		assert_string_equal(f.v[0].detail, want[i]);
		found_free(&f);
	}
}

static void test_sensor_upstream(void **state)
{
	static const char log[] =
		"[2025-12-02T02:00:04.112+0000] {external_task.py:266} INFO - Poking for tasks ['publish'] in dag "
		"ingest_orders on 2025-12-01T02:00:00+00:00 ... \n"
		"[2025-12-02T02:10:04.112+0000] {base.py:336} INFO - Success criteria met. Exiting.\n";
	char *up;

	(void)state;
	up = quiet_sensor_upstream(log, strlen(log));
	assert_string_equal(up, "ingest_orders");
	free(up);
	assert_null(quiet_sensor_upstream("Success criteria met.\n", 22));
}

static void test_scale(void **state)
{
	double v[4] = {2, NAN, 4, 3}, out[4];

	(void)state;
	quiet_scale(v, 4, out);
	assert_true(out[0] == 0 && isnan(out[1]) && out[2] == 1 && out[3] == 0.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_rows_fall_to_zero),
		cmocka_unit_test(test_files_cliff),
		cmocka_unit_test(test_noisy_history_not_flagged),
		cmocka_unit_test(test_weekly_zero_not_flagged),
		cmocka_unit_test(test_short_history_not_judged),
		cmocka_unit_test(test_stale_partition),
		cmocka_unit_test(test_input_dates),
		cmocka_unit_test(test_keras_nan),
		cmocka_unit_test(test_keras3_healthy),
		cmocka_unit_test(test_lightning_overfit),
		cmocka_unit_test(test_hf_diverged),
		cmocka_unit_test(test_plain_worse),
		cmocka_unit_test(test_nan_at_step),
		cmocka_unit_test(test_sensor_upstream),
		cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests_name("quiet", tests, NULL, NULL);
}
