/* Private keys: parsed once at start, never per handshake. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "acc_job.h"
#include "acc_ifma.h"
#include "acc_ifma_rsa.h"
#include "acc_key_priv.h"

static uint16_t
acc_key_group_of(EVP_PKEY *pkey)
{
	char name[64];

	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
					    NULL))
		return 0;
	if (strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0)
		return ACC_GROUP_SECP256R1;
	if (strcmp(name, "secp384r1") == 0 || strcmp(name, "P-384") == 0)
		return ACC_GROUP_SECP384R1;
	if (strcmp(name, "secp521r1") == 0 || strcmp(name, "P-521") == 0)
		return ACC_GROUP_SECP521R1;
	return 0;
}

static _Atomic uint64_t acc_key_ids;

struct acc_key *
acc_key_from_evp(void *evp_pkey)
{
	EVP_PKEY *pkey = evp_pkey;
	struct acc_key *key;

	if (pkey == NULL)
		return NULL;
	key = calloc(1, sizeof(*key));
	if (key == NULL)
		return NULL;
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		key->type = ACC_KEY_RSA;
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		key->type = ACC_KEY_EC;
		key->group = acc_key_group_of(pkey);
	} else {
		free(key);
		return NULL;
	}
	if (key->type == ACC_KEY_EC && key->group == 0) {
		free(key);
		return NULL;
	}
	EVP_PKEY_up_ref(pkey);
	key->id = atomic_fetch_add(&acc_key_ids, 1) + 1;
	key->pkey = pkey;
	key->bits = (unsigned)EVP_PKEY_get_bits(pkey);
	key->max_sig = (size_t)EVP_PKEY_get_size(pkey);
	/* The IFMA backend's per-key constants, once, when the CPU has it
	 * (NULL for keys it does not take: they stay on OpenSSL). */
	if (key->type == ACC_KEY_RSA && acc_ifma_available())
		key->fast = acc_ifma_rsa_key_new(pkey);
	return key;
}

struct acc_key *
acc_key_load_pem(const char *path, char *err, size_t errlen)
{
	struct acc_key *key = NULL;
	EVP_PKEY *pkey = NULL;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open key file", path);
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		snprintf(err, errlen, "%s: not a PEM private key (%s)", path,
			 ERR_reason_error_string(ERR_get_error()));
		ERR_clear_error();
		return NULL;
	}
	key = acc_key_from_evp(pkey);
	EVP_PKEY_free(pkey);
	if (key == NULL)
		snprintf(err, errlen, "%s: unsupported key (RSA or EC P-256/P-384/P-521)", path);
	return key;
}

void
acc_key_free(struct acc_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey); /* OpenSSL clears private key material on free */
	acc_ifma_rsa_key_free(key->fast);
	free(key);
}

int
acc_key_type(const struct acc_key *key)
{
	return key->type;
}

unsigned
acc_key_bits(const struct acc_key *key)
{
	return key->bits;
}

uint16_t
acc_key_group(const struct acc_key *key)
{
	return key->group;
}

size_t
acc_key_max_sig(const struct acc_key *key)
{
	return key->max_sig;
}

void *
acc_key_evp(const struct acc_key *key)
{
	return key->pkey;
}
