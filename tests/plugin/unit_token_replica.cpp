// TokenReplica without Redis: each event type, refresh forgetting the old digest, org token
// auth off/on, untrusted or a lapsed lease answers nothing, the CLOCK bound, fill() refused after a
// newer event, and one writer thread against one reader thread (the TSan build runs this too).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/crypto.hpp"
#include "plugin/token_replica.hpp"
#include "tests/support/numbered.hpp"

using tka::Event;
using tka::plugin::PasswordDigest;
using tka::plugin::ReplicaAnswer;
using tka::plugin::TokenReplica;
using tka::test::numbered;

namespace {

constexpr tka::UnixSeconds kNow = 1'800'000'000;
const std::string kOrg = "org_aaaaaaaaaaaa";
const std::string kUser = "0123456789abcdef01234567";

PasswordDigest digest_of(const std::string& password) {
    return tka::crypto::sha256(password);
}

std::string uuid(int n) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
    return buf;
}

Event created(const std::string& token, const std::string& password,
              tka::UnixSeconds exp = kNow + 3600, const std::string& org = kOrg,
              const std::string& user = kUser) {
    Event e;
    e.type = Event::Type::token_created;
    e.org_id = org;
    e.token_id = token;
    e.user_id = user;
    e.password_digest = tka::crypto::sha256_hex(password);
    e.expires_at = exp;
    return e;
}

Event refreshed(const std::string& token, const std::string& password, tka::UnixSeconds exp) {
    Event e = created(token, password, exp);
    e.type = Event::Type::token_refreshed;
    return e;
}

Event revoked(const std::string& token) {
    Event e;
    e.type = Event::Type::token_revoked;
    e.org_id = kOrg;
    e.token_id = token;
    e.user_id = kUser;
    e.reason = "revoked";
    return e;
}

Event org_updated(bool token_auth, const std::string& org = kOrg) {
    Event e;
    e.type = Event::Type::org_updated;
    e.org_id = org;
    e.token_auth = token_auth;
    e.ttl = 3600;
    return e;
}

// Caught up and with a lease far in the future (the consumer's heartbeats, in short).
void trust(TokenReplica& r) {
    r.set_trusted(true);
    r.renew_lease(std::chrono::steady_clock::now() + std::chrono::hours(1));
}

ReplicaAnswer::Kind ask(TokenReplica& r, const std::string& password,
                        const std::string& user = kUser, const std::string& org = kOrg,
                        tka::UnixSeconds now = kNow) {
    return r.lookup(org, user, digest_of(password), now).kind;
}

}  // namespace

TEST_CASE("replica: digest parsing round-trip", "[plugin][replica]") {
    CHECK(tka::plugin::parse_digest_hex(tka::crypto::sha256_hex("x")) == tka::crypto::sha256("x"));
    CHECK_FALSE(tka::plugin::parse_digest_hex("abc"));
    CHECK(TokenReplica::entry_size() == 64);
}

TEST_CASE("replica: created, refreshed, revoked", "[plugin][replica]") {
    TokenReplica r;
    trust(r);
    r.apply(created(uuid(1), "pw-1"), kNow);

    const auto hit = r.lookup(kOrg, kUser, digest_of("pw-1"), kNow);
    REQUIRE(hit.kind == ReplicaAnswer::Kind::allow);
    CHECK(hit.token_id == uuid(1));
    CHECK(hit.expires_at == kNow + 3600);
    CHECK(ask(r, "other") == ReplicaAnswer::Kind::miss);
    CHECK(ask(r, "pw-1", "ffffffffffffffffffffffff") == ReplicaAnswer::Kind::user_mismatch);
    CHECK(ask(r, "pw-1", kUser, "org_bbbbbbbbbbbb") == ReplicaAnswer::Kind::miss);
    CHECK(ask(r, "pw-1", kUser, kOrg, kNow + 3600) == ReplicaAnswer::Kind::expired);

    SECTION("refresh drops the old digest and moves the expiry") {
        r.apply(refreshed(uuid(1), "pw-2", kNow + 7200), kNow);
        CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::miss);
        const auto fresh = r.lookup(kOrg, kUser, digest_of("pw-2"), kNow);
        REQUIRE(fresh.kind == ReplicaAnswer::Kind::allow);
        CHECK(fresh.expires_at == kNow + 7200);
        CHECK(r.stats().entries == 1);
    }
    SECTION("revoke drops the token by id") {
        r.apply(revoked(uuid(1)), kNow);
        CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::miss);
        CHECK(r.stats().entries == 0);
        r.apply(revoked(uuid(1)), kNow);  // idempotent
        CHECK(r.stats().entries == 0);
    }
    SECTION("replayed events converge (sync followed by events it already saw)") {
        r.apply(refreshed(uuid(1), "pw-2", kNow + 7200), kNow);
        r.apply(created(uuid(1), "pw-1"), kNow);  // replay from before the sync point
        r.apply(refreshed(uuid(1), "pw-2", kNow + 7200), kNow);
        CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::miss);
        CHECK(ask(r, "pw-2") == ReplicaAnswer::Kind::allow);
        CHECK(r.stats().entries == 1);
    }
    SECTION("an already expired token is not stored") {
        r.apply(created(uuid(2), "pw-old", kNow - 1), kNow);
        CHECK(ask(r, "pw-old") == ReplicaAnswer::Kind::miss);
    }
}

