// The PROXY protocol v2 header (haproxy's proxy-protocol.txt 2.2) against
// bytes laid out by hand from the specification.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cstring>
#include <string>

#include "dp_pp2.h"

namespace {

std::string
hex(const uint8_t *p, size_t n)
{
	static const char *d = "0123456789abcdef";
	std::string s;
	for (size_t i = 0; i < n; i++) {
		s += d[p[i] >> 4];
		s += d[p[i] & 15];
	}
	return s;
}

struct sockaddr_in
v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	EXPECT_EQ(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

struct sockaddr_in6
v6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	EXPECT_EQ(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return a;
}

struct dp_pp2_tls
tls13()
{
	struct dp_pp2_tls t;
	memset(&t, 0, sizeof(t));
	t.client = DP_PP2_CLIENT_SSL;
	strcpy(t.version, "TLSv1.3");
	strcpy(t.cipher, "TLS_AES_128_GCM_SHA256");
	strcpy(t.sni, "example.com");
	strcpy(t.alpn, "h2");
	return t;
}

} // namespace

TEST(DpPp2, Ipv4WithAlpnSniAndSslTlv)
{
	struct sockaddr_in src = v4("192.0.2.1", 51000), dst = v4("198.51.100.2", 443);
	struct dp_pp2_tls t = tls13();
	uint8_t buf[DP_PP2_MAX];
	size_t n = dp_pp2_header(buf, sizeof(buf), (struct sockaddr *)&src, (struct sockaddr *)&dst, &t);
	std::string want = "0d0a0d0a000d0a515549540a" // signature
			   "2111004a"                 // v2 PROXY, TCP over IPv4, 74 bytes follow
			   "c0000201c6336402c73801bb" // 192.0.2.1 198.51.100.2 51000 443
			   "010002" "6832"            // ALPN "h2"
			   "02000b" "6578616d706c652e636f6d" // AUTHORITY "example.com"
			   "200028" "01" "00000001"   // SSL: client SSL, verify non-zero (no certificate)
			   "210007" "544c5376312e33"  // VERSION "TLSv1.3"
			   "230016" "544c535f4145535f3132385f47434d5f534841323536"; // CIPHER
	EXPECT_EQ(hex(buf, n), want);
}

TEST(DpPp2, Ipv6AddressesAndClientCertificate)
{
	struct sockaddr_in6 src = v6("2001:db8::1", 40000), dst = v6("2001:db8::2", 8443);
	struct dp_pp2_tls t = tls13();
	t.sni[0] = t.alpn[0] = '\0'; // empty values are left out
	t.client |= DP_PP2_CLIENT_CERT_CONN | DP_PP2_CLIENT_CERT_SESS;
	t.verified = true;
	strcpy(t.cn, "c");
	strcpy(t.key_alg, "EC256");
	uint8_t buf[DP_PP2_MAX];
	size_t n = dp_pp2_header(buf, sizeof(buf), (struct sockaddr *)&src, (struct sockaddr *)&dst, &t);
	// 36 address bytes + the SSL TLV (3 + 5 + 10 + 25 + 8 + 4) = 91 after the first 16.
	ASSERT_EQ(n, 16u + 91u);
	EXPECT_EQ(hex(buf + 12, 4), "2121005b");
	EXPECT_EQ(hex(buf + 16, 36), "20010db8000000000000000000000001"
				     "20010db8000000000000000000000002"
				     "9c4020fb");
	// SSL TLV right after the addresses: client 7, verify 0, then the
	// version, cipher, key algorithm and CN sub-TLVs.
	EXPECT_EQ(hex(buf + 52, 8), "2000340700000000");
	std::string tail = hex(buf + n - 12, 12);
	EXPECT_EQ(tail, "250005" "4543323536" "220001" "63"); // KEY_ALG "EC256", CN "c"
}

TEST(DpPp2, RefusesWhatDoesNotFitOrMixesFamilies)
{
	struct sockaddr_in src = v4("127.0.0.1", 1), dst = v4("127.0.0.1", 2);
	struct sockaddr_in6 dst6 = v6("::1", 2);
	struct dp_pp2_tls t = tls13();
	uint8_t buf[DP_PP2_MAX];
	size_t full = dp_pp2_header(buf, sizeof(buf), (struct sockaddr *)&src, (struct sockaddr *)&dst, &t);
	ASSERT_GT(full, 0u);
	EXPECT_EQ(dp_pp2_header(buf, full - 1, (struct sockaddr *)&src, (struct sockaddr *)&dst, &t), 0u);
	EXPECT_EQ(dp_pp2_header(buf, full, (struct sockaddr *)&src, (struct sockaddr *)&dst, &t), full);
	EXPECT_EQ(dp_pp2_header(buf, sizeof(buf), (struct sockaddr *)&src, (struct sockaddr *)&dst6, &t), 0u);
	struct sockaddr_storage none;
	memset(&none, 0, sizeof(none)); // getpeername failed: family 0
	EXPECT_EQ(dp_pp2_header(buf, sizeof(buf), (struct sockaddr *)&none, (struct sockaddr *)&none, &t), 0u);
}
