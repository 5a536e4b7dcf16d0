/*
 * fuzz_traceback.c - libFuzzer target: arbitrary bytes through the log
 * reader (in chunks whose sizes come from the input), the traceback parser,
 * the redactor and the fingerprint.  Must not crash, hang or leak.
 */
#include "dagdoc/util.h"
#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"
#include "dagdoc/fingerprint.h"
#include "dagdoc/redact.h"

struct fz {
	struct dd_tbparser *tb;
	struct dd_redactor *red;
	struct dd_buf out;
	size_t lines;
};

static int on_line(const struct dd_logline *l, void *ud)
{
	struct fz *z = ud;

	/* touch every byte the reader hands out */
	if (l->msg_len && (l->msg[0] == 0x7f || l->msg[l->msg_len - 1] == 0x7f))
		z->lines++;
	if (l->raw_len && l->raw[l->raw_len - 1] == 0x7f)
		z->lines++;
	tbparser_line(z->tb, l);
	dd_buf_reset(&z->out);
	redactor_line(z->red, &z->out, l->msg, l->msg_len);
	if ((z->lines++ & 7) == 0) {
		dd_buf_reset(&z->out);
		dd_normalize_message(l->msg, l->msg_len, &z->out);
	}
	return z->lines > 200000;   /* exercise the stop path on huge inputs */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = { tbparser_new(), redactor_new(), DD_BUF_INIT, 0 };
	struct dd_logreader *r = logreader_new();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_logline one;
	struct dd_buf scratch = DD_BUF_INIT;
	size_t pos = 0, step = 1, i;
	uint8_t mode = size ? data[0] : 0;

	if (mode & 1)
		logreader_set_doc_limit(r, 512 + (size_t)(mode >> 1) * 16);
	if (size) {
		data++;
		size--;
	}
	while (pos < size) {
		size_t n = step;

		if (n > size - pos)
			n = size - pos;
		if (logreader_feed(r, (const char *)data + pos, n, on_line, &z, &err))
			break;
		pos += n;
		step = (step * 7 + (size_t)data[pos - 1]) % 97 + 1;
	}
	logreader_finish(r, on_line, &z, &err);
	tbparser_finish(z.tb);
	(void)logparse_format_name(logreader_format(r));

	for (i = 0; i < tbparser_count(z.tb); i++) {
		const struct dd_traceback *t = tbparser_get(z.tb, i);
		const struct dd_frame *top = traceback_top_app_frame(t);
		struct dd_buf norm = DD_BUF_INIT;
		char *fp = dd_fingerprint(t->exc_type, t->exc_message, top, &norm);

		if (strlen(fp) != 16)
			abort();
		free(fp);
		dd_buf_release(&norm);
	}
	if (tbparser_last(z.tb) && !tbparser_last(z.tb)->exc_type)
		abort();

	/* whole-input variants */
	dd_buf_reset(&z.out);
	redact_append(&z.out, (const char *)data, size);
	dd_buf_reset(&z.out);
	dd_normalize_message((const char *)data, size, &z.out);
	(void)logparse_line((const char *)data, size, &scratch, &one);

	dd_buf_release(&scratch);
	dd_buf_release(&z.out);
	redactor_free(z.red);
	tbparser_free(z.tb);
	logreader_free(r);
	return 0;
}