TEST_CASE("replica: org token auth off masks its tokens, on restores them", "[plugin][replica]") {
    TokenReplica r;
    trust(r);
    const std::string other = "org_bbbbbbbbbbbb";
    r.apply(created(uuid(1), "pw-1"), kNow);
    r.apply(created(uuid(2), "pw-2", kNow + 3600, other), kNow);

    r.apply(org_updated(false), kNow);
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::token_auth_off);
    // Any credential of that org is answered: token auth is off for all of them.
    CHECK(ask(r, "unknown") == ReplicaAnswer::Kind::token_auth_off);
    CHECK(ask(r, "pw-2", kUser, other) == ReplicaAnswer::Kind::allow);

    r.apply(org_updated(true), kNow);
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::allow);
}

TEST_CASE("replica: untrusted answers nothing", "[plugin][replica]") {
    TokenReplica r;
    r.apply(created(uuid(1), "pw-1"), kNow);
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::untrusted);
    CHECK(r.set_trusted(true));
    CHECK_FALSE(r.set_trusted(true));
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::untrusted);  // caught up, but no lease yet
    r.renew_lease(std::chrono::steady_clock::now() + std::chrono::hours(1));
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::allow);
    CHECK(r.set_trusted(false));
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::untrusted);
    // Untrusting ends the lease: caught up again, it needs a new one.
    CHECK(r.set_trusted(true));
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::untrusted);
}

TEST_CASE("replica: lookups answer untrusted once the lease has lapsed", "[plugin][replica]") {
    using std::chrono::steady_clock;
    TokenReplica r;
    r.apply(created(uuid(1), "pw-1"), kNow);
    r.set_trusted(true);
    r.renew_lease(steady_clock::now() + std::chrono::hours(1));
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::allow);
    CHECK(r.trusted());
    CHECK(r.stats().trusted);

    // A lease ending now has lapsed: lookup compares with steady_clock::now() >= until.
    r.renew_lease(steady_clock::now());
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::untrusted);
    CHECK_FALSE(r.trusted());
    CHECK(r.caught_up());  // the flag is still set; only the lease ended

    // A short lease, then time passes (no heartbeat renews it).
    r.renew_lease(steady_clock::now() + std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::untrusted);
    CHECK_FALSE(r.stats().trusted);

    r.renew_lease(steady_clock::now() + std::chrono::hours(1));
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::allow);
}

