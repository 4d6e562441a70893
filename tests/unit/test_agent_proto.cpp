// The fast path's wire format (hook/agent-protocol/agent_proto.h), version 2: the streams
// that go to a pseudo-terminal and the terminal modes, as fod writes them and
// the agent reads them.
#include "agent_proto.h"

#include <catch2/catch.hpp>
#include <string>

namespace {

struct Parsed {
  fod_agent_request request{};
  const char *why = nullptr;
  int status; // after request: it is parsed into it
  explicit Parsed(const std::string &payload)
      : status(fod_agent_parse(payload.data(), payload.size(), &request, &why)) {}
  ~Parsed() {
    if (status == 0)
      fod_agent_request_free(&request);
  }
};

std::string item(char tag, const std::string &text) {
  return std::string(1, tag) + text + '\0';
}

std::string base() {
  return item('A', "/tool") + item('D', "/work");
}

} // namespace

TEST_CASE("agent_proto: 'T' names the streams that go to the pseudo-terminal", "[unit][agent]") {
  CHECK(Parsed(base()).request.pty_slots == 0u);
  CHECK(Parsed(base() + item('T', "012")).request.pty_slots == 7u);
  CHECK(Parsed(base() + item('T', "1")).request.pty_slots == 2u);
  CHECK(Parsed(base() + item('T', "20")).request.pty_slots == 5u);
  for (const char *bad : {"", "3", "11", "0x", "1 2"}) {
    INFO("T " << bad);
    CHECK(Parsed(base() + item('T', bad)).status != 0);
  }
  CHECK(Parsed(base() + item('T', "1") + item('T', "2")).status != 0);
}

TEST_CASE("agent_proto: terminal modes go through format and parse unchanged", "[unit][agent]") {
  fod_agent_modes modes{0x6d02u, 0x5u, 0xbfu, 0x8a3bu, {}};
  for (int i = 0; i < FOD_AGENT_NCCS; ++i)
    modes.cc[i] = static_cast<unsigned char>(i * 7);
  char text[FOD_AGENT_MODES_TEXT];
  fod_agent_format_modes(&modes, text);
  Parsed parsed(base() + item('T', "01") + item('M', text));
  REQUIRE(parsed.status == 0);
  CHECK(parsed.request.have_modes);
  CHECK(parsed.request.modes.iflag == 0x6d02u);
  CHECK(parsed.request.modes.lflag == 0x8a3bu);
  CHECK(parsed.request.modes.cc[FOD_AGENT_NCCS - 1] ==
        static_cast<unsigned char>((FOD_AGENT_NCCS - 1) * 7));

  for (const char *bad : {"", "1:2:3:4:", "1:2:3:4:00", "123456789:0:0:0:", "g:0:0:0:"}) {
    INFO("M " << bad);
    CHECK(Parsed(base() + item('M', bad)).status != 0);
  }
}
