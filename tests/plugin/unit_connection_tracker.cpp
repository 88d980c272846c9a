// The connection tracker: deadline ordering, removal, client-id takeover, generations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "plugin/connection_tracker.hpp"
#include "tests/support/numbered.hpp"

using tka::plugin::ConnectionTracker;
using tka::plugin::Handle;
using tka::plugin::TrackedConnection;
using tka::test::numbered;

namespace {
const std::string kOrg = "org_aaaaaaaaaaaa";

TrackedConnection conn(Handle h, std::string client, std::string token, std::int64_t deadline,
                       std::string org = kOrg, std::string user = "user1") {
    TrackedConnection c;
    c.handle = h;
    c.client_id = std::move(client);
    c.token_id = std::move(token);
    c.deadline_ms = deadline;
    c.org_id = std::move(org);
    c.user_id = std::move(user);
    return c;
}

std::vector<Handle> handles(const std::vector<TrackedConnection>& v) {
    std::vector<Handle> out;
    for (const auto& c : v) {
        out.push_back(c.handle);
    }
    return out;
}

std::vector<Handle> sorted(std::vector<Handle> v) {
    std::sort(v.begin(), v.end());
    return v;
}
}  // namespace

TEST_CASE("tracker: due returns connections in deadline order", "[plugin][tracker]") {
    ConnectionTracker t;
    t.add(conn(3, "c3", "t3", 3000));
    t.add(conn(1, "c1", "t1", 1000));
    t.add(conn(2, "c2", "t2", 2000));
    t.add(conn(4, "c4", "t4", 2000));
    CHECK(t.next_deadline_ms() == 1000);
    CHECK(t.due(999).empty());
    CHECK(handles(t.due(1000)) == std::vector<Handle>{1});
    // Equal deadlines come out in insertion order.
    CHECK(handles(t.due(2500)) == std::vector<Handle>{2, 4});
    CHECK(t.due(2500).empty());  // not returned twice
    CHECK(t.size() == 4);        // still tracked until removed
    CHECK(handles(t.due(100000)) == std::vector<Handle>{3});
    CHECK(t.next_deadline_ms() == std::nullopt);
}

TEST_CASE("tracker: removal drops the entry and its heap node lazily", "[plugin][tracker]") {
    ConnectionTracker t;
    t.add(conn(1, "c1", "t1", 1000));
    t.add(conn(2, "c2", "t2", 2000));
    CHECK(t.remove(1));
    CHECK_FALSE(t.remove(1));
    CHECK_FALSE(t.contains(1));
    CHECK(t.by_token(kOrg, "t1").empty());
    CHECK(t.next_deadline_ms() == 2000);
    CHECK(handles(t.due(5000)) == std::vector<Handle>{2});
}

TEST_CASE("tracker: extend moves the deadline of every connection of a token",
          "[plugin][tracker]") {
    ConnectionTracker t;
    t.add(conn(1, "c1", "tok", 1000));
    t.add(conn(2, "c2", "tok", 1000));
    t.add(conn(3, "c3", "other", 1500));
    const auto gen_before = t.find(1)->generation;
    CHECK(t.extend(kOrg, "tok", 5000) == 2);
    CHECK(t.find(1)->deadline_ms == 5000);
    CHECK(t.find(1)->generation != gen_before);
    CHECK(t.extend(kOrg, "unknown", 5000) == 0);
    // The old heap nodes are stale: nothing is due at the old deadline but "other".
    CHECK(handles(t.due(1500)) == std::vector<Handle>{3});
    CHECK(sorted(handles(t.due(5000))) == std::vector<Handle>{1, 2});
}

TEST_CASE("tracker: a token id names a token within its organization only", "[plugin][tracker]") {
    // Token ids are unique per org: the same id in two orgs is two tokens.
    ConnectionTracker t;
    t.add(conn(1, "a1", "tok", 1000, "org_a"));
    t.add(conn(2, "a2", "tok", 1000, "org_a"));
    t.add(conn(3, "b1", "tok", 1000, "org_b"));
    CHECK(sorted(t.by_token("org_a", "tok")) == std::vector<Handle>{1, 2});
    CHECK(t.by_token("org_b", "tok") == std::vector<Handle>{3});
    CHECK(t.by_token("org_c", "tok").empty());
    CHECK(t.extend("org_a", "tok", 5000) == 2);
    CHECK(t.find(3)->deadline_ms == 1000);
    CHECK(handles(t.due(1000)) == std::vector<Handle>{3});
    CHECK(t.extend("org_c", "tok", 9000) == 0);
    // Removing org_b's connection leaves org_a's chain intact, and the other way round.
    CHECK(t.remove(3));
    CHECK(t.by_token("org_b", "tok").empty());
    CHECK(sorted(t.by_token("org_a", "tok")) == std::vector<Handle>{1, 2});
    t.add(conn(4, "b2", "tok", 1000, "org_b"));
    CHECK(t.remove(1));
    CHECK(t.by_token("org_a", "tok") == std::vector<Handle>{2});
    CHECK(t.by_token("org_b", "tok") == std::vector<Handle>{4});
}

