// dp_log's escaping of bytes a peer chose (an SNI, a backend's name) for
// JSON strings (RFC 8259 7) and text lines, and its time stamps.
#include <gtest/gtest.h>

#include <string>

#include "dp_log.h"

namespace {

std::string
esc(const std::string &in, enum dp_esc how, size_t cap = 4096)
{
	std::string out(cap, '\0');
	size_t n = dp_log_escape(&out[0], cap, in.data(), in.size(), how);
	EXPECT_EQ(n, strlen(out.c_str()));
	out.resize(n);
	return out;
}

TEST(DpLog, JsonEscapesQuotesBackslashesAndControlBytes)
{
	EXPECT_EQ(esc(std::string("a\"b\\c\n\r\t\x01\x1f\x7f", 11), DP_ESC_JSON),
		  "a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\\u007f");
}

TEST(DpLog, JsonEscapesBytesAboveAsciiSoTheLineStaysValidUtf8)
{
	EXPECT_EQ(esc("\xff\xc3\x28", DP_ESC_JSON), "\\u00ff\\u00c3(");
}

TEST(DpLog, JsonKeepsANulInsideTheInput)
{
	EXPECT_EQ(esc(std::string("a\0b", 3), DP_ESC_JSON), "a\\u0000b");
}

TEST(DpLog, QuotedTextEscapesQuotesAndNonPrintables)
{
	EXPECT_EQ(esc("x\"}\n{\"evil\\", DP_ESC_QUOTED), "x\\\"}\\x0a{\\\"evil\\\\");
	EXPECT_EQ(esc("\x80", DP_ESC_QUOTED), "\\x80");
}

TEST(DpLog, PlainTextKeepsQuotesAndSanitizesControlBytes)
{
	EXPECT_EQ(esc("'a' \"b\"\n\x1b[31m", DP_ESC_PLAIN), "'a' \"b\"\\x0a\\x1b[31m");
}

TEST(DpLog, NeverCutsAnEscapeSequence)
{
	// "\u0001" is 6 bytes: with room for 5 (cap 6 with the NUL) it is dropped whole
	EXPECT_EQ(esc("\x01", DP_ESC_JSON, 6), "");
	EXPECT_EQ(esc("\x01", DP_ESC_JSON, 7), "\\u0001");
	EXPECT_EQ(esc("ab\x01", DP_ESC_JSON, 8), "ab");
	EXPECT_EQ(esc("abc", DP_ESC_PLAIN, 3), "ab");
	char c = 'x';
	EXPECT_EQ(dp_log_escape(&c, 0, "a", 1, DP_ESC_PLAIN), 0u);
	EXPECT_EQ(c, 'x');
}

TEST(DpLog, TimeIsUtcWithMilliseconds)
{
	char buf[32];

	dp_log_time(buf, sizeof(buf), 0, 5000000);
	EXPECT_STREQ(buf, "1970-01-01T00:00:00.005Z");
	dp_log_time(buf, sizeof(buf), 1796406714LL, 999999999);
	EXPECT_STREQ(buf, "2026-12-04T17:51:54.999Z");
}

} // namespace
