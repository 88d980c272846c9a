// Slow, salted hashes of admin passwords (the dashboard's accounts, common/admin_store.hpp).
// scrypt through OpenSSL's EVP_PBE_scrypt, with the parameters stored next to each hash so
// they can be raised later without breaking stored accounts:
//
//   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<hash, base64url>
//
// Defaults: N = 2^15, r = 8, p = 1 (32 MiB of memory, about 0.1-0.2 s of CPU per check), 16
// random salt bytes, 32 hash bytes. Verification recomputes with the stored parameters
// and compares in constant time.
#pragma once

#include <string>
#include <string_view>

namespace tka {

struct ScryptParams {
    unsigned log2_n = 15;
    unsigned r = 8;
    unsigned p = 1;
};

// The stored form of `password` with a fresh random salt. Throws std::invalid_argument for
// parameters beyond the bounds verify_password() accepts.
std::string hash_password(std::string_view password, const ScryptParams& params = {});

// Whether `password` matches `stored` (a hash_password() result). False for a malformed
// `stored` or parameters beyond sane bounds (log2 N > 20, r*p > 64, more than 256 MiB of
// memory), never throws for them.
bool verify_password(std::string_view password, std::string_view stored);

// A stored hash to verify against when the account does not exist, so that an unknown
// name costs the same time as a wrong password (computed once per process).
const std::string& dummy_password_hash();

}  // namespace tka
