/* ML-KEM-768 on one core: KeyGen, Encaps (the server's part of an
 * X25519MLKEM768 handshake) and Decaps per second, and the whole hybrid
 * key-share job through the executor (encapsulation + X25519 keygen and
 * derive) against the X25519 job alone. One operation at a time: there
 * are no lanes for ML-KEM (no AVX-512 on the machines this was written
 * on). Each figure is operations per second of this thread's CPU time,
 * the median of several rounds.
 *
 *   build/bench/mlkem_bench [seconds per round, default 0.3] [rounds, default 5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "acc_exec.h"
#include "acc_mlkem.h"
#include "acc_mlkem_kx.h"
#include "bench_util.h" /* bench_median */

enum op { OP_KEYGEN, OP_ENCAPS, OP_DECAPS };

/* This thread's CPU time: on a shared machine the wall clock counts other
 * processes' time too; operations per CPU-second do not. */
static double
cpu_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
kem_rate(struct acc_mlkem *mk, enum op op, double secs)
{
	static uint8_t ek[ACC_MLKEM768_EK_LEN], dk[ACC_MLKEM768_DK_LEN], ct[ACC_MLKEM768_CT_LEN], ss[32];
	unsigned long done = 0;
	double t0, t;

	if (acc_mlkem768_keygen(mk, NULL, NULL, ek, dk) != 0 || acc_mlkem768_encaps(mk, ek, sizeof(ek), NULL, ct, ss) != 0)
		exit(1);
	t0 = cpu_now_s();
	do {
		for (int i = 0; i < 16; i++) {
			int rc = op == OP_KEYGEN   ? acc_mlkem768_keygen(mk, NULL, NULL, ek, dk)
				 : op == OP_ENCAPS ? acc_mlkem768_encaps(mk, ek, sizeof(ek), NULL, ct, ss)
						   : acc_mlkem768_decaps(mk, dk, sizeof(dk), ct, sizeof(ct), ss);
			if (rc != 0)
				exit(1);
		}
		done += 16;
		t = cpu_now_s();
	} while (t - t0 < secs);
	return (double)done / (t - t0);
}

static void
on_done(struct acc_job *job, void *arg)
{
	if (job->status != ACC_DONE)
		++*(unsigned long *)arg;
}

/* TLS 1.3 server key-share jobs per second for group, one per flush. */
static double
share_rate(struct acc_exec *ex, struct acc_mlkem *mk, uint16_t group, double secs)
{
	static uint8_t in[ACC_X25519MLKEM768_CLIENT_LEN], dk[ACC_MLKEM768_DK_LEN], out[1152], secret[64];
	size_t xoff = group == ACC_GROUP_X25519 ? 0 : ACC_MLKEM768_EK_LEN;
	struct acc_eph eph = { 0 };
	unsigned long done = 0, failed = 0;
	double t0, t;

	if (acc_mlkem768_keygen(mk, NULL, NULL, in, dk) != 0)
		exit(1);
	RAND_bytes(in + xoff, 32);
	in[xoff + 31] &= 0x7f;
	t0 = cpu_now_s();
	do {
		struct acc_job j = { 0 };

		acc_eph_clear(&eph);
		j.op = ACC_OP_KX_KEYGEN_DERIVE;
		j.alg = group;
		j.eph = &eph;
		j.in = in;
		j.in_len = (uint32_t)(xoff + 32);
		j.out = out;
		j.out_cap = sizeof(out);
		j.secret = secret;
		j.secret_cap = sizeof(secret);
		acc_exec_submit(ex, &j);
		done += acc_exec_flush(ex, on_done, &failed);
		t = cpu_now_s();
	} while (t - t0 < secs);
	acc_eph_clear(&eph);
	if (failed) {
		fprintf(stderr, "%lu key shares failed\n", failed);
		exit(1);
	}
	return (double)done / (t - t0);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.3;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	static const char *names[] = { "ML-KEM-768 KeyGen", "ML-KEM-768 Encaps", "ML-KEM-768 Decaps" };
	struct acc_mlkem *mk = acc_mlkem_new();
	struct acc_exec *ex = acc_exec_new("openssl");
	double a[BENCH_MAX_ROUNDS], b[BENCH_MAX_ROUNDS];

	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS || secs <= 0) {
		fprintf(stderr, "usage: %s [seconds per round] [rounds 1..%d]\n", argv[0], BENCH_MAX_ROUNDS);
		return 2;
	}
	if (mk == NULL || ex == NULL)
		return 1;
	printf("# one core, one operation at a time, per CPU-second, median of %d rounds of %.2f s\n", rounds, secs);
	printf("%-34s %12s %10s\n", "operation", "per CPU-s", "us each");
	for (int op = OP_KEYGEN; op <= OP_DECAPS; op++) {
		for (int r = 0; r < rounds; r++)
			a[r] = kem_rate(mk, (enum op)op, secs);
		double m = bench_median(a, rounds);
		printf("%-34s %12.0f %10.1f\n", names[op], m, 1e6 / m);
	}
	for (int r = 0; r < rounds; r++) {
		a[r] = share_rate(ex, mk, ACC_GROUP_X25519MLKEM768, secs);
		b[r] = share_rate(ex, mk, ACC_GROUP_X25519, secs);
	}
	double ra = bench_median(a, rounds), rb = bench_median(b, rounds);
	printf("%-34s %12.0f %10.1f\n", "X25519MLKEM768 server share (job)", ra, 1e6 / ra);
	printf("%-34s %12.0f %10.1f\n", "X25519 server share (job)", rb, 1e6 / rb);
	acc_exec_free(ex);
	acc_mlkem_free(mk);
	return 0;
}
