/*
 * fuzz_pyimports.c - libFuzzer target: arbitrary bytes as a Python file
 * through the import reader.  Must not crash, hang or leak, and every
 * module name it returns is non-empty and made of letters, digits, '_'
 * and '.' only.
 */
#include "dagdoc/util.h"
#include "dagdoc/pyimports.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *text = dd_xstrndup((const char *)data, size);
	struct dd_strv mods = DD_STRV_INIT;

	pyimports_parse(text, &mods);
	for (size_t i = 0; i < mods.n; i++) {
		const char *m = mods.v[i];

		if (!*m || strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != strlen(m))
			abort();
	}
	dd_strv_release(&mods);
	free(text);
	return 0;
}
