// TokenReplica without Redis: each event type, refresh forgetting the old digest, org token
// auth off/on, untrusted or a lapsed lease answers nothing, a complete replica refuses what it
// does not hold, the bound makes it incomplete (misses go to Redis) until a full sync fits,
// the exact user match, the bounded purge of long-expired tokens, fill() refused after a
// newer event, and one writer thread against one reader thread (the TSan build runs this too).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "plugin/token_replica.hpp"
#include "tests/support/numbered.hpp"

using tka::Event;
using tka::plugin::PasswordDigest;
using tka::plugin::ReplicaAnswer;
using Kind = tka::plugin::ReplicaAnswer::Kind;
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
    CHECK(TokenReplica::entry_size() == 72);
}

TEST_CASE("replica: created, refreshed, revoked", "[plugin][replica]") {
    TokenReplica r;
    trust(r);
    r.apply(created(uuid(1), "pw-1"), kNow);

    const auto hit = r.lookup(kOrg, kUser, digest_of("pw-1"), kNow);
    REQUIRE(hit.kind == Kind::allow);
    CHECK(tka::plugin::format_lowercase_uuid(hit.token_id) == uuid(1));
    CHECK(hit.expires_at == kNow + 3600);
    CHECK(ask(r, "other") == Kind::unknown);
    CHECK(ask(r, "pw-1", "ffffffffffffffffffffffff") == Kind::user_mismatch);
    // Another org: the digest is held, but not for that org (and that org is not known).
    CHECK(ask(r, "pw-1", kUser, "org_bbbbbbbbbbbb") == Kind::unknown);
    r.apply(org_updated(true, "org_bbbbbbbbbbbb"), kNow);
    CHECK(ask(r, "pw-1", kUser, "org_bbbbbbbbbbbb") == Kind::unknown);
    CHECK(ask(r, "pw-1", kUser, kOrg, kNow + 3600) == Kind::expired);

    SECTION("refresh drops the old digest and moves the expiry") {
        r.apply(refreshed(uuid(1), "pw-2", kNow + 7200), kNow);
        CHECK(ask(r, "pw-1") == Kind::unknown);
        const auto fresh = r.lookup(kOrg, kUser, digest_of("pw-2"), kNow);
        REQUIRE(fresh.kind == Kind::allow);
        CHECK(fresh.expires_at == kNow + 7200);
        CHECK(r.stats().entries == 1);
    }
    SECTION("revoke drops the token by id") {
        r.apply(revoked(uuid(1)), kNow);
        CHECK(ask(r, "pw-1") == Kind::unknown);
        CHECK(r.stats().entries == 0);
        r.apply(revoked(uuid(1)), kNow);  // idempotent
        CHECK(r.stats().entries == 0);
    }
    SECTION("replayed events converge (sync followed by events it already saw)") {
        r.apply(refreshed(uuid(1), "pw-2", kNow + 7200), kNow);
        r.apply(created(uuid(1), "pw-1"), kNow);  // replay from before the sync point
        r.apply(refreshed(uuid(1), "pw-2", kNow + 7200), kNow);
        CHECK(ask(r, "pw-1") == Kind::unknown);
        CHECK(ask(r, "pw-2") == Kind::allow);
        CHECK(r.stats().entries == 1);
    }
    SECTION("a token expired within the retention is answered expired, an older one not held") {
        r.apply(created(uuid(2), "pw-old", kNow - 1), kNow);
        CHECK(ask(r, "pw-old") == Kind::expired);
        r.apply(created(uuid(3), "pw-older", kNow - tka::plugin::kExpiredRetention), kNow);
        CHECK(ask(r, "pw-older") == Kind::unknown);
    }
}

TEST_CASE("replica: org token auth off masks its tokens, on restores them", "[plugin][replica]") {
    TokenReplica r;
    trust(r);
    const std::string other = "org_bbbbbbbbbbbb";
    r.apply(created(uuid(1), "pw-1"), kNow);
    r.apply(created(uuid(2), "pw-2", kNow + 3600, other), kNow);

    r.apply(org_updated(false), kNow);
    CHECK(ask(r, "pw-1") == Kind::token_auth_off);
    // Any credential of that org is answered: token auth is off for all of them.
    CHECK(ask(r, "unknown") == Kind::token_auth_off);
    CHECK(ask(r, "pw-2", kUser, other) == Kind::allow);

    r.apply(org_updated(true), kNow);
    CHECK(ask(r, "pw-1") == Kind::allow);

    SECTION("a full sync sets each org's state") {
        r.clear();
        r.set_org(kOrg, false);
        r.set_org(other, true);
        CHECK(ask(r, "pw-1") == Kind::token_auth_off);
        CHECK(ask(r, "pw-2", kUser, other) == Kind::unknown);
        CHECK(r.insert(other, kUser, uuid(2), tka::crypto::sha256_hex("pw-2"), kNow + 60, kNow));
        CHECK(ask(r, "pw-2", kUser, other) == Kind::allow);
    }
}

