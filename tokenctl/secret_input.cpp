// Reading a secret from standard input (see secret_input.hpp).
#include "tokenctl/secret_input.hpp"

#include <string_view>

#include "tokenctl/request.hpp"

namespace tka::tokenctl {

namespace {

constexpr std::string_view kSpace = " \t\r\n\v\f";
constexpr std::size_t kMaxSecretBytes = 4096;

}  // namespace

std::string read_secret_line(std::istream& in) {
    std::string line;
    if (!std::getline(in, line) && line.empty()) {
        throw UsageError("expected the secret key on standard input, got nothing");
    }
    if (line.size() > kMaxSecretBytes) {
        throw UsageError("the secret key on standard input is too long");
    }
    auto first = line.find_first_not_of(kSpace);
    if (first == std::string::npos) {
        throw UsageError("expected the secret key on standard input, got an empty line");
    }
    auto last = line.find_last_not_of(kSpace);
    return line.substr(first, last - first + 1);
}

}  // namespace tka::tokenctl
