// Unit tests of common/redis_tls_options: the start-up check shared by tokend, tokenctl and
// the plugin (pairs, readable files, TLS settings only with a TLS URL).
#include "common/redis_tls_options.hpp"

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.hpp"

namespace {

const tka::RedisTlsOptionNames kNames{"--ca", "--cert", "--key", "--insecure", "--url"};

std::string check(const tka::RedisTlsOptions& tls, const std::string& url) {
    return tka::check_redis_tls(tls, tka::parse_redis_url(url), kNames);
}

}  // namespace

TEST_CASE("Redis TLS settings are checked against the URL and the files", "[redis_tls]") {
    tka::test::TempDir dir;
    const std::string file = dir.write("f.pem", "x");
    const std::string missing = dir.file("missing.pem");

    CHECK(check({}, "redis://h").empty());
    CHECK(check({}, "rediss://h").empty());  // the system's trust store
    CHECK(check({file, file, file, false}, "rediss://h").empty());
    CHECK(check({file, "", "", false}, "rediss+sentinel://s/m").empty());
    CHECK(check({"", "", "", true}, "rediss://h").empty());

    CHECK(check({"", file, "", false}, "rediss://h") == "--cert and --key must be given together");
    CHECK(check({"", "", file, false}, "rediss://h") == "--cert and --key must be given together");
    CHECK(check({missing, "", "", false}, "rediss://h") ==
          "cannot read --ca file '" + missing + "'");
    CHECK(check({"", missing, file, false}, "rediss://h") ==
          "cannot read --cert file '" + missing + "'");
    CHECK(check({"", file, missing, false}, "rediss://h") ==
          "cannot read --key file '" + missing + "'");
    const std::string no_tls =
        "--ca, --cert, --key and --insecure need a TLS --url (rediss://... or "
        "rediss+sentinel://...)";
    CHECK(check({file, "", "", false}, "redis://h") == no_tls);
    CHECK(check({"", "", "", true}, "unix:///tmp/r.sock") == no_tls);
    CHECK(check({file, "", "", false}, "redis+sentinel://s/m") == no_tls);
}
