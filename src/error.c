/*
 * error.c - filling struct dd_error (see include/dagdoc/error.h).  Every
 * message goes through the credential mask (include/dagdoc/secrets.h).
 */
#include "dagdoc/util.h"

#include "dagdoc/secrets.h"

/* Copies text into err->msg, every registered secret masked first: a
 * secret longer than the room left is never cut into a readable prefix. */
static void set_masked(struct dd_error *err, const struct dd_buf *text)
{
	struct dd_buf m = DD_BUF_INIT;

	secrets_mask_append(&m, dd_buf_str(text), text->len);
	snprintf(err->msg, sizeof(err->msg), "%s", dd_buf_str(&m));
	secrets_mask(err->msg);
	dd_buf_release(&m);
}

int dd_error_set(struct dd_error *err, int code, const char *fmt, ...)
{
	struct dd_buf b = DD_BUF_INIT;
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	dd_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	set_masked(err, &b);
	dd_buf_release(&b);
	return code;
}

int dd_error_prefix(struct dd_error *err, const char *fmt, ...)
{
	struct dd_buf b = DD_BUF_INIT;
	va_list ap;

	if (!err)
		return DD_ERR;
	va_start(ap, fmt);
	dd_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	dd_buf_adds(&b, err->msg);
	set_masked(err, &b);
	dd_buf_release(&b);
	return err->code ? err->code : DD_ERR;
}

void dd_error_clear(struct dd_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *dd_code_name(int code)
{
	switch (code) {
	case DD_OK: return "ok";
	case DD_EUSAGE: return "usage";
	case DD_EIO: return "io";
	case DD_EPARSE: return "parse";
	case DD_ENOTFOUND: return "not_found";
	case DD_EAUTH: return "auth";
	case DD_ENET: return "network";
	case DD_ELIMIT: return "limit";
	case DD_ESTORE: return "store";
	case DD_EPROTO: return "protocol";
	case DD_EINTR: return "interrupted";
	case DD_EGIT: return "git";
	case DD_EEXIST: return "exists";
	case DD_EBUSY: return "busy";
	default: return "error";
	}
}
