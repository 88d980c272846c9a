// The compact layout's value codec (common/token_record.hpp): round trips, the exact byte
// layout the Lua scripts' struct.pack('>c1I4I4I4c32c12') produces, sizes within Redis's
// default hash-max-listpack-value (64), bucket indexes and malformed input.
#include <catch2/catch.hpp>

#include "common/crypto.hpp"
#include "common/identifiers.hpp"
#include "common/token_record.hpp"

using namespace tka;

TEST_CASE("token record: round trip, byte layout and size", "[layout]") {
    layout::StoredRecord r;
    r.status = layout::kActive;
    r.created_at = 1700000000;
    r.expires_at = 1700003600;
    r.refreshed_at = 0;
    const auto d = crypto::sha256("password");
    r.digest = std::string(reinterpret_cast<const char*>(d.data()), d.size());
    r.user = *layout::unhex("0123456789abcdef01234567");
    const std::string packed = layout::encode_record(r);
    CHECK(packed.size() == layout::kRecordBytes);
    CHECK(packed.size() <= 64);
    // Big-endian u32 after the status byte, as Lua's struct.pack('>I4') writes them.
    CHECK(packed[0] == 'a');
    CHECK(layout::hex(packed.substr(1, 4)) == "6553f100");
    CHECK(layout::hex(packed.substr(5, 4)) == "6553ff10");
    CHECK(packed.substr(13, 32) == r.digest);
    CHECK(packed.substr(45) == r.user);

    const auto back = layout::decode_record(packed);
    REQUIRE(back);
    CHECK(back->created_at == r.created_at);
    CHECK(back->expires_at == r.expires_at);
    CHECK(back->refreshed_at == 0);
    CHECK(back->digest == r.digest);
    CHECK(back->user == r.user);
    CHECK(back->ttl() == 3600);
    CHECK(layout::status_text(*back, 1700003599) == "active");
    CHECK(layout::status_text(*back, 1700003600) == "expired");
    CHECK_FALSE(back->gone(1700003600 + 3599, 3600));
    CHECK(back->gone(1700003600 + 3600, 3600));

    layout::StoredRecord refreshed = r;
    refreshed.status = layout::kRevoked;
    refreshed.refreshed_at = 1700001000;
    refreshed.expires_at = 1700001000 + 600;
    const auto again = layout::decode_record(layout::encode_record(refreshed));
    REQUIRE(again);
    CHECK(again->ttl() == 600);
    CHECK(layout::status_text(*again, 0) == "revoked");

    CHECK_FALSE(layout::decode_record(packed.substr(1)));
    std::string bad = packed;
    bad[0] = 'x';
    CHECK_FALSE(layout::decode_record(bad));
}

TEST_CASE("token record: identifiers, index entries and buckets", "[layout]") {
    const std::string id = ids::new_token_id();
    const auto raw = layout::token_id_bytes(id);
    REQUIRE(raw);
    CHECK(raw->size() == 16);
    CHECK(layout::token_id_text(*raw) == id);
    CHECK_FALSE(layout::token_id_bytes("not-a-uuid"));
    CHECK_FALSE(layout::token_id_bytes("0123456789abcdef0123456789abcdef0123"));
    CHECK_FALSE(layout::unhex("abc"));
    CHECK_FALSE(layout::unhex("zz"));

    const std::string user = *layout::unhex("fedcba9876543210fedcba98");
    const layout::PasswordEntry e{*raw, user, 7};
    const std::string pe = layout::encode_password_entry(e);
    CHECK(pe.size() == 29);
    const auto pe_back = layout::decode_password_entry(pe);
    REQUIRE(pe_back);
    CHECK(pe_back->token == *raw);
    CHECK(pe_back->user == user);
    CHECK(pe_back->generation == 7);

    const layout::TokenLocation l{"org_abcdefghij12", user, 20};
    const std::string le = layout::encode_location(l);
    CHECK(le.size() == 25);
    CHECK(le == layout::encode_location_prefix(l.org_id, user) + std::string(1, '\x14'));
    const auto l_back = layout::decode_location(le);
    REQUIRE(l_back);
    CHECK(l_back->org_id == "org_abcdefghij12");
    CHECK(l_back->user == user);
    CHECK(l_back->generation == 20);
    std::string bad_gen = le;
    bad_gen.back() = 21;
    CHECK_FALSE(layout::decode_location(bad_gen));

    // First `bits` bits of the identifier: fe dc b... -> 0xfedcb >> (20 - bits).
    CHECK(layout::bucket_index(user, 0) == 0);
    CHECK(layout::bucket_index(user, 1) == 1);
    CHECK(layout::bucket_index(user, 4) == 0xf);
    CHECK(layout::bucket_index(user, 16) == 0xfedc);
    CHECK(layout::bucket_index(user, 20) == 0xfedcb);
}
