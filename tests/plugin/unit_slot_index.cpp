// SlotIndex (plugin/slot_index.hpp) against a reference multimap: clustered and wrapping
// probes, backward-shift erase, growth and shrinking, and keys told apart by the predicate
// when their hashes are equal.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <utility>
#include <vector>

#include "plugin/slot_index.hpp"

using tka::plugin::SlotIndex;

TEST_CASE("slot index: equal hashes are told apart by the predicate", "[plugin][slot_index]") {
    SlotIndex index;
    std::vector<int> keys = {10, 20, 30, 40};  // slot i holds keys[i]
    for (std::uint32_t i = 0; i < keys.size(); ++i) {
        index.insert(99, i);  // every key collides
    }
    for (std::uint32_t i = 0; i < keys.size(); ++i) {
        CHECK(index.find(99, [&](std::uint32_t s) { return keys[s] == keys[i]; }) == i);
    }
    CHECK(index.find(99, [&](std::uint32_t s) { return keys[s] == 50; }) == SlotIndex::kNone);
    CHECK(index.find(98, [&](std::uint32_t) { return true; }) == SlotIndex::kNone);
    CHECK(index.erase(99, 1));
    CHECK_FALSE(index.erase(99, 1));
    CHECK(index.find(99, [&](std::uint32_t s) { return keys[s] == 40; }) == 3);
    CHECK(index.replace(99, 3, 7));
    CHECK(index.find(99, [&](std::uint32_t s) { return s == 7; }) == 7);
    CHECK(index.size() == 3);
}

TEST_CASE("slot index: random inserts and erases match a reference, with wrap-around",
          "[plugin][slot_index]") {
    // Hashes from a tiny range near the end of the table make clusters that wrap past the
    // last cell; the reference is the set of (hash, slot) pairs.
    std::mt19937 rng(7);
    for (const std::uint64_t spread :
         {std::uint64_t{1}, std::uint64_t{4}, std::uint64_t{64}, std::uint64_t{1} << 40}) {
        SlotIndex index;
        std::multimap<std::uint64_t, std::uint32_t> ref;
        std::uint32_t next_slot = 0;
        for (int step = 0; step < 4000; ++step) {
            const bool grow_phase = (step / 1000) % 2 == 0;
            if (ref.empty() || rng() % 100 < (grow_phase ? 70U : 30U)) {
                const std::uint64_t hash = 13 + (rng() % spread) * 0x100000001ULL;
                index.insert(hash, next_slot);
                ref.emplace(hash, next_slot);
                ++next_slot;
            } else {
                auto it = ref.begin();
                std::advance(it, static_cast<long>(rng() % ref.size()));
                CHECK(index.erase(it->first, it->second));
                ref.erase(it);
            }
            if (step % 97 == 0) {
                REQUIRE(index.size() == ref.size());
                for (const auto& [hash, slot] : ref) {
                    const std::uint32_t s = slot;
                    REQUIRE(index.find(hash, [&](std::uint32_t c) { return c == s; }) == s);
                }
                CHECK(index.capacity() >= 16);
                CHECK(index.size() * 4 <= index.capacity() * 3);
            }
        }
        while (!ref.empty()) {
            CHECK(index.erase(ref.begin()->first, ref.begin()->second));
            ref.erase(ref.begin());
        }
        CHECK(index.size() == 0);
        CHECK(index.capacity() <= 32);  // shrank back
    }
}
