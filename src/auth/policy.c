/*
 * The password policy: a minimum length, and a strength score from
 * libzxcvbn (Dropbox's zxcvbn in C), which knows common passwords, words,
 * names, keyboard patterns, sequences, repeats and dates, and here also
 * the user's own address parts. The score follows the reference zxcvbn:
 * 0-4 by the log10 of the guesses the entropy implies.
 */
#include "auth/auth.h"
#include "core/config.h"
#include "core/util.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxcvbn.h>

#define POLICY_WORDS_MAX 8
#define POLICY_WORD_MIN 3	/* shorter address parts are too common to refuse */

void password_policy_from_config(struct password_policy *p, const struct config *cfg)
{
	p->min_length = (unsigned)cfg->auth_min_password_length;
	p->min_score = (unsigned)cfg->auth_min_password_score;
}

/* zxcvbn score: guesses = 2^bits; thresholds 10^3, 10^6, 10^8, 10^10 */
static unsigned score_of_bits(double bits)
{
	static const double limits[] = { 9.966, 19.932, 26.575, 33.219 };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(limits); i++) {
		if (bits < limits[i])
			return i;
	}
	return 4;
}

unsigned password_score(const char *password, const char *const *user_words)
{
	return score_of_bits(ZxcvbnMatch(password, (const char **)user_words, NULL));
}

/* Splits "local@mail.example.co.uk" into "local", "mail", "example",
 * "co" (not the last label), keeping parts of POLICY_WORD_MIN characters
 * or more. words point into buf. */
static size_t address_words(const char *address, char *buf, size_t size, const char **words)
{
	char *at, *p, *dot;
	size_t n = 0;

	snprintf(buf, size, "%s", address != NULL ? address : "");
	at = strrchr(buf, '@');
	if (at != NULL) {
		*at = '\0';
		if (strlen(buf) >= POLICY_WORD_MIN)
			words[n++] = buf;
		for (p = at + 1; (dot = strchr(p, '.')) != NULL && n < POLICY_WORDS_MAX - 1;
		     p = dot + 1) {
			*dot = '\0';
			if (strlen(p) >= POLICY_WORD_MIN)
				words[n++] = p;
		}
	}
	words[n] = NULL;
	return n;
}

/* The weakest part zxcvbn found, in words. */
static const char *weakness(const char *password, const char *const *words)
{
	ZxcMatch_t *info = NULL, *m;
	const char *why = "add more unusual words or characters";
	double worst = 1e9;

	ZxcvbnMatch(password, (const char **)words, &info);
	for (m = info; m != NULL; m = m->Next) {
		int type = (int)m->Type & ~MULTIPLE_MATCH;
		const char *w = NULL;

		if (type == DICTIONARY_MATCH || type == DICT_LEET_MATCH)
			w = "it is built on a common password or word";
		else if (type == USER_MATCH || type == USER_LEET_MATCH)
			w = "it contains your name or domain";
		else if (type == SPATIAL_MATCH)
			w = "it contains a keyboard pattern";
		else if (type == SEQUENCE_MATCH)
			w = "it contains a sequence like abc or 123";
		else if (type == REPEATS_MATCH)
			w = "it repeats characters";
		else if (type == DATE_MATCH || type == YEAR_MATCH)
			w = "it contains a date or year";
		if (w != NULL && m->Length > 2 && m->Entrpy / m->Length < worst) {
			worst = m->Entrpy / m->Length;
			why = w;
		}
	}
	ZxcvbnFreeInfo(info);
	return why;
}

int password_policy_check(const struct password_policy *p, const char *password,
			  const char *address, char *reason_r, size_t reason_size)
{
	const char *words[POLICY_WORDS_MAX];
	char buf[512];
	size_t i, n, len = strlen(password);

	if (len < p->min_length) {
		snprintf(reason_r, reason_size, "too short: at least %u characters", p->min_length);
		return -1;
	}
	if (p->min_score == 0)
		return 0;
	n = address_words(address, buf, sizeof(buf), words);
	for (i = 0; i < n; i++) {
		if (strcasestr(password, words[i]) != NULL) {
			snprintf(reason_r, reason_size, "too easy to guess: it contains a part of "
				 "your address (\"%s\")", words[i]);
			return -1;
		}
	}
	if (password_score(password, words) < p->min_score) {
		snprintf(reason_r, reason_size, "too easy to guess: %s", weakness(password, words));
		return -1;
	}
	return 0;
}

void password_generate(char out[PASSWORD_GENERATED_LEN + 1])
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
	size_t i, n = 0;

	for (i = 0; i < 20; i++) {
		if (i > 0 && i % 5 == 0)
			out[n++] = '-';
		out[n++] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	}
	out[n] = '\0';
}
