/* accel's ML-KEM-768 from the command line, for the live comparison with
 * OpenSSL 3.5 in tests/integration/mlkem.sh (tests/tools/mlkem_live_check.js):
 *   mlkem_tool keygen          -> "EK DK"
 *   mlkem_tool encaps EK       -> "CT SS"
 *   mlkem_tool decaps DK CT    -> "SS"
 * all in hex. Exit 1 on a refused input, 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acc_mlkem.h"

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	if (n > cap || strlen(s) % 2 != 0)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return (size_t)-1;
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
puthex(const uint8_t *b, size_t n, const char *end)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	fputs(end, stdout);
}

int
main(int argc, char **argv)
{
	static uint8_t ek[ACC_MLKEM768_EK_LEN + 1], dk[ACC_MLKEM768_DK_LEN + 1], ct[ACC_MLKEM768_CT_LEN + 1];
	uint8_t ss[ACC_MLKEM_SS_LEN];
	struct acc_mlkem *mk = acc_mlkem_new();
	int rc = 2;

	if (mk == NULL)
		return 1;
	if (argc == 2 && strcmp(argv[1], "keygen") == 0) {
		rc = acc_mlkem768_keygen(mk, NULL, NULL, ek, dk) == 0 ? 0 : 1;
		puthex(ek, ACC_MLKEM768_EK_LEN, " ");
		puthex(dk, ACC_MLKEM768_DK_LEN, "\n");
	} else if (argc == 3 && strcmp(argv[1], "encaps") == 0) {
		size_t n = unhex(argv[2], ek, sizeof(ek));
		rc = n != (size_t)-1 && acc_mlkem768_encaps(mk, ek, n, NULL, ct, ss) == 0 ? 0 : 1;
		if (rc == 0) {
			puthex(ct, ACC_MLKEM768_CT_LEN, " ");
			puthex(ss, sizeof(ss), "\n");
		}
	} else if (argc == 4 && strcmp(argv[1], "decaps") == 0) {
		size_t n = unhex(argv[2], dk, sizeof(dk)), m = unhex(argv[3], ct, sizeof(ct));
		rc = n != (size_t)-1 && m != (size_t)-1 && acc_mlkem768_decaps(mk, dk, n, ct, m, ss) == 0 ? 0 : 1;
		if (rc == 0)
			puthex(ss, sizeof(ss), "\n");
	} else {
		fprintf(stderr, "usage: %s keygen | encaps EK | decaps DK CT\n", argv[0]);
	}
	acc_mlkem_free(mk);
	return rc;
}
