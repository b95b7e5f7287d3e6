/*
 * libFuzzer target for the legacy hash import parser (src/auth/legacy.c):
 * `tern user import-hash --stdin` reads these from files an admin got
 * from another server. Parsed hashes are also verified once, so crypt_rn
 * sees every setting the parser lets through.
 */
#include "auth/auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* cheap parameters: {PLAIN} inputs are hashed */
	struct password_params p = { .memory = 8 * 1024 * 1024, .iterations = 1 };
	const char *error;
	char *stored;

	if (size > 512)
		return 0;
	if (password_import_parse((const char *)data, size, &p, &stored, &error) == 0) {
		/* the parser bounds rounds and cost, so this stays fast */
		if (stored[0] == '{')
			(void)password_verify(stored, "x", 1);
		free(stored);
	}
	return 0;
}
