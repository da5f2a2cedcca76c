/* OCSP stapling: loading and checking a response (hsk_ocsp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "hsk_conn.h"
#include "hsk_ctx.h"
#include "hsk_ocsp.h"

enum { HSK_CERT_STATUS_OCSP = 1 }; /* CertificateStatusType (RFC 6066 8) */

/* An ASN.1 time as seconds since the epoch; 0 when absent or unreadable. */
static uint64_t
hsk_ocsp_time(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;
	time_t s;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	s = timegm(&tm);
	return s > 0 ? (uint64_t)s : 0;
}

/* Whether single is about leaf: the whole CertID, computed with the
 * response's own hash algorithm, when the issuer is known (RFC 6960
 * 4.1.1); the serial alone when it is not (the client checks the rest). */
static bool
hsk_ocsp_is_for(OCSP_SINGLERESP *single, X509 *leaf, X509 *issuer)
{
	const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(single);
	ASN1_OBJECT *alg = NULL;
	ASN1_INTEGER *serial = NULL;
	OCSP_CERTID *ours;
	const EVP_MD *md;
	bool same;

	if (OCSP_id_get0_info(NULL, &alg, NULL, &serial, (OCSP_CERTID *)cid) != 1 || serial == NULL)
		return false;
	if (issuer == NULL)
		return ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) == 0;
	md = EVP_get_digestbyobj(alg);
	if (md == NULL)
		return false;
	ours = OCSP_cert_to_id(md, leaf, issuer);
	same = ours != NULL && OCSP_id_cmp(ours, cid) == 0;
	OCSP_CERTID_free(ours);
	return same;
}

/* The SingleResponse for leaf, or NULL. */
static OCSP_SINGLERESP *
hsk_ocsp_find(OCSP_BASICRESP *basic, X509 *leaf, X509 *issuer)
{
	for (int i = 0; i < OCSP_resp_count(basic); i++) {
		OCSP_SINGLERESP *single = OCSP_resp_get0(basic, i);

		if (single != NULL && hsk_ocsp_is_for(single, leaf, issuer))
			return single;
	}
	return NULL;
}

/* CertificateStatus body: ocsp(1) || u24 length || the response. */
static uint8_t *
hsk_ocsp_encode(const uint8_t *der, size_t len, size_t *out_len)
{
	uint8_t *p = malloc(4 + len);

	if (p == NULL)
		return NULL;
	p[0] = HSK_CERT_STATUS_OCSP;
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + 4, der, len);
	*out_len = 4 + len;
	return p;
}

int
hsk_ocsp_check(const uint8_t *der, size_t len, void *leaf_v, void *issuer_v, uint64_t now,
	       struct hsk_ocsp *out, char *err, size_t errlen, char *warn, size_t warnlen)
{
	const unsigned char *p = der;
	X509 *leaf = leaf_v, *issuer = issuer_v;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *basic = NULL;
	OCSP_SINGLERESP *single;
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
	int status, cert_status, rc = -1;

	memset(out, 0, sizeof(*out));
	if (warn != NULL && warnlen > 0)
		warn[0] = 0;
	if (len == 0 || len > HSK_OCSP_MAX) {
		snprintf(err, errlen, "OCSP response of %zu bytes (1 to %u)", len, HSK_OCSP_MAX);
		return -1;
	}
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (resp == NULL || p != der + len) {
		snprintf(err, errlen, "not a DER OCSP response");
		goto out;
	}
	status = OCSP_response_status(resp);
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(err, errlen, "OCSP response status is %s, not successful", OCSP_response_status_str(status));
		goto out;
	}
	basic = OCSP_response_get1_basic(resp);
	single = basic != NULL ? hsk_ocsp_find(basic, leaf, issuer) : NULL;
	if (single == NULL) {
		snprintf(err, errlen, "the OCSP response is not about this certificate%s",
			 issuer == NULL ? " (serial compared: the chain has no issuer)" : "");
		goto out;
	}
	cert_status = OCSP_single_get0_status(single, NULL, NULL, &thisupd, &nextupd);
	out->this_update = hsk_ocsp_time(thisupd);
	out->next_update = hsk_ocsp_time(nextupd);
	if (nextupd != NULL && out->next_update == 0) {
		snprintf(err, errlen, "unreadable nextUpdate in the OCSP response");
		goto out;
	}
	rc = 0;
	/* A revoked or unknown certificate stapled would make every client
	 * refuse the handshake (RFC 6960 2.2): none, like an expired one. */
	if (cert_status != V_OCSP_CERTSTATUS_GOOD) {
		snprintf(warn, warnlen, "OCSP response says the certificate is %s: not stapled",
			 OCSP_cert_status_str(cert_status));
		goto out;
	}
	/* An expired response would make a careful client fail the handshake
	 * (RFC 6960 4.2.2.1): better none, the client may ask the responder. */
	if (out->next_update != 0 && out->next_update <= now) {
		snprintf(warn, warnlen, "OCSP response expired %llu s ago (nextUpdate): not stapled",
			 (unsigned long long)(now - out->next_update));
		goto out;
	}
	out->status = hsk_ocsp_encode(der, len, &out->status_len);
	if (out->status == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
out:
	ERR_clear_error();
	OCSP_BASICRESP_free(basic);
	OCSP_RESPONSE_free(resp);
	return rc;
}

int
hsk_ocsp_load(const char *path, void *leaf, void *issuer, uint64_t now, struct hsk_ocsp *out, char *err,
	      size_t errlen, char *warn, size_t warnlen)
{
	uint8_t *buf = malloc(HSK_OCSP_MAX + 1);
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	char why[256];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (buf == NULL || f == NULL) {
		snprintf(err, errlen, "%s: cannot open OCSP response file", path);
		goto out;
	}
	n = fread(buf, 1, HSK_OCSP_MAX + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read OCSP response file", path);
		goto out;
	}
	rc = hsk_ocsp_check(buf, n, leaf, issuer, now, out, why, sizeof(why), warn, warnlen);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, why);
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

void
hsk_ocsp_free(struct hsk_ocsp *o)
{
	free(o->status);
	memset(o, 0, sizeof(*o));
}

bool
hsk_ocsp_staple(const struct hsk_cert *cert, struct hsk_worker *w, bool asked)
{
	if (!asked || cert->ocsp.status == NULL)
		return false;
	if (hsk_ocsp_usable(cert, w->wall_s))
		return true;
	w->ocsp_expired++;
	return false;
}

bool
hsk_ocsp_usable(const struct hsk_cert *cert, uint64_t now)
{
	const struct hsk_ocsp *o = &cert->ocsp;

	return o->status != NULL && (o->next_update == 0 || now == 0 || now < o->next_update);
}
