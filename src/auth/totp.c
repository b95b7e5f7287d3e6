/*
 * TOTP (RFC 6238): HOTP (RFC 4226) over 30-second time steps, HMAC-SHA-1,
 * 6 digits, which is what every authenticator app implements by default.
 * Secrets are 20 random bytes kept in base32 (RFC 4648), the form the
 * otpauth:// URI (Google Authenticator "Key Uri Format") carries. The QR
 * codes come from libqrencode: half blocks for the terminal, SVG for the
 * web portal.
 */
#include "auth/auth.h"
#include "core/buf.h"
#include "core/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int base32_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
	size_t i, n = 0;
	unsigned bits = 0, acc = 0;

	if ((len * 8 + 4) / 5 + 1 > out_size)
		return -1;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[n++] = b32_alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[n++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[n] = '\0';
	return (int)n;
}

int base32_decode(const char *in, uint8_t *out, size_t out_size)
{
	unsigned bits = 0, acc = 0;
	size_t n = 0;
	const char *p;

	for (; *in != '\0'; in++) {
		char c = *in;

		if (c == ' ' || c == '=' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		p = strchr(b32_alphabet, c);
		if (p == NULL || c == '\0')
			return -1;
		acc = (acc << 5) | (unsigned)(p - b32_alphabet);
		bits += 5;
		if (bits >= 8) {
			if (n >= out_size)
				return -1;
			out[n++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= 0xff;	/* at most 7 bits are carried */
	}
	return (int)n;
}

int totp_code(const uint8_t *key, size_t key_len, uint64_t step, uint32_t *code_r)
{
	uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0, off;
	int i;

	for (i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)(step & 0xff);
		step >>= 8;
	}
	if (HMAC(EVP_sha1(), key, (int)key_len, msg, sizeof(msg), mac, &mac_len) == NULL ||
	    mac_len != 20)
		return -1;
	/* RFC 4226 5.3 dynamic truncation */
	off = mac[19] & 0x0f;
	*code_r = (((uint32_t)mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
		   (uint32_t)mac[off + 2] << 8 | mac[off + 3]) % 1000000;
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int64_t totp_check(const char *secret_b32, const char *code, int64_t now, int64_t last_step)
{
	uint8_t key[64];
	char want[TOTP_DIGITS + 1];
	int64_t step = now / TOTP_STEP_SECONDS, s, found = 0;
	uint32_t value;
	int key_len = base32_decode(secret_b32, key, sizeof(key));

	if (key_len <= 0)
		return -1;
	if (strlen(code) != TOTP_DIGITS || strspn(code, "0123456789") != TOTP_DIGITS)
		goto out;
	/* RFC 6238 5.2: one step of drift either way; all three compared,
	 * so the time taken does not tell which one matched */
	for (s = step - 1; s <= step + 1; s++) {
		if (s <= last_step || totp_code(key, (size_t)key_len, (uint64_t)s, &value) < 0)
			continue;
		snprintf(want, sizeof(want), "%06u", (unsigned)value);
		if (CRYPTO_memcmp(want, code, TOTP_DIGITS) == 0 && found == 0)
			found = s;
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	return found;
}

void totp_secret_new(char out[TOTP_SECRET_B32_MAX])
{
	uint8_t key[TOTP_KEY_LEN];

	randombytes_buf(key, sizeof(key));
	base32_encode(key, sizeof(key), out, TOTP_SECRET_B32_MAX);
	OPENSSL_cleanse(key, sizeof(key));
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static void uri_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
			buf_append(b, s, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_append(b, e, 3);
		}
	}
}

char *totp_uri(const char *issuer, const char *account, const char *secret_b32)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "otpauth://totp/");
	uri_escape(&b, issuer);
	buf_append_str(&b, ":");
	uri_escape(&b, account);
	buf_append_str(&b, "?secret=");
	buf_append_str(&b, secret_b32);
	buf_append_str(&b, "&issuer=");
	uri_escape(&b, issuer);
	buf_append_str(&b, "&algorithm=SHA1&digits=6&period=30");
	return buf_steal(&b, NULL);
}

#define QR_QUIET 2	/* modules of white border (4 is the spec, 2 scans fine) */

static bool qr_dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[y * qr->width + x] & 1;
}

char *totp_qr_terminal(const char *text)
{
	/* indexed by (top dark, bottom dark); light modules are drawn, as
	 * `qrencode -t utf8` does, so the code shows on dark terminals */
	static const char *const cells[4] = { "\u2588", "\u2580", "\u2584", " " };
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	struct buf b;
	int x, y;

	if (qr == NULL)
		return NULL;
	buf_init(&b, 0);
	for (y = -QR_QUIET; y < qr->width + QR_QUIET; y += 2) {
		for (x = -QR_QUIET; x < qr->width + QR_QUIET; x++)
			buf_append_str(&b, cells[qr_dark(qr, x, y) * 2 + qr_dark(qr, x, y + 1)]);
		buf_append_str(&b, "\n");
	}
	QRcode_free(qr);
	return buf_steal(&b, NULL);
}

char *totp_qr_svg(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	struct buf b;
	char cell[96];
	int x, y, size;

	if (qr == NULL)
		return NULL;
	size = qr->width + 2 * QR_QUIET;
	buf_init(&b, 0);
	snprintf(cell, sizeof(cell), "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" ",
		 size, size);
	buf_append_str(&b, cell);
	buf_append_str(&b, "shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
		       "fill=\"#fff\"/><path fill=\"#000\" d=\"");
	for (y = 0; y < qr->width; y++) {
		for (x = 0; x < qr->width; x++) {
			if (!qr_dark(qr, x, y))
				continue;
			snprintf(cell, sizeof(cell), "M%d %dh1v1h-1z", x + QR_QUIET, y + QR_QUIET);
			buf_append_str(&b, cell);
		}
	}
	buf_append_str(&b, "\"/></svg>\n");
	QRcode_free(qr);
	return buf_steal(&b, NULL);
}
