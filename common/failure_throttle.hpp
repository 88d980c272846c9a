// Throttling of repeated authentication failures, per key. Two users, each with its own
// policy over one or two of these: tokend (tokend/auth_throttle.hpp: keys "addr:192.0.2.7",
// "org:org_k7xm4pqr2n5t"; a blocked key gets 429) and the broker plugin's backoff
// (plugin/auth_backoff.hpp: client addresses and MQTT usernames; a blocked key's CONNECTs
// are decided from memory or refused, never looked up in Redis).
//
// What it defends against. Secret keys and token passwords carry 256 random bits, so
// nobody guesses one; the threat is cost and noise: every failed create, refresh or revoke
// (or token CONNECT) costs a Redis round trip and a log line, and a broken or hostile
// client can send thousands a second. Throttling answers such a client from memory. A
// client that makes an occasional mistake must never notice it.
//
// Score. Each key has a failure score: failure() adds 1, and the score decays
// exponentially, halving every `half_life` (60 s by default). A steady rate of r failures
// per second settles at r * half_life / ln 2, so the default threshold of 30 is reached
// by about 21 failures a minute kept up, or 31 in a burst; a few a minute never get
// there. Decay is computed lazily from the time of the last update, so a key costs
// nothing between its requests.
//
// Blocking. When a failure lifts the score above `threshold`, the key is blocked for the
// current penalty: `penalty` (10 s) for the first block, doubling with each further
// block of the same episode, up to `max_penalty` (15 min). check() refuses a blocked key
// with the whole seconds left (at least 1). Refused requests are not failures (they never
// reach the credential check) and do not extend the block, so a client that honours
// Retry-After is let through on time. The score keeps decaying during a block, so after a
// short block it is still near the threshold and a few more failures block again, for
// twice as long; after a long one it has decayed and it takes about as many failures as
// the first time. The episode, and with it the doubling, ends when the key goes one
// half-life without a failure after its last block has ended; the next block is
// `penalty` again. (Not "when the score has decayed": it decays during the block itself,
// so any block longer than a half-life would end its own episode and the penalty would
// never grow past a minute or two.) A client that keeps failing as soon as it is let
// through reaches `max_penalty`, and then gets about `threshold` failures per
// `max_penalty`.
//
// Success. success() ends the episode's penalty growth (the next block, if any, is
// `penalty` again) but leaves the score and, unless `success_ends_block` (below), a
// running block alone. A key that also succeeds is a real client with a bug, or a proxy
// in front of many clients, not a pure attacker, so it should not be locked out for 15
// minutes. But one success must not erase a score built by a flood: someone holding one
// valid key could then interleave successes and fail without limit. With the score
// kept, such a client still gets blocked each time its score crosses the threshold; a
// 10 s block lets the score decay by about 11 %, i.e. about three further failures
// before the next block, some 20 a minute: the rate the threshold already tolerates.
//
// `success_ends_block` (the plugin's backoff): a success also ends a running block. The
// broker still decides a blocked key's CONNECTs that memory can answer, so a valid
// client behind the same address as a flood (carrier NAT) succeeds during the block; its
// success ends the block, and since the score is kept, the flood's next failure starts a
// new one (of `penalty`, the growth having been reset): one further failure per success.
//
// Memory. At most `max_keys` keys are tracked (100 000 by default; an entry with its index
// costs roughly 150 bytes, so about 15 MB at most). check() and success() never add a key;
// only failure() does, so clients that do not fail cost nothing. When a new key arrives
// with the table full, one sweep first drops every key whose score has decayed to nothing
// (below 0.01, about 7 half-lives after its last failure, and not blocked), then, if that
// freed less than an eighth of the table, the keys that matter least until an eighth is
// free: unblocked keys before blocked ones, lowest score first, then the longest idle.
// Sweeps are O(n) but free n/8 entries each, so an insert costs O(1) amortised however the
// keys are chosen. An attacker cycling addresses therefore cannot grow memory past the
// bound, and mostly evicts its own fresh keys (score 1) rather than a key near the
// threshold. A blocked key is evicted only when more than 7/8 of the table is blocked keys
// at the same moment: with the defaults, some 87 000 keys each driven above 30 failures
// within the same penalty window, i.e. millions of failed requests, each throttled itself.
//
// Thread safety: every public member takes one mutex; calls are short (a hash lookup),
// except for the sweep: at 100 000 keys it holds the mutex for some 10-20 ms, once per
// 12 500 new keys, i.e. only during a flood of new addresses. Time is passed in (`now`)
// so tests drive it; callers pass std::chrono::steady_clock::now(). A `now` slightly
// older than the key's last update (threads racing to the mutex) counts as no time passed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tka {

class FailureThrottle {
  public:
    using Clock = std::chrono::steady_clock;

    struct Options {
        double threshold = 30;  // block when the score exceeds this; 0 = off (infinity: track only)
        std::chrono::duration<double> half_life{60.0};  // time for a score to halve
        std::chrono::seconds penalty{10};               // first block of an episode
        std::chrono::seconds max_penalty{900};          // cap of the doubling
        std::size_t max_keys = 100000;                  // keys tracked at most
        bool success_ends_block = false;                // success() also ends a running block
    };

    struct Decision {
        bool allowed = true;
        int retry_after_seconds = 0;  // when refused: whole seconds (>= 1) until allowed
    };

    // What a failure did: whether it started a block (for one log line per block, not one
    // per refused request).
    struct Outcome {
        bool blocked = false;     // this failure started a block
        int penalty_seconds = 0;  // its length
    };

    explicit FailureThrottle(Options options);

    Decision check(const std::string& key, Clock::time_point now) const;
    Outcome failure(const std::string& key, Clock::time_point now);
    void success(const std::string& key, Clock::time_point now);
    // The decayed score; 0 for a key not tracked.
    double score(const std::string& key, Clock::time_point now) const;

    bool enabled() const { return threshold_ > 0; }
    const Options& options() const { return options_; }

    // For /metrics.
    std::size_t tracked_keys() const;
    std::size_t blocked_keys(Clock::time_point now) const;  // O(n): once per scrape
    std::uint64_t blocks_total() const;                     // blocks started since start
    std::uint64_t evictions_total() const;                  // keys dropped to make room

  private:
    struct Entry {
        double score = 0;           // as of `updated`
        Clock::time_point updated;  // last failure or success
        Clock::time_point blocked_until;
        int level = 0;  // blocks so far in this episode: the next lasts penalty * 2^level
    };
    // Entries live in one vector, so that the sweep of make_room() reads memory in order
    // instead of chasing hash nodes all over the heap (ten times slower at 100 000 keys,
    // with the mutex held); the index maps a key to its position.
    using Index = std::unordered_map<std::string, std::uint32_t>;
    struct Slot {
        Entry entry;
        Index::value_type* node;  // this key's index entry (stable: node-based container)
    };

    Entry* find(const std::string& key);
    const Entry* find(const std::string& key) const;
    Entry& insert(const std::string& key, Clock::time_point now);
    void remove(std::size_t position);
    double decayed(const Entry& e, Clock::time_point now) const;
    void make_room(Clock::time_point now);
    std::chrono::seconds penalty_for(int level) const;

    Options options_;
    double threshold_;  // options_.threshold, 0 when off
    mutable std::mutex mutex_;
    Index index_;
    std::vector<Slot> slots_;
    std::uint64_t blocks_total_ = 0;
    std::uint64_t evictions_total_ = 0;
};

}  // namespace tka
