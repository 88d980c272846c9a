// Reading a secret from standard input ("key import ORG_ID -"), so it never appears in
// shell history or in the process list.
#pragma once

#include <istream>
#include <string>

namespace tka::tokenctl {

// The first line of `in`, without surrounding whitespace. Throws UsageError when stdin is
// empty or closed.
std::string read_secret_line(std::istream& in);

}  // namespace tka::tokenctl
