/*
 * fuzz_retry_after.c - libFuzzer target: arbitrary bytes as the value of
 * a Retry-After header (delta-seconds or an HTTP-date).  Must not crash;
 * a value it reads is a wait of 0 or more ms, never more than a year for
 * delta-seconds, and the same value read later never asks for longer.
 */
#include "dagdoc/util.h"

#include "dagdoc/http.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *v = dd_xstrndup((const char *)data, size);
	int64_t now = 1795317000000LL, a = -1, b = -1;
	int ra = http_parse_retry_after(v, now, &a), rb = http_parse_retry_after(v, now + 5000, &b);

	if (ra != rb || (ra == 0 && (a < 0 || b < 0 || b > a)))
		abort();
	if (ra == 0 && v[strspn(v, " \t")] >= '0' && v[strspn(v, " \t")] <= '9' && a > 86400LL * 365 * 1000)
		abort();
	free(v);
	return 0;
}
