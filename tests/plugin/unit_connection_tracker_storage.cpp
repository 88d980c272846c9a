// The connection tracker's compact storage (slots, chains, flat indexes): a random
// differential test against a plain reference model with the real hash and with hashes
// that make every key collide; token ids as UUID bytes or text; what find() returns; many
// connections per token and per org; slot reuse; the memory per connection.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "plugin/connection_tracker.hpp"

using tka::plugin::ConnectionTracker;
using tka::plugin::Handle;
using tka::plugin::TrackedConnection;

namespace {

std::uint64_t all_collide(std::string_view) {
    return 0x5555;
}
std::uint64_t by_length(std::string_view bytes) {  // same-length keys collide
    return bytes.size();
}

std::string uuid(int n) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "6b8f1c2e-0a4d-4e5f-9a7b-%012d", n);
    return buf;
}

struct RefConn {
    std::string client, org, user, token;
    std::int64_t deadline = 0;
    std::uint64_t seq = 0;
};

std::vector<Handle> sorted(std::vector<Handle> v) {
    std::sort(v.begin(), v.end());
    return v;
}

// Checks every query of `t` against the reference.
void check_same(const ConnectionTracker& t, const std::map<Handle, RefConn>& ref,
                const std::vector<std::string>& tokens, const std::vector<std::string>& orgs) {
    REQUIRE(t.size() == ref.size());
    for (const auto& [h, c] : ref) {
        const auto v = t.find(h);
        REQUIRE(v);
        CHECK(v->handle == h);
        CHECK(v->client_id == c.client);
        CHECK(v->org_id == c.org);
        CHECK(v->user_id == c.user);
        CHECK(v->token_id == c.token);
        CHECK(v->token_id.str() == c.token);
        CHECK(v->deadline_ms == c.deadline);
        bool newest = true;
        for (const auto& [h2, c2] : ref) {
            if (h2 != h && c2.client == c.client && c2.seq > c.seq) {
                newest = false;
            }
        }
        CHECK(t.owns_client_id(h) == newest);
    }
    for (const auto& org : orgs) {
        for (const auto& token : tokens) {
            std::vector<Handle> want;
            for (const auto& [h, c] : ref) {
                if (c.org == org && c.token == token) {
                    want.push_back(h);
                }
            }
            CHECK(sorted(t.by_token(org, token)) == want);
        }
    }
    for (const auto& org : orgs) {
        std::vector<Handle> want;
        for (const auto& [h, c] : ref) {
            if (c.org == org) {
                want.push_back(h);
            }
        }
        CHECK(sorted(t.by_org(org)) == want);
    }
    std::set<std::tuple<std::string, std::string, std::string>> want_snap;
    for (const auto& [h, c] : ref) {
        want_snap.emplace(c.org, c.token, c.user);
    }
    const auto snap = t.snapshot();
    REQUIRE(snap.size() == want_snap.size());
    auto it = want_snap.begin();
    for (const auto& s : snap) {
        CHECK(std::get<0>(*it) == s.org_id);
        CHECK(std::get<1>(*it) == s.token_id);
        CHECK(std::get<2>(*it) == s.user_id);
        ++it;
    }
}

}  // namespace

