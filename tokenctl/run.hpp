// tokenctl as a function: the whole program minus process set-up, so it can be called
// in-process. Parses the command line, connects to Redis with short timeouts, runs the
// command and maps every failure to exactly one line "tokenctl: <message>" on `err` and an
// exit status from exit_codes.hpp.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace tka::tokenctl {

// `args` excludes the program name. `in` is read only for "key import ORG_ID -".
int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err);

}  // namespace tka::tokenctl
