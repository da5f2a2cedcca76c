/* Cheaper certificate parsing for the client, OpenSSL 3.0.
 *
 * libssl parses every certificate the server sends, and OpenSSL 3.0
 * decodes each one's public key through the provider decoder framework:
 * OSSL_DECODER_CTX_new_for_pkey enumerates every key manager and decoder
 * of the loaded providers for each key (measured on the 2-core EPYC:
 * d2i_X509 of an RSA-2048 certificate 265 us, more than three X25519
 * keygens; a leaf + CA chain costs two of them per handshake). The same
 * function takes the legacy EVP_PKEY_ASN1_METHOD path instead when an
 * ENGINE offers a pkey method for the key's type (x_pubkey.c,
 * x509_pubkey_decode): 24.5 us. So we register an engine whose pkey
 * methods are libcrypto's own built-in RSA and EC ones; the arithmetic
 * stays OpenSSL's, only the per-key lookup work goes. --openssl-decoders
 * turns this off (to measure what it saves). X25519 and the other key
 * types keep the provider path. */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE is deprecated in 3.0, still supported */

#include <openssl/engine.h>
#include <openssl/evp.h>

#include "tlsbench.h"

static const int legacy_nids[] = { EVP_PKEY_RSA, EVP_PKEY_EC };

static int
legacy_pkey_meths(ENGINE *e, EVP_PKEY_METHOD **meth, const int **nids, int nid)
{
	(void)e;
	if (meth == NULL) {
		*nids = legacy_nids;
		return (int)(sizeof(legacy_nids) / sizeof(legacy_nids[0]));
	}
	*meth = (EVP_PKEY_METHOD *)EVP_PKEY_meth_find(nid);
	return *meth != NULL;
}

int
bench_legacy_keys(void)
{
	ENGINE *e = ENGINE_new();

	if (e == NULL)
		return -1;
	if (!ENGINE_set_id(e, "tlsbench-legacy-keys") || !ENGINE_set_name(e, "built-in RSA/EC pkey methods") ||
	    !ENGINE_set_pkey_meths(e, legacy_pkey_meths) || !ENGINE_add(e) || !ENGINE_register_pkey_meths(e)) {
		ENGINE_free(e);
		return -1;
	}
	ENGINE_free(e); /* the engine list keeps its own reference; OpenSSL frees it at exit */
	return 0;
}
