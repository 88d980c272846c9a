// tokenctl: the operator's command line for mosquitto-token-auth (docs/tokenctl.md).
#include <iostream>
#include <string>
#include <vector>

#include "tokenctl/run.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return tka::tokenctl::run(args, std::cin, std::cout, std::cerr);
}
