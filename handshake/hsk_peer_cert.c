#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "hsk_algs.h"
#include "hsk_peer_cert.h"
#include "hsk_sig.h"

static hsk_err
hsk_peer_cert_alert(int verr)
{
	switch (verr) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return HSK_ALERT(HSK_AD_CERTIFICATE_EXPIRED);
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return HSK_ALERT(HSK_AD_UNKNOWN_CA);
	case X509_V_ERR_CERT_REVOKED:
		return HSK_ALERT(HSK_AD_CERTIFICATE_REVOKED);
	case X509_V_ERR_INVALID_PURPOSE:
		return HSK_ALERT(HSK_AD_UNSUPPORTED_CERTIFICATE);
	default:
		return HSK_ALERT(HSK_AD_BAD_CERTIFICATE);
	}
}

/* The subject's first commonName (X.520 2.5.4.3) as UTF-8, for the
 * application (PROXY protocol PP2_SUBTYPE_SSL_CN); "" when absent or
 * longer than ub-common-name (RFC 5280 A.1: 64). */
static void
hsk_peer_cert_cn(struct hsk_conn *c, X509 *leaf)
{
	X509_NAME *name = X509_get_subject_name(leaf);
	int i = name != NULL ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	unsigned char *utf8 = NULL;
	int n;

	c->client_cn[0] = '\0';
	if (i < 0)
		return;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n > 0 && (size_t)n < sizeof(c->client_cn) && memchr(utf8, 0, (size_t)n) == NULL) {
		memcpy(c->client_cn, utf8, (size_t)n);
		c->client_cn[n] = '\0';
	}
	OPENSSL_free(utf8);
}

hsk_err
hsk_peer_cert_verify(struct hsk_conn *c, STACK_OF(X509) *chain)
{
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	hsk_err err = HSK_OK;

	if (sctx == NULL || !X509_STORE_CTX_init(sctx, c->ctx->ca_store, sk_X509_value(chain, 0), chain)) {
		err = HSK_ALERT(HSK_AD_INTERNAL_ERROR);
		goto out;
	}
	X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_CLIENT);
	if (X509_verify_cert(sctx) != 1) {
		err = hsk_peer_cert_alert(X509_STORE_CTX_get_error(sctx));
		goto out;
	}
	c->peer_key = X509_get_pubkey(sk_X509_value(chain, 0));
	if (c->peer_key == NULL) {
		err = HSK_ALERT(HSK_AD_UNSUPPORTED_CERTIFICATE);
		goto out;
	}
	c->client_cert = true;
	hsk_peer_cert_cn(c, sk_X509_value(chain, 0));
out:
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return err;
}

hsk_err
hsk_peer_cert_check_sig(struct hsk_conn *c, uint16_t scheme, const uint8_t *sig, size_t sig_len,
			const uint8_t *data, size_t len)
{
	const EVP_MD *md = hsk_algs_md(hsk_sig_hash(scheme));
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	bool offered = false;
	hsk_err err = HSK_ALERT(HSK_AD_DECRYPT_ERROR);

	for (size_t i = 0; i < c->ctx->n_sigalgs; i++)
		offered |= c->ctx->sigalgs[i] == scheme;
	/* RFC 8446 4.4.3: no PKCS#1 v1.5 in TLS 1.3 CertificateVerify */
	if (c->version == 0x0304 && hsk_sig_is_rsa(scheme) && !hsk_sig_is_pss(scheme))
		offered = false;
	if (!offered || md == NULL || c->peer_key == NULL ||
	    EVP_PKEY_is_a(c->peer_key, "RSA") != hsk_sig_is_rsa(scheme))
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, c->peer_key) != 1)
		goto out;
	if (hsk_sig_is_pss(scheme) && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
				       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	if (EVP_DigestVerify(mctx, sig, sig_len, data, len) != 1)
		goto out;
	err = HSK_OK;
out:
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return err;
}
