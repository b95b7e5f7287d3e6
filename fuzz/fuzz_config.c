/*
 * libFuzzer target for the tern.conf parser (src/core/config.c): the input
 * is the file's text (up to its first NUL). Whatever comes back is freed;
 * an error must name the file and a line that exists.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *error = NULL, *end;
	struct config *cfg;
	size_t lines = 1, i;
	long line;

	if (size > 16 * 1024)
		return 0;
	text = xstrndup((const char *)data, size);
	for (i = 0; text[i] != '\0'; i++)
		lines += text[i] == '\n';
	cfg = config_parse_string(text, "fuzz.conf", &error);
	if (cfg != NULL) {
		CHECK(error == NULL);
		CHECK(cfg->data_dir[0] == '/' && cfg->hostname[0] != '\0');
		CHECK(cfg->n_listeners <= CONFIG_MAX_LISTENERS && cfg->n_certs <= CONFIG_MAX_CERTS);
		for (i = 0; i < cfg->n_certs; i++)
			CHECK(cfg->certs[i].cert_file != NULL && cfg->certs[i].key_file != NULL);
		config_free(&cfg);
		CHECK(cfg == NULL);
	} else {
		CHECK(error != NULL && strncmp(error, "fuzz.conf:", 10) == 0);
		line = strtol(error + 10, &end, 10);
		CHECK(*end == ':' && line >= 1 && (size_t)line <= lines);
		free(error);
	}
	free(text);
	return 0;
}