TEST_CASE("replica: untrusted answers nothing", "[plugin][replica]") {
    TokenReplica r;
    r.apply(created(uuid(1), "pw-1"), kNow);
    CHECK(ask(r, "pw-1") == Kind::untrusted);
    CHECK(ask(r, "never-issued") == Kind::untrusted);  // no refusal without trust
    CHECK(r.set_trusted(true));
    CHECK_FALSE(r.set_trusted(true));
    CHECK(ask(r, "pw-1") == Kind::untrusted);  // caught up, but no lease yet
    CHECK(ask(r, "never-issued") == Kind::untrusted);
    r.renew_lease(std::chrono::steady_clock::now() + std::chrono::hours(1));
    CHECK(ask(r, "pw-1") == Kind::allow);
    CHECK(ask(r, "never-issued") == Kind::unknown);
    CHECK(r.set_trusted(false));
    CHECK(ask(r, "pw-1") == Kind::untrusted);
    CHECK(ask(r, "never-issued") == Kind::untrusted);
    // Untrusting ends the lease: caught up again, it needs a new one.
    CHECK(r.set_trusted(true));
    CHECK(ask(r, "pw-1") == Kind::untrusted);
}

TEST_CASE("replica: lookups answer untrusted once the lease has lapsed", "[plugin][replica]") {
    using std::chrono::steady_clock;
    TokenReplica r;
    r.apply(created(uuid(1), "pw-1"), kNow);
    r.set_trusted(true);
    r.renew_lease(steady_clock::now() + std::chrono::hours(1));
    CHECK(ask(r, "pw-1") == Kind::allow);
    CHECK(r.trusted());
    CHECK(r.stats().trusted);

    // A lease ending now has lapsed: lookup compares with steady_clock::now() >= until.
    r.renew_lease(steady_clock::now());
    CHECK(ask(r, "pw-1") == Kind::untrusted);
    CHECK(ask(r, "never-issued") == Kind::untrusted);
    CHECK_FALSE(r.trusted());
    CHECK(r.caught_up());  // the flag is still set; only the lease ended

    // A short lease, then time passes (no heartbeat renews it).
    r.renew_lease(steady_clock::now() + std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    CHECK(ask(r, "pw-1") == Kind::untrusted);
    CHECK_FALSE(r.stats().trusted);

    r.renew_lease(steady_clock::now() + std::chrono::hours(1));
    CHECK(ask(r, "pw-1") == Kind::allow);
}

TEST_CASE("replica: over its bound it is incomplete and misses go to Redis until a sync fits",
          "[plugin][replica]") {
    TokenReplica r(3);
    trust(r);
    for (int i = 1; i <= 3; ++i) {
        CHECK(r.insert(kOrg, kUser, uuid(i), tka::crypto::sha256_hex(numbered("pw-", i)), kNow + 60,
                       kNow));
    }
    CHECK(r.complete());
    CHECK_FALSE(r.take_notice());
    CHECK(ask(r, "pw-4") == Kind::unknown);

    CHECK_FALSE(r.insert(kOrg, kUser, uuid(4), tka::crypto::sha256_hex("pw-4"), kNow + 60, kNow));
    CHECK_FALSE(r.complete());
    const auto s = r.stats();
    CHECK_FALSE(s.complete);
    CHECK(s.entries == 3);
    CHECK(s.dropped == 1);
    CHECK(s.max_entries == 3);
    // Nothing was evicted: what it holds is still answered, what it lacks goes to Redis.
    for (int i = 1; i <= 3; ++i) {
        CHECK(ask(r, numbered("pw-", i)) == Kind::allow);
    }
    CHECK(ask(r, "pw-4") == Kind::miss);
    CHECK(ask(r, "never-issued") == Kind::miss);
    CHECK(ask(r, "pw-1", kUser, "org_bbbbbbbbbbbb") == Kind::miss);
    // fill() (after Redis answered a miss) never goes over the bound either.
    CHECK_FALSE(r.fill(r.version(), kOrg, kUser, uuid(9), digest_of("pw-9"), kNow + 60, kNow));
    CHECK(r.stats().entries == 3);

    // Said once.
    const auto warning = r.take_notice();
    REQUIRE(warning);
    CHECK(warning->level == tka::plugin::LogLevel::warning);
    CHECK(warning->message.find("incomplete") != std::string::npos);
    CHECK_FALSE(r.take_notice());
    r.apply(created(uuid(5), "pw-5"), kNow);  // an event over the bound: still incomplete
    CHECK(ask(r, "pw-5") == Kind::miss);
    CHECK_FALSE(r.take_notice());
    // A revoke frees a slot but the replica still lacks pw-4 and pw-5: still incomplete.
    r.apply(revoked(uuid(1)), kNow);
    CHECK(ask(r, "never-issued") == Kind::miss);

    SECTION("a full sync that fits makes it complete again") {
        r.clear();
        for (int i = 2; i <= 4; ++i) {
            CHECK(r.insert(kOrg, kUser, uuid(i), tka::crypto::sha256_hex(numbered("pw-", i)),
                           kNow + 60, kNow));
        }
        CHECK(r.complete());
        CHECK(r.stats().dropped == 0);
        CHECK(ask(r, "pw-4") == Kind::allow);
        CHECK(ask(r, "pw-1") == Kind::unknown);
        const auto notice = r.take_notice();
        REQUIRE(notice);
        CHECK(notice->level == tka::plugin::LogLevel::notice);
        CHECK_FALSE(r.take_notice());
    }
    SECTION("a full sync that does not fit stays incomplete, and is not said again") {
        r.clear();
        for (int i = 1; i <= 4; ++i) {
            r.insert(kOrg, kUser, uuid(i), tka::crypto::sha256_hex(numbered("pw-", i)), kNow + 60,
                     kNow);
        }
        CHECK_FALSE(r.complete());
        CHECK_FALSE(r.take_notice());
    }
}

TEST_CASE("replica: the user is matched exactly, not by a short hash", "[plugin][replica]") {
    // Two user ids of the same org: a token of one is never accepted for the other, and
    // two replicas (two keys) agree.
    const std::string alice = "aaaaaaaaaaaaaaaaaaaaaaaa";
    const std::string bob = "aaaaaaaaaaaaaaaaaaaaaaab";
    TokenReplica r;
    TokenReplica s;
    for (TokenReplica* x : {&r, &s}) {
        trust(*x);
        x->apply(created(uuid(1), "pw-alice", kNow + 60, kOrg, alice), kNow);
        x->apply(created(uuid(2), "pw-bob", kNow + 60, kOrg, bob), kNow);
        CHECK(ask(*x, "pw-alice", alice) == Kind::allow);
        CHECK(ask(*x, "pw-alice", bob) == Kind::user_mismatch);
        CHECK(ask(*x, "pw-bob", bob) == Kind::allow);
        CHECK(ask(*x, "pw-bob", alice) == Kind::user_mismatch);
        CHECK(ask(*x, "pw-bob", "") == Kind::user_mismatch);
        // A user id longer than any valid one (data from elsewhere) still matches exactly.
        const std::string long_user(300, 'u');
        x->apply(created(uuid(3), "pw-long", kNow + 60, kOrg, long_user), kNow);
        CHECK(ask(*x, "pw-long", long_user) == Kind::allow);
        CHECK(ask(*x, "pw-long", long_user.substr(1)) == Kind::user_mismatch);
    }
    // A mismatch reveals nothing about the token.
    const auto answer = r.lookup(kOrg, bob, digest_of("pw-alice"), kNow);
    CHECK(answer.kind == Kind::user_mismatch);
    CHECK(answer.expires_at == 0);
    CHECK(answer.token_id == tka::plugin::UuidBytes{});
}

TEST_CASE("replica: long-expired tokens are purged a bounded number of slots at a time",
          "[plugin][replica]") {
    TokenReplica r;
    trust(r);
    constexpr tka::UnixSeconds kExp = kNow + 10;
    for (int i = 0; i < 10; ++i) {
        r.apply(created(uuid(i), numbered("pw-", i), kExp), kNow);
    }
    r.apply(created(uuid(100), "pw-live", kNow + 100000), kNow);
    CHECK(r.stats().entries == 11);

    // Expired but within the retention: kept, and answered "expired" as Redis would.
    const tka::UnixSeconds later = kExp + tka::plugin::kExpiredRetention - 1;
    CHECK(r.purge_expired(later) == 0);
    CHECK(ask(r, "pw-3", kUser, kOrg, later) == Kind::expired);

    // Past the retention: purged, at most max_steps slots looked at per call.
    const tka::UnixSeconds gone = kExp + tka::plugin::kExpiredRetention;
    std::size_t purged = 0;
    int calls = 0;
    while (r.stats().entries > 1 && calls < 100) {
        const std::size_t n = r.purge_expired(gone, 3);
        CHECK(n <= 3);
        purged += n;
        ++calls;
    }
    CHECK(purged == 10);
    CHECK(calls >= 4);
    CHECK(r.stats().entries == 1);
    CHECK(ask(r, "pw-3", kUser, kOrg, gone) == Kind::unknown);
    CHECK(ask(r, "pw-live", kUser, kOrg, gone) == Kind::allow);
    // Freed slots are reused.
    const auto bytes = r.stats().bytes;
    for (int i = 0; i < 10; ++i) {
        r.apply(created(uuid(200 + i), numbered("again-", i), gone + 60), gone);
    }
    CHECK(r.stats().bytes == bytes);
    CHECK(ask(r, "again-9", kUser, kOrg, gone) == Kind::allow);
}

TEST_CASE("replica: many tokens, half revoked, every answer right", "[plugin][replica]") {
    // Drives the indexes through growth and backward-shift erases.
    TokenReplica r;
    trust(r);
    constexpr int kTokens = 20000;
    for (int i = 0; i < kTokens; ++i) {
        r.apply(created(uuid(i), numbered("p", i)), kNow);
    }
    CHECK(r.stats().entries == kTokens);
    std::vector<int> order(kTokens);
    for (int i = 0; i < kTokens; ++i) {
        order[i] = i;
    }
    std::shuffle(order.begin(), order.end(), std::mt19937(42));
    for (int i = 0; i < kTokens / 2; ++i) {
        r.apply(revoked(uuid(order[i])), kNow);
    }
    CHECK(r.stats().entries == kTokens / 2);
    int wrong = 0;
    for (int i = 0; i < kTokens; ++i) {
        const Kind want = i < kTokens / 2 ? Kind::unknown : Kind::allow;
        wrong += ask(r, numbered("p", order[i])) == want ? 0 : 1;
    }
    CHECK(wrong == 0);
    CHECK(r.complete());
}

TEST_CASE("replica: fill() only when nothing was applied since the Redis lookup began",
          "[plugin][replica]") {
    TokenReplica r;
    trust(r);
    const auto v = r.version();
    CHECK(r.fill(v, kOrg, kUser, uuid(1), digest_of("pw-1"), kNow + 60, kNow));
    CHECK(ask(r, "pw-1") == Kind::allow);

    const auto before = r.version();
    r.apply(revoked(uuid(7)), kNow);  // any event in between
    CHECK_FALSE(r.fill(before, kOrg, kUser, uuid(7), digest_of("pw-7"), kNow + 60, kNow));
    CHECK(ask(r, "pw-7") == Kind::unknown);

    r.set_trusted(false);
    CHECK_FALSE(r.fill(r.version(), kOrg, kUser, uuid(8), digest_of("pw-8"), kNow + 60, kNow));
}

TEST_CASE("replica: a writer thread and a reader thread", "[plugin][replica][tsan]") {
    TokenReplica r;
    trust(r);
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 0; i < 5000; ++i) {
            if (i % 100 == 0) {  // the consumer renews the lease between events
                r.renew_lease(std::chrono::steady_clock::now() + std::chrono::hours(1));
                r.purge_expired(kNow, 64);
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
            if (ask(r, numbered("pw-", i * 97)) == Kind::allow) {
                ++answered;
            }
        }
        const auto v = r.version();
        r.fill(v, kOrg, kUser, uuid(99999), digest_of("filled"), kNow + 60, kNow);
    }
    writer.join();
    CHECK(r.stats().entries >= 3333);  // 5000 minus every third, plus perhaps the filled one
    CHECK(r.stats().entries <= 3334);
    CHECK(ask(r, "pw-4999") == Kind::allow);
    CHECK(ask(r, "pw-4998") == Kind::unknown);  // revoked (4998 % 3 == 0)
    INFO(answered << " lookups answered from memory during the writes");
}
