/*
 * libFuzzer target for the portal's parser layer (src/web/web_parse.c):
 * the input is parsed as an application/x-www-form-urlencoded body and as
 * a Cookie header, and escaped as HTML. Checked: an accepted form has
 * unique, non-empty, NUL-free names within the limits; a cookie value
 * found fits its buffer and has no separator; escaped HTML holds none of
 * the five special characters outside entities.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "web/web_parse.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_form(const char *in, size_t size)
{
	const struct web_form_limits limits = { 32, 64, 1024 };
	struct web_form form;
	const char *error = NULL;
	unsigned i, j;

	if (web_form_parse(in, size, &limits, &form, &error) < 0) {
		CHECK(error != NULL && form.n == 0 && form.fields == NULL);
		return;
	}
	CHECK(form.n <= limits.max_fields);
	for (i = 0; i < form.n; i++) {
		CHECK(form.fields[i].name[0] != '\0' && strlen(form.fields[i].name) <= 64);
		CHECK(strlen(form.fields[i].value) == form.fields[i].value_len);
		CHECK(form.fields[i].value_len <= limits.max_value);
		for (j = 0; j < i; j++)
			CHECK(strcmp(form.fields[i].name, form.fields[j].name) != 0);
		CHECK(web_form_get(&form, form.fields[i].name) == form.fields[i].value);
	}
	web_form_deinit(&form);
}

static void fuzz_cookie(const char *in, size_t size)
{
	char out[65];
	int ret = web_cookie_get(in, size, "__Host-tern", 64, out, sizeof(out));

	CHECK(ret >= -1 && ret <= 1);
	if (ret == 1)
		CHECK(strlen(out) < sizeof(out) && strpbrk(out, ";\",\\") == NULL);
}

static void fuzz_escape(const char *in, size_t size)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	CHECK(web_html_escape(&b, in, size) == 0);
	for (i = 0; i < b.len; i++)
		CHECK(b.data[i] != '<' && b.data[i] != '>' && b.data[i] != '"' &&
		      b.data[i] != '\'');
	buf_deinit(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (size > 70000)
		return 0;
	copy = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	fuzz_form(copy, size);
	fuzz_cookie(copy, size);
	fuzz_escape(copy, size);
	free(copy);
	return 0;
}
