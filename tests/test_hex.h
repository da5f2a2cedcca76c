// Hex strings of test vectors into bytes (tests only).
#ifndef TEST_HEX_H
#define TEST_HEX_H

#include <cstdint>
#include <string>
#include <vector>

namespace test_hex {

inline std::vector<uint8_t>
unhex(const std::string &h)
{
	std::vector<uint8_t> v;
	for (size_t i = 0; i + 1 < h.size(); i += 2)
		v.push_back((uint8_t)std::stoi(h.substr(i, 2), nullptr, 16));
	return v;
}

} // namespace test_hex

#endif