TEST_CASE("tracker: extend re-arms a connection already returned as due", "[plugin][tracker]") {
    ConnectionTracker t;
    t.add(conn(1, "c1", "tok", 1000));
    CHECK(handles(t.due(1000)) == std::vector<Handle>{1});
    CHECK(t.extend(kOrg, "tok", 3000) == 1);
    CHECK(t.due(2000).empty());
    CHECK(handles(t.due(3000)) == std::vector<Handle>{1});
}

TEST_CASE("tracker: client-id takeover keeps old and new apart", "[plugin][tracker]") {
    ConnectionTracker t;
    t.add(conn(10, "device", "old-token", 1000));
    t.add(conn(20, "device", "new-token", 9000));  // new connection, same client id
    CHECK_FALSE(t.owns_client_id(10));
    CHECK(t.owns_client_id(20));
    // The old connection's DISCONNECT removes only the old entry.
    CHECK(t.remove(10));
    CHECK(t.contains(20));
    CHECK(t.owns_client_id(20));
    CHECK(t.due(1000).empty());  // never kicked for the old token's deadline
    CHECK(t.by_token(kOrg, "old-token").empty());
    CHECK(t.by_token(kOrg, "new-token") == std::vector<Handle>{20});
}

TEST_CASE("tracker: re-adding a handle replaces its entry", "[plugin][tracker]") {
    ConnectionTracker t;
    t.add(conn(1, "c1", "t1", 1000, "org_a"));
    t.add(conn(1, "c1b", "t2", 4000, "org_b"));  // the broker reused the memory
    CHECK(t.size() == 1);
    CHECK(t.by_token("org_a", "t1").empty());
    CHECK(t.by_org("org_a").empty());
    CHECK(t.by_org("org_b") == std::vector<Handle>{1});
    CHECK(t.due(1000).empty());
    CHECK(handles(t.due(4000)) == std::vector<Handle>{1});
}

TEST_CASE("tracker: indexes by token and org, snapshot lists distinct tokens",
          "[plugin][tracker]") {
    ConnectionTracker t;
    t.add(conn(1, "c1", "t1", 1000, "org_a", "u1"));
    t.add(conn(2, "c2", "t1", 1000, "org_a", "u1"));
    t.add(conn(3, "c3", "t2", 1000, "org_b", "u2"));
    CHECK(sorted(t.by_token("org_a", "t1")) == std::vector<Handle>{1, 2});
    CHECK(t.by_token("org_b", "t1").empty());
    CHECK(sorted(t.by_org("org_a")) == std::vector<Handle>{1, 2});
    CHECK(t.by_org("org_c").empty());
    const auto snap = t.snapshot();
    REQUIRE(snap.size() == 2);
    CHECK(snap[0].token_id == "t1");
    CHECK(snap[1].org_id == "org_b");
}

TEST_CASE("tracker: heap stays bounded under churn and ordering holds", "[plugin][tracker]") {
    ConnectionTracker t;
    std::mt19937 rng(42);
    std::uniform_int_distribution<std::int64_t> deadline(1, 1'000'000);
    for (Handle h = 1; h <= 2000; ++h) {
        t.add(conn(h, numbered("c", h), numbered("t", h), deadline(rng)));
    }
    for (int round = 0; round < 20; ++round) {
        for (Handle h = 1; h <= 2000; h += 3) {
            t.extend(kOrg, numbered("t", h), deadline(rng));
        }
    }
    for (Handle h = 2; h <= 2000; h += 2) {
        t.remove(h);
    }
    CHECK(t.size() == 1000);
    CHECK(t.heap_size() <= 2 * t.size() + 64 + 1);
    const auto out = t.due(1'000'000);
    REQUIRE(out.size() == 1000);
    CHECK(std::is_sorted(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.deadline_ms < b.deadline_ms;
    }));
    for (const auto& c : out) {
        CHECK(c.handle % 2 == 1);
        CHECK(t.find(c.handle)->deadline_ms == c.deadline_ms);
    }
}
