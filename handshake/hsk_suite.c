/* The cipher suite table (RFC 5246 A.5, RFC 5288, RFC 5289, RFC 7905,
 * RFC 8446 B.4), in the default server preference order. */
#include <string.h>
#include <strings.h>

#include "hsk_suite.h"

#define AEAD(c, k, fiv) .cipher = (c), .key_len = (k), .fixed_iv_len = (fiv), .mac_len = 16
#define CBC(c, k, m, mk) .cipher = (c), .key_len = (k), .mac = (m), .mac_key_len = (mk), .mac_len = (mk)

static const struct hsk_suite hsk_suites[] = {
	/* TLS 1.3 (the engine gains them with the TLS 1.3 issue) */
	{ 0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", HSK_KX_TLS13, HSK_AUTH_ANY,
	  AEAD(HSK_CIPHER_AES128_GCM, 16, 12), .prf = HSK_HASH_SHA256, .version = 0x0304, .default_on = true },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", HSK_KX_TLS13, HSK_AUTH_ANY,
	  AEAD(HSK_CIPHER_AES256_GCM, 32, 12), .prf = HSK_HASH_SHA384, .version = 0x0304, .default_on = true },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", HSK_KX_TLS13, HSK_AUTH_ANY,
	  AEAD(HSK_CIPHER_CHACHA20_POLY1305, 32, 12), .prf = HSK_HASH_SHA256, .version = 0x0304, .default_on = true },
	/* ECDHE with AEAD */
	{ 0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", HSK_KX_ECDHE,
	  HSK_AUTH_ECDSA, AEAD(HSK_CIPHER_AES128_GCM, 16, 4), .prf = HSK_HASH_SHA256, .version = 0x0303, .default_on = true },
	{ 0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", HSK_KX_ECDHE,
	  HSK_AUTH_RSA, AEAD(HSK_CIPHER_AES128_GCM, 16, 4), .prf = HSK_HASH_SHA256, .version = 0x0303, .default_on = true },
	{ 0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", HSK_KX_ECDHE,
	  HSK_AUTH_ECDSA, AEAD(HSK_CIPHER_AES256_GCM, 32, 4), .prf = HSK_HASH_SHA384, .version = 0x0303, .default_on = true },
	{ 0xc030, "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", HSK_KX_ECDHE,
	  HSK_AUTH_RSA, AEAD(HSK_CIPHER_AES256_GCM, 32, 4), .prf = HSK_HASH_SHA384, .version = 0x0303, .default_on = true },
	{ 0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", HSK_KX_ECDHE,
	  HSK_AUTH_ECDSA, AEAD(HSK_CIPHER_CHACHA20_POLY1305, 32, 12), .prf = HSK_HASH_SHA256, .version = 0x0303, .default_on = true },
	{ 0xcca8, "ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", HSK_KX_ECDHE,
	  HSK_AUTH_RSA, AEAD(HSK_CIPHER_CHACHA20_POLY1305, 32, 12), .prf = HSK_HASH_SHA256, .version = 0x0303, .default_on = true },
	/* ECDHE with CBC (encrypt-then-MAC when offered, RFC 7366) */
	{ 0xc023, "ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", HSK_KX_ECDHE,
	  HSK_AUTH_ECDSA, CBC(HSK_CIPHER_AES128_CBC, 16, HSK_HASH_SHA256, 32), .prf = HSK_HASH_SHA256, .version = 0x0303, .default_on = true },
	{ 0xc027, "ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", HSK_KX_ECDHE,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES128_CBC, 16, HSK_HASH_SHA256, 32), .prf = HSK_HASH_SHA256, .version = 0x0303, .default_on = true },
	{ 0xc024, "ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", HSK_KX_ECDHE,
	  HSK_AUTH_ECDSA, CBC(HSK_CIPHER_AES256_CBC, 32, HSK_HASH_SHA384, 48), .prf = HSK_HASH_SHA384, .version = 0x0303, .default_on = true },
	{ 0xc028, "ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", HSK_KX_ECDHE,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES256_CBC, 32, HSK_HASH_SHA384, 48), .prf = HSK_HASH_SHA384, .version = 0x0303, .default_on = true },
	/* DHE with RFC 7919 groups */
	{ 0x009e, "DHE-RSA-AES128-GCM-SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", HSK_KX_DHE,
	  HSK_AUTH_RSA, AEAD(HSK_CIPHER_AES128_GCM, 16, 4), .prf = HSK_HASH_SHA256, .version = 0x0303, .default_on = true },
	{ 0x009f, "DHE-RSA-AES256-GCM-SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", HSK_KX_DHE,
	  HSK_AUTH_RSA, AEAD(HSK_CIPHER_AES256_GCM, 32, 4), .prf = HSK_HASH_SHA384, .version = 0x0303, .default_on = true },
	/* Legacy, by configuration only: SHA-1 CBC */
	{ 0xc009, "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", HSK_KX_ECDHE,
	  HSK_AUTH_ECDSA, CBC(HSK_CIPHER_AES128_CBC, 16, HSK_HASH_SHA1, 20), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0xc013, "ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", HSK_KX_ECDHE,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES128_CBC, 16, HSK_HASH_SHA1, 20), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0xc00a, "ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", HSK_KX_ECDHE,
	  HSK_AUTH_ECDSA, CBC(HSK_CIPHER_AES256_CBC, 32, HSK_HASH_SHA1, 20), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0xc014, "ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", HSK_KX_ECDHE,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES256_CBC, 32, HSK_HASH_SHA1, 20), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0x0033, "DHE-RSA-AES128-SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", HSK_KX_DHE,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES128_CBC, 16, HSK_HASH_SHA1, 20), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0x0039, "DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", HSK_KX_DHE,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES256_CBC, 32, HSK_HASH_SHA1, 20), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	/* Static RSA key transport: no forward secrecy, by configuration only */
	{ 0x009c, "AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", HSK_KX_RSA,
	  HSK_AUTH_RSA, AEAD(HSK_CIPHER_AES128_GCM, 16, 4), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0x009d, "AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", HSK_KX_RSA,
	  HSK_AUTH_RSA, AEAD(HSK_CIPHER_AES256_GCM, 32, 4), .prf = HSK_HASH_SHA384, .version = 0x0303 },
	{ 0x003c, "AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256", HSK_KX_RSA,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES128_CBC, 16, HSK_HASH_SHA256, 32), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0x003d, "AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256", HSK_KX_RSA,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES256_CBC, 32, HSK_HASH_SHA256, 32), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0x002f, "AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", HSK_KX_RSA,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES128_CBC, 16, HSK_HASH_SHA1, 20), .prf = HSK_HASH_SHA256, .version = 0x0303 },
	{ 0x0035, "AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", HSK_KX_RSA,
	  HSK_AUTH_RSA, CBC(HSK_CIPHER_AES256_CBC, 32, HSK_HASH_SHA1, 20), .prf = HSK_HASH_SHA256, .version = 0x0303 },
};

#define HSK_N_SUITES (sizeof(hsk_suites) / sizeof(hsk_suites[0]))

const struct hsk_suite *
hsk_suite_by_id(uint16_t id)
{
	size_t i;

	for (i = 0; i < HSK_N_SUITES; i++)
		if (hsk_suites[i].id == id)
			return &hsk_suites[i];
	return NULL;
}

const struct hsk_suite *
hsk_suite_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < HSK_N_SUITES; i++)
		if (strcasecmp(hsk_suites[i].name, name) == 0 || strcasecmp(hsk_suites[i].iana, name) == 0)
			return &hsk_suites[i];
	return NULL;
}

const struct hsk_suite *
hsk_suite_all(size_t *n)
{
	*n = HSK_N_SUITES;
	return hsk_suites;
}

size_t
hsk_hash_len(int hash)
{
	switch (hash) {
	case HSK_HASH_SHA1:
		return 20;
	case HSK_HASH_SHA256:
		return 32;
	case HSK_HASH_SHA384:
		return 48;
	case HSK_HASH_SHA512:
		return 64;
	default:
		return 0;
	}
}
