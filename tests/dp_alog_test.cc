// Access log lines (dp_alog): the fields of a connection as text and as
// one JSON object per line, with a hostile SNI escaped so that it cannot
// end the line, the string or the object.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "dp_alog.h"

namespace {

struct dp_alog_rec
rec()
{
	struct dp_alog_rec r;
	memset(&r, 0, sizeof(r));
	r.time_s = 1796406714LL;
	r.time_ns = 123000000;
	struct sockaddr_in *sin = (struct sockaddr_in *)&r.peer;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(50123);
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	r.sni = "example.com";
	r.version = 0x0304;
	r.suite = "TLS_AES_128_GCM_SHA256";
	r.resumed = true;
	r.established = true;
	r.hs_ms = 1.25;
	r.bytes_in = 700;
	r.bytes_out = 2600;
	r.backend = NULL;
	r.close = "close_notify";
	return r;
}

std::string
line(const struct dp_alog_rec &r, bool json)
{
	char buf[DP_ALOG_LINE];
	size_t n = dp_alog_format(buf, sizeof(buf), &r, json);
	return std::string(buf, n);
}

TEST(DpAlog, JsonLineHasEveryField)
{
	EXPECT_EQ(line(rec(), true),
		  "{\"time\":\"2026-12-04T17:51:54.123Z\",\"client\":\"127.0.0.1:50123\",\"sni\":\"example.com\","
		  "\"version\":\"1.3\",\"suite\":\"TLS_AES_128_GCM_SHA256\",\"resumed\":true,\"established\":true,"
		  "\"handshake_ms\":1.250,\"bytes_in\":700,\"bytes_out\":2600,\"backend\":null,"
		  "\"close\":\"close_notify\"}\n");
}

TEST(DpAlog, TextLineHasEveryField)
{
	struct dp_alog_rec r = rec();
	r.backend = "127.0.0.1:8080";
	r.resumed = false;
	EXPECT_EQ(line(r, false),
		  "2026-12-04T17:51:54.123Z client=127.0.0.1:50123 sni=\"example.com\" version=1.3 "
		  "suite=TLS_AES_128_GCM_SHA256 resumed=0 established=1 handshake_ms=1.250 bytes_in=700 "
		  "bytes_out=2600 backend=127.0.0.1:8080 close=close_notify\n");
}

TEST(DpAlog, FailedHandshakeHasNoVersionAndANullTime)
{
	struct dp_alog_rec r = rec();
	r.version = 0;
	r.suite = "";
	r.resumed = false;
	r.established = false;
	r.hs_ms = -1;
	r.close = "alert:handshake_failure";
	std::string j = line(r, true);
	EXPECT_NE(j.find("\"version\":\"\",\"suite\":\"\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"handshake_ms\":null"), std::string::npos) << j;
	EXPECT_NE(j.find("\"close\":\"alert:handshake_failure\""), std::string::npos) << j;
	std::string t = line(r, false);
	EXPECT_NE(t.find(" version=- suite=- "), std::string::npos) << t;
	EXPECT_NE(t.find(" handshake_ms=- "), std::string::npos) << t;
}

TEST(DpAlog, HostileSniStaysInsideItsString)
{
	struct dp_alog_rec r = rec();
	std::string sni("x\"}\n{\"injected\":1,\"a\":\"\\\x01\xff", 27);
	r.sni = sni.c_str();
	std::string j = line(r, true);
	// one line, and the SNI's quote and newline escaped
	EXPECT_EQ(j.find('\n'), j.size() - 1) << j;
	EXPECT_NE(j.find("\"sni\":\"x\\\"}\\n{\\\"injected\\\":1,\\\"a\\\":\\\"\\\\\\u0001\\u00ff\","),
		  std::string::npos)
		<< j;
	std::string t = line(r, false);
	EXPECT_EQ(t.find('\n'), t.size() - 1) << t;
	EXPECT_NE(t.find("sni=\"x\\\"}\\x0a{\\\"injected\\\":1,\\\"a\\\":\\\"\\\\\\x01\\xff\" "), std::string::npos)
		<< t;
}

TEST(DpAlog, LongestSniFitsALine)
{
	struct dp_alog_rec r = rec();
	std::string sni(255, '\x01');
	std::string backend(270, '"');
	r.sni = sni.c_str();
	r.backend = backend.c_str();
	std::string j = line(r, true);
	ASSERT_FALSE(j.empty());
	EXPECT_EQ(j.substr(j.size() - 24), "\"close\":\"close_notify\"}\n");
}

TEST(DpAlog, Ipv6ClientInBrackets)
{
	struct dp_alog_rec r = rec();
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&r.peer;
	memset(&r.peer, 0, sizeof(r.peer));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(443);
	inet_pton(AF_INET6, "::1", &sin6->sin6_addr);
	EXPECT_NE(line(r, false).find(" client=[::1]:443 "), std::string::npos);
}

TEST(DpAlog, BufferedLinesReachTheFileWhole)
{
	char path[] = "/tmp/dp_alog_test.XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	close(fd);
	uint64_t lines = 0, dropped = 0;
	struct dp_alog *l = dp_alog_open(path, true, &lines, &dropped);
	ASSERT_NE(l, nullptr);
	struct dp_alog_rec r = rec();
	const int n = 200; // more than the buffer holds: flushed on the way
	for (int i = 0; i < n; i++)
		dp_alog_add(l, &r);
	dp_alog_close(l);
	FILE *f = fopen(path, "r");
	ASSERT_NE(f, nullptr);
	std::string want = line(r, true);
	char buf[4096];
	int got = 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		EXPECT_EQ(std::string(buf), want);
		got++;
	}
	fclose(f);
	unlink(path);
	EXPECT_EQ(got, n);
	EXPECT_EQ(lines, (uint64_t)n);
	EXPECT_EQ(dropped, 0u);
}

} // namespace
