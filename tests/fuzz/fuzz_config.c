/*
 * fuzz_config.c - libFuzzer target: arbitrary bytes as a configuration
 * file through the YAML loader (libyaml events, then the document).  Must
 * not crash, hang or leak; a loaded configuration has named sources of a
 * known kind, and a refusal says where (FILE:LINE:COL).
 */
#include "dagdoc/util.h"

#include "dagdoc/config.h"
#include "dagdoc/secrets.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct dd_config cfg;
	struct dd_error err = DD_ERROR_INIT;

	if (config_load_string("f.yaml", (const char *)data, size, &cfg, &err) == 0) {
		for (size_t i = 0; i < cfg.n_sources; i++)
			if (!cfg.sources[i].name || !cfg.sources[i].kind)
				abort();
		config_release(&cfg);
	} else if (err.code == DD_EPARSE && strncmp(err.msg, "f.yaml:", 7)) {
		abort();
	}
	secrets_clear();   /* what the loader registered: one input's, not all of them */
	return 0;
}
