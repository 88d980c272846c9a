// Credential classification: which CONNECTs are token auth's, which are left to others.
#include <catch2/catch.hpp>

#include <optional>

#include "plugin/credentials.hpp"

using tka::plugin::classify;
using Kind = tka::plugin::Credentials::Kind;

namespace {
const std::string kUser = "a1b2c3d4e5f6a7b8c9d0e1f2";
const std::string kOrg = "org_k7xm4pqr2n5t";
const std::string kPassword = "tkn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
}  // namespace

TEST_CASE("credentials: classification table", "[plugin][credentials]") {
    struct Row {
        std::optional<std::string> username;
        std::optional<std::string> password;
        Kind expected;
    };
    const Row row = GENERATE_COPY(values<Row>({
        {kUser + "@" + kOrg, kPassword, Kind::ours},
        {std::nullopt, kPassword, Kind::not_ours},
        {kUser + "@" + kOrg, std::nullopt, Kind::not_ours},
        {std::nullopt, std::nullopt, Kind::not_ours},
        {"alice", "secret", Kind::not_ours},
        {"alice", kPassword, Kind::not_ours},                 // password-file user
        {kUser + "@" + kOrg, "hunter2", Kind::not_ours},      // not a token password
        {kUser + "@" + kOrg, "TKN_abc", Kind::not_ours},      // prefix is case sensitive
        {kUser + "@example.com", kPassword, Kind::not_ours},  // e-mail style username
        {"@" + kOrg, kPassword, Kind::malformed_username},    // empty user id
        {kUser + "@org_short", kPassword, Kind::malformed_username},
        {kUser + "@" + kOrg + "x", kPassword, Kind::malformed_username},
        {"USER@" + kOrg, kPassword, Kind::malformed_username},  // upper case
        {kUser + "@" + kOrg + "@" + kOrg, kPassword, Kind::malformed_username},
        {"a/b+c#@" + kOrg, kPassword, Kind::malformed_username},
    }));
    CAPTURE(row.username.value_or("<null>"), row.password.value_or("<null>"));
    const auto c = classify(row.username, row.password);
    CHECK(c.kind == row.expected);
    if (row.expected == Kind::ours) {
        CHECK(c.user_id == kUser);
        CHECK(c.org_id == kOrg);
    }
}