TEST_CASE("tracker storage: random operations match a reference model, colliding hashes too",
          "[plugin][tracker]") {
    // Token ids: UUIDs (stored as bytes), the same UUID in uppercase (a different id, kept
    // as text), short text ids and the empty id.
    std::vector<std::string> tokens = {uuid(1), uuid(2), uuid(3), "tok-a", "tok-b", ""};
    std::string upper = uuid(1);
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    tokens.push_back(upper);
    const std::vector<std::string> orgs = {"org_aaaaaaaaaaaa", "org_bbbbbbbbbbbb", "org_c"};
    const std::vector<std::string> clients = {"dev-1", "dev-2", "dev-3", "", "dev-4444"};
    const std::vector<std::string> users = {"0123456789abcdefghijklmn", "u2", ""};

    for (const auto hash : {&ConnectionTracker::default_hash, &all_collide, &by_length}) {
        ConnectionTracker t(hash);
        std::map<Handle, RefConn> ref;
        std::mt19937 rng(1234);
        std::uint64_t seq = 0;
        auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
        for (int step = 0; step < 1500; ++step) {
            const Handle h = 1 + rng() % 40;  // few handles: re-adds replace entries
            const unsigned op = rng() % 10;
            if (op < 5) {
                RefConn c{pick(clients),
                          pick(orgs),
                          pick(users),
                          pick(tokens),
                          static_cast<std::int64_t>(rng() % 1000),
                          ++seq};
                t.add(TrackedConnection{h, c.client, c.org, c.user, c.token, c.deadline, 0});
                ref[h] = c;
            } else if (op < 8) {
                CHECK(t.remove(h) == (ref.erase(h) == 1));
            } else {
                const std::string org = pick(orgs);
                const std::string token = pick(tokens);
                const std::int64_t deadline = static_cast<std::int64_t>(rng() % 1000);
                std::size_t want = 0;
                for (auto& [rh, c] : ref) {  // a token id names a token within its org only
                    if (c.org == org && c.token == token && c.deadline != deadline) {
                        c.deadline = deadline;
                        ++want;
                    }
                }
                // Connections already at that deadline and still armed are not counted.
                CHECK(t.extend(org, token, deadline) == want);
            }
            if (step % 50 == 0) {
                check_same(t, ref, tokens, orgs);
            }
        }
        check_same(t, ref, tokens, orgs);
        // Everything comes due once, in deadline order, with the stored strings.
        const auto out = t.due(1'000'000);
        REQUIRE(out.size() == ref.size());
        CHECK(std::is_sorted(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return a.deadline_ms < b.deadline_ms;
        }));
        for (const auto& c : out) {
            const RefConn& r = ref.at(c.handle);
            CHECK(c.client_id == r.client);
            CHECK(c.org_id == r.org);
            CHECK(c.user_id == r.user);
            CHECK(c.token_id == r.token);
            CHECK(c.deadline_ms == r.deadline);
        }
    }
}

TEST_CASE("tracker storage: takeover decided by full client ids when hashes collide",
          "[plugin][tracker]") {
    ConnectionTracker t(&all_collide);
    t.add(TrackedConnection{10, "device-a", "org_aaaaaaaaaaaa", "u", uuid(1), 1000, 0});
    t.add(TrackedConnection{20, "device-b", "org_aaaaaaaaaaaa", "u", uuid(2), 1000, 0});
    // Different client ids with equal hashes: neither takes over the other.
    CHECK(t.owns_client_id(10));
    CHECK(t.owns_client_id(20));
    t.add(TrackedConnection{30, "device-a", "org_aaaaaaaaaaaa", "u", uuid(3), 9000, 0});
    CHECK_FALSE(t.owns_client_id(10));
    CHECK(t.owns_client_id(20));
    CHECK(t.owns_client_id(30));
    CHECK(t.remove(10));  // the old connection's DISCONNECT
    CHECK(t.owns_client_id(30));
    CHECK(t.by_token("org_aaaaaaaaaaaa", uuid(1)).empty());
    CHECK(t.by_token("org_aaaaaaaaaaaa", uuid(3)) == std::vector<Handle>{30});
    CHECK(t.find(30)->client_id == "device-a");
}

