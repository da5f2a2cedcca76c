/* AES-GCM through ipsec-mb (acc_imb_gcm.h). One manager for the process,
 * set up once: the direct GCM calls only read it, so every worker shares
 * it; per-call state lives on the caller's stack. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "acc_imb_gcm.h"
#include "tlso_build.h"

#if TLSO_HAVE_IPSECMB
#include <intel-ipsec-mb.h>

struct acc_imb_gcm {
	struct gcm_key_data k; /* on a 64-byte boundary (acc_imb_gcm_new) */
	size_t key_len;
};

static IMB_MGR *acc_imb_gcm_mgr;
static const char *acc_imb_gcm_name;
static pthread_once_t acc_imb_gcm_once = PTHREAD_ONCE_INIT;

static void
acc_imb_gcm_setup(void)
{
	const char *off = getenv("TLSO_NO_IPSECMB");
	IMB_ARCH arch;
	IMB_MGR *m;

	if (off != NULL && *off != '\0' && strcmp(off, "0") != 0)
		return;
	m = alloc_mb_mgr(0);
	if (m == NULL)
		return;
	init_mb_mgr_auto(m, &arch);
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		return;
	}
	acc_imb_gcm_name = arch == IMB_ARCH_AVX512 ? "ipsec-mb avx512"
		       : arch == IMB_ARCH_AVX2 ? "ipsec-mb avx2"
		       : arch == IMB_ARCH_AVX ? "ipsec-mb avx"
					      : "ipsec-mb sse";
	acc_imb_gcm_mgr = m;
}

const char *
acc_imb_gcm_impl(void)
{
	pthread_once(&acc_imb_gcm_once, acc_imb_gcm_setup);
	return acc_imb_gcm_mgr != NULL ? acc_imb_gcm_name : NULL;
}

struct acc_imb_gcm *
acc_imb_gcm_new(const uint8_t *key, size_t key_len)
{
	struct acc_imb_gcm *g;

	if (acc_imb_gcm_impl() == NULL || (key_len != 16 && key_len != 32))
		return NULL;
	/* aligned_alloc wants a size that is a multiple of the alignment */
	g = aligned_alloc(64, (sizeof(*g) + 63) / 64 * 64);
	if (g == NULL)
		return NULL;
	g->key_len = key_len;
	if (key_len == 16)
		IMB_AES128_GCM_PRE(acc_imb_gcm_mgr, key, &g->k);
	else
		IMB_AES256_GCM_PRE(acc_imb_gcm_mgr, key, &g->k);
	return g;
}

void
acc_imb_gcm_free(struct acc_imb_gcm *g)
{
	if (g == NULL)
		return;
	OPENSSL_cleanse(g, sizeof(*g));
	free(g);
}

void
acc_imb_gcm_seal(const struct acc_imb_gcm *g, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
	     const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16])
{
	struct gcm_context_data ctx;

	if (g->key_len == 16)
		IMB_AES128_GCM_ENC(acc_imb_gcm_mgr, &g->k, &ctx, out, in, len, iv, aad, aad_len, tag, 16);
	else
		IMB_AES256_GCM_ENC(acc_imb_gcm_mgr, &g->k, &ctx, out, in, len, iv, aad, aad_len, tag, 16);
	OPENSSL_cleanse(&ctx, sizeof(ctx));
}

bool
acc_imb_gcm_open(const struct acc_imb_gcm *g, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
	     const uint8_t *in, uint8_t *out, size_t len, const uint8_t tag[16])
{
	struct gcm_context_data ctx;
	uint8_t want[16];
	bool ok;

	if (g->key_len == 16)
		IMB_AES128_GCM_DEC(acc_imb_gcm_mgr, &g->k, &ctx, out, in, len, iv, aad, aad_len, want, 16);
	else
		IMB_AES256_GCM_DEC(acc_imb_gcm_mgr, &g->k, &ctx, out, in, len, iv, aad, aad_len, want, 16);
	ok = CRYPTO_memcmp(want, tag, 16) == 0;
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	return ok;
}

#else /* no ipsec-mb in this build: always the EVP fallback */

const char *
acc_imb_gcm_impl(void)
{
	return NULL;
}

struct acc_imb_gcm *
acc_imb_gcm_new(const uint8_t *key, size_t key_len)
{
	(void)key;
	(void)key_len;
	return NULL;
}

void
acc_imb_gcm_free(struct acc_imb_gcm *g)
{
	(void)g;
}

void
acc_imb_gcm_seal(const struct acc_imb_gcm *g, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
	     const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16])
{
	(void)g, (void)iv, (void)aad, (void)aad_len, (void)in, (void)out, (void)len, (void)tag;
	abort(); /* unreachable: acc_imb_gcm_new() gave NULL */
}

bool
acc_imb_gcm_open(const struct acc_imb_gcm *g, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
	     const uint8_t *in, uint8_t *out, size_t len, const uint8_t tag[16])
{
	(void)g, (void)iv, (void)aad, (void)aad_len, (void)in, (void)out, (void)len, (void)tag;
	abort();
}
#endif
