/* The client's certificate chain and its CertificateVerify signature,
 * checked with libcrypto (public-key operations run inline: they are not
 * private-key jobs). Shared by TLS 1.2 and TLS 1.3. */
#ifndef HSK_PEER_CERT_H
#define HSK_PEER_CERT_H

#include <openssl/x509.h>

#include "hsk_conn_priv.h"

/* Verify the chain (leaf first) against the listener's CA store for client
 * use; on success c->peer_key holds the leaf's key and c->client_cert is set. */
HSK_MUST_CHECK hsk_err hsk_peer_cert_verify(struct hsk_conn *c, STACK_OF(X509) *chain);

/* Check a CertificateVerify signature over data with scheme, which must be
 * one we offered (and, in TLS 1.3, not PKCS#1 v1.5). */
HSK_MUST_CHECK hsk_err hsk_peer_cert_check_sig(struct hsk_conn *c, uint16_t scheme, const uint8_t *sig,
					       size_t sig_len, const uint8_t *data, size_t len);

#endif
