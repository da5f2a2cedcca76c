/* X25519MLKEM768 key-share jobs (acc_mlkem_kx.h). */
#include <openssl/crypto.h>

#include "acc_mlkem.h"
#include "acc_mlkem_kx.h"
#include "acc_ossl.h"

void
acc_mlkem_kx_run(struct acc_ossl *ossl, struct acc_mlkem *mk, struct acc_job *job)
{
	struct acc_job x = { 0 };

	job->status = ACC_FAILED;
	job->out_len = 0;
	job->secret_len = 0;
	if (job->op != ACC_OP_KX_KEYGEN_DERIVE || job->in_len != ACC_X25519MLKEM768_CLIENT_LEN ||
	    job->out_cap < ACC_X25519MLKEM768_SERVER_LEN || job->secret_cap < ACC_X25519MLKEM768_SECRET_LEN ||
	    job->eph == NULL)
		return;
	if (acc_mlkem768_encaps(mk, job->in, ACC_MLKEM768_EK_LEN, NULL, job->out, job->secret) != 0)
		return;
	x.op = ACC_OP_KX_KEYGEN_DERIVE;
	x.alg = ACC_GROUP_X25519;
	x.eph = job->eph;
	x.in = job->in + ACC_MLKEM768_EK_LEN;
	x.in_len = 32;
	x.out = job->out + ACC_MLKEM768_CT_LEN;
	x.out_cap = 32;
	x.secret = job->secret + ACC_MLKEM_SS_LEN;
	x.secret_cap = job->secret_cap - ACC_MLKEM_SS_LEN;
	acc_ossl_run(ossl, &x);
	if (x.status != ACC_DONE || x.out_len != 32 || x.secret_len != 32) {
		OPENSSL_cleanse(job->secret, ACC_X25519MLKEM768_SECRET_LEN);
		return;
	}
	job->out_len = ACC_X25519MLKEM768_SERVER_LEN;
	job->secret_len = ACC_X25519MLKEM768_SECRET_LEN;
	job->status = ACC_DONE;
}
