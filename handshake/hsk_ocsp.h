/* OCSP stapling (RFC 6066 8, RFC 8446 4.4.2.1): a DER OCSPResponse
 * (RFC 6960 4.2.1) read from a file at load, checked against the leaf it
 * is stapled to, and encoded once as the CertificateStatus body that both
 * versions send:
 *
 *   struct {
 *       CertificateStatusType status_type;   ocsp(1)
 *       select (status_type) {
 *           case ocsp: OCSPResponse;         opaque <1..2^24-1>
 *       } response;
 *   } CertificateStatus;
 *
 * TLS 1.2 sends it as its own handshake message after Certificate, TLS
 * 1.3 as the status_request extension of the leaf's CertificateEntry. */
#ifndef HSK_OCSP_H
#define HSK_OCSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hsk_cert;
struct hsk_worker;

/* The largest response taken: a whole flight must fit the connection's
 * output buffer (two full records). Real responses are 1 to 4 KiB. */
#define HSK_OCSP_MAX (16u * 1024)

/* What a checked response leaves. status == NULL: nothing to staple. */
struct hsk_ocsp {
	uint8_t *status;       /* CertificateStatus body, malloc'd */
	size_t status_len;
	uint64_t next_update;  /* seconds since the epoch; 0: the response has none */
	uint64_t this_update;
};

/* Read and check the DER response at path for leaf (X509 *), issued by
 * issuer (X509 *, NULL when the chain does not carry it): a successful
 * response (RFC 6960 4.2.1) whose basic response has a SingleResponse for
 * this certificate (CertID match, or the serial alone without the
 * issuer). -1 with a message when the file or the response is not usable
 * at all. A response whose nextUpdate is not after now (seconds since the
 * epoch) is not stapled: 0 with out->status NULL and the reason in warn. */
int hsk_ocsp_load(const char *path, void *leaf, void *issuer, uint64_t now, struct hsk_ocsp *out,
		  char *err, size_t errlen, char *warn, size_t warnlen);

/* The same from DER bytes already in memory (the tests, and the loader). */
int hsk_ocsp_check(const uint8_t *der, size_t len, void *leaf, void *issuer, uint64_t now,
		   struct hsk_ocsp *out, char *err, size_t errlen, char *warn, size_t warnlen);

void hsk_ocsp_free(struct hsk_ocsp *o);

/* Per handshake: whether cert has a response to staple at wall-clock time
 * now (seconds since the epoch; 0 when the caller has no clock, then the
 * load-time check stands). A response past its nextUpdate stops being
 * stapled without a reload. */
bool hsk_ocsp_usable(const struct hsk_cert *cert, uint64_t now);

/* Per handshake: whether to staple cert's response for a client that
 * asked or not (RFC 6066 8: only when asked), at the worker's wall clock;
 * a response withheld because it expired since load is counted in
 * w->ocsp_expired (the dataplane logs it). */
bool hsk_ocsp_staple(const struct hsk_cert *cert, struct hsk_worker *w, bool asked);

#ifdef __cplusplus
}
#endif
#endif