TEST_CASE("replica: bounded by max entries, CLOCK keeps recently used ones", "[plugin][replica]") {
    TokenReplica r(4);
    trust(r);
    for (int i = 1; i <= 4; ++i) {
        r.apply(created(uuid(i), numbered("pw-", i)), kNow);
    }
    CHECK(r.stats().entries == 4);
    // The first insert sweeps every referenced bit away and evicts the oldest slot; after
    // that, looking up 2 marks it recently used, so the next eviction skips it.
    r.apply(created(uuid(5), "pw-5"), kNow);
    CHECK(r.stats().entries == 4);
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::miss);
    CHECK(ask(r, "pw-2") == ReplicaAnswer::Kind::allow);
    r.apply(created(uuid(6), "pw-6"), kNow);
    CHECK(r.stats().entries == 4);
    CHECK(r.stats().evictions == 2);
    CHECK(ask(r, "pw-2") == ReplicaAnswer::Kind::allow);
    CHECK(ask(r, "pw-3") == ReplicaAnswer::Kind::miss);
    CHECK(ask(r, "pw-6") == ReplicaAnswer::Kind::allow);

    SECTION("expired entries go first") {
        TokenReplica s(2);
        trust(s);
        s.apply(created(uuid(1), "a", kNow + 10), kNow);
        s.apply(created(uuid(2), "b", kNow + 3600), kNow);
        s.apply(created(uuid(3), "c", kNow + 3600), kNow + 20);  // uuid(1) expired by now
        CHECK(ask(s, "a", kUser, kOrg, kNow + 20) == ReplicaAnswer::Kind::miss);
        CHECK(ask(s, "b", kUser, kOrg, kNow + 20) == ReplicaAnswer::Kind::allow);
        CHECK(ask(s, "c", kUser, kOrg, kNow + 20) == ReplicaAnswer::Kind::allow);
    }
    SECTION("a large bound holds every entry") {
        TokenReplica big(20000);
        trust(big);
        for (int i = 0; i < 20000; ++i) {
            big.apply(created(uuid(i), numbered("p", i)), kNow);
        }
        CHECK(big.stats().entries == 20000);
        CHECK(big.stats().evictions == 0);
        big.apply(created(uuid(20000), "p20000"), kNow);
        CHECK(big.stats().entries == 20000);
        CHECK(big.stats().evictions == 1);
    }
}

TEST_CASE("replica: fill() only when nothing was applied since the Redis lookup began",
          "[plugin][replica]") {
    TokenReplica r;
    trust(r);
    const auto v = r.version();
    CHECK(r.fill(v, kOrg, kUser, uuid(1), digest_of("pw-1"), kNow + 60, kNow));
    CHECK(ask(r, "pw-1") == ReplicaAnswer::Kind::allow);

    const auto before = r.version();
    r.apply(revoked(uuid(7)), kNow);  // any event in between
    CHECK_FALSE(r.fill(before, kOrg, kUser, uuid(7), digest_of("pw-7"), kNow + 60, kNow));
    CHECK(ask(r, "pw-7") == ReplicaAnswer::Kind::miss);

    r.set_trusted(false);
    CHECK_FALSE(r.fill(r.version(), kOrg, kUser, uuid(8), digest_of("pw-8"), kNow + 60, kNow));
}

TEST_CASE("replica: a writer thread and a reader thread", "[plugin][replica][tsan]") {
    TokenReplica r(1000);
    trust(r);
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 0; i < 5000; ++i) {
            if (i % 100 == 0) {  // the consumer renews the lease between events
                r.renew_lease(std::chrono::steady_clock::now() + std::chrono::hours(1));
            }
            r.apply(created(uuid(i), numbered("pw-", i)), kNow);
            if (i % 3 == 0) {
                r.apply(revoked(uuid(i)), kNow);
            }
            if (i % 500 == 0) {
                r.apply(org_updated(i % 1000 != 0), kNow);
            }
        }
        r.apply(org_updated(true), kNow);
        done = true;
    });
    std::size_t answered = 0;
    while (!done.load()) {
        for (int i = 0; i < 50; ++i) {
            if (ask(r, numbered("pw-", i * 97)) != ReplicaAnswer::Kind::miss) {
                ++answered;
            }
        }
        const auto v = r.version();
        r.fill(v, kOrg, kUser, uuid(99999), digest_of("filled"), kNow + 60, kNow);
    }
    writer.join();
    CHECK(r.stats().entries <= 1000);
    CHECK(ask(r, "pw-4999") == ReplicaAnswer::Kind::allow);
    CHECK(ask(r, "pw-4998") == ReplicaAnswer::Kind::miss);  // revoked (4998 % 3 == 0)
    INFO(answered << " lookups answered from memory during the writes");
}
