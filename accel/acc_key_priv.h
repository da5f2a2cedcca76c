/* struct acc_key, shared by the key loader and the backends (not public). */
#ifndef ACC_KEY_PRIV_H
#define ACC_KEY_PRIV_H

#include <openssl/evp.h>

#include "acc_key.h"

struct acc_key {
	uint64_t id;      /* unique in the process: a freed key's address may come back */
	EVP_PKEY *pkey;
	int type;         /* enum acc_key_type */
	unsigned bits;
	uint16_t group;   /* EC: NamedGroup */
	size_t max_sig;
	void *fast;       /* a batching backend's per-key precomputation (IFMA) */
};

#endif
