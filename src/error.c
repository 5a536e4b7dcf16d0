/*
 * error.c - filling struct dd_error (see include/dagdoc/error.h).
 */
#include "dagdoc/util.h"

int dd_error_set(struct dd_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int dd_error_prefix(struct dd_error *err, const char *fmt, ...)
{
	char old[DD_ERROR_MSG_MAX];
	size_t n;
	int w;
	va_list ap;

	if (!err)
		return DD_ERR;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	w = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w;
	if (n < sizeof(err->msg) - 1) {
		size_t room = sizeof(err->msg) - 1 - n, len = strlen(old);

		if (len > room)
			len = room;
		memcpy(err->msg + n, old, len);
		err->msg[n + len] = '\0';
	}
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
	default: return "error";
	}
}