TEST_CASE("tracker storage: token ids kept as UUID bytes or text, views of the stored data",
          "[plugin][tracker]") {
    ConnectionTracker t;
    const std::string id = uuid(42);
    std::string upper = id;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    t.add(TrackedConnection{1, "c1", "org_aaaaaaaaaaaa", "user-one", id, 1000, 0});
    t.add(TrackedConnection{2, "c2", "org_aaaaaaaaaaaa", "user-two", upper, 1000, 0});
    const auto one = t.find(1);
    REQUIRE(one);
    CHECK(one->token_id.is_uuid);
    CHECK(one->token_id == id);
    CHECK_FALSE(one->token_id == upper);
    CHECK(one->token_id.str() == id);
    CHECK(one->user_id == "user-one");
    const auto two = t.find(2);
    REQUIRE(two);
    CHECK_FALSE(two->token_id.is_uuid);
    CHECK(two->token_id.str() == upper);
    CHECK(t.by_token("org_aaaaaaaaaaaa", id) == std::vector<Handle>{1});
    CHECK(t.by_token("org_aaaaaaaaaaaa", upper) == std::vector<Handle>{2});
    CHECK_FALSE(t.find(3));
}

TEST_CASE("tracker storage: many connections per token and per org", "[plugin][tracker]") {
    ConnectionTracker t;
    constexpr Handle kN = 5000;
    for (Handle h = 1; h <= kN; ++h) {
        t.add(TrackedConnection{h, "client-" + std::to_string(h), "org_oddoddoddodd",
                                "0123456789abcdefghijklmn", h % 10 ? uuid(7) : uuid(8), 1000, 0});
    }
    CHECK(t.by_token("org_oddoddoddodd", uuid(7)).size() == 4500);
    CHECK(t.by_token("org_oddoddoddodd", uuid(8)).size() == 500);
    CHECK(t.by_org("org_oddoddoddodd").size() == kN);
    CHECK(t.extend("org_oddoddoddodd", uuid(7), 5000) == 4500);
    CHECK(t.due(1000).size() == 500);
    // Remove in an order that hits chain heads, middles and tails.
    for (Handle h = 1; h <= kN; h += 3) {
        CHECK(t.remove(h));
    }
    std::size_t left7 = 0;
    for (Handle h = 1; h <= kN; ++h) {
        if ((h - 1) % 3 != 0 && h % 10 != 0) {
            ++left7;
        }
    }
    CHECK(t.by_token("org_oddoddoddodd", uuid(7)).size() == left7);
    CHECK(t.size() == kN - (kN + 2) / 3);
    const std::size_t bytes_before = t.memory_bytes();
    // Freed slots are reused: adding back as many connections does not grow the slot array.
    for (Handle h = 1; h <= kN; h += 3) {
        t.add(TrackedConnection{h + 100000, "again-" + std::to_string(h), "org_newnewnewnew",
                                "0123456789abcdefghijklmn", uuid(9), 7000, 0});
    }
    CHECK(t.size() == kN);
    CHECK(t.by_org("org_newnewnewnew").size() == (kN + 2) / 3);
    CHECK(t.memory_bytes() < bytes_before + (kN / 3) * 64);  // text blocks only, roughly
    for (Handle h = 1; h <= kN; ++h) {
        t.remove(h);
        t.remove(h + 100000);
    }
    CHECK(t.size() == 0);
    CHECK(t.by_org("org_oddoddoddodd").empty());
    CHECK(t.by_token("org_newnewnewnew", uuid(9)).empty());
    CHECK(t.next_deadline_ms() == std::nullopt);
}

TEST_CASE("tracker storage: memory per connection with realistic ids", "[plugin][tracker]") {
    // 10 000 connections, one org, a user and a token each (the memory benchmark's shape).
    ConnectionTracker t;
    for (Handle h = 1; h <= 10000; ++h) {
        t.add(TrackedConnection{h * 4096, "rss-12345-" + std::to_string(h), "org_k7xm4pqr2n5t",
                                "abcdefghijklmnopqrst" + std::to_string(1000 + h % 9000),
                                uuid(static_cast<int>(h)), 1000 + static_cast<std::int64_t>(h), 0});
    }
    const double per_conn = static_cast<double>(t.memory_bytes()) / 10000.0;
    INFO("tracker bytes per connection: " << per_conn << " (slot " << ConnectionTracker::slot_size()
                                          << ")");
    CHECK(per_conn < 320.0);
}
