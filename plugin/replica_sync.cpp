// Full synchronisation of the token replica in bounded chunks (see replica_sync.hpp).
#include "plugin/replica_sync.hpp"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

#include "common/redis_keys.hpp"
#include "common/token_record.hpp"

namespace tka::plugin {

namespace {

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() ? v : 0;
}

std::string last_stream_id(RedisConnection& redis) {
    const RedisValue top =
        redis.command({"XREVRANGE", keys::events(), "+", "-", "COUNT", "1"}).expect_ok("XREVRANGE");
    if (top.is_array() && !top.elements.empty() && top.elements[0].is_array() &&
        !top.elements[0].elements.empty()) {
        return top.elements[0].elements[0].str;
    }
    return "0-0";
}

// One SSCAN / ZSCAN reply: the next cursor and the flat element list.
struct ScanPage {
    std::string cursor;
    std::vector<RedisValue> elements;
};

ScanPage scan_page(RedisValue reply, const char* what) {
    reply.expect_ok(what);
    if (!reply.is_array() || reply.elements.size() != 2 || !reply.elements[1].is_array()) {
        throw RedisError(std::string(what) + ": unexpected reply");
    }
    return ScanPage{std::move(reply.elements[0].str), std::move(reply.elements[1].elements)};
}

std::vector<std::string> scan_command(const char* command, const std::string& key,
                                      const std::string& cursor, std::size_t count) {
    return {command, key, cursor, "COUNT", std::to_string(count)};
}

class Sync {
  public:
    Sync(RedisConnection& redis, TokenReplica& replica, UnixSeconds now,
         const ReplicaSyncOptions& options)
        : redis_(redis), replica_(replica), now_(now), options_(options) {}

    // false when the progress callback asked to stop.
    bool run() {
        result_.stream_id = last_stream_id(redis_);
        ++result_.round_trips;
        replica_.clear();
        std::string cursor = "0";
        do {
            ScanPage page = scan_page(redis_.command(scan_command("SSCAN", keys::org_index(),
                                                                  cursor, options_.scan_count)),
                                      "SSCAN");
            ++result_.round_trips;
            for (const RedisValue& org : page.elements) {
                if (!sync_org(org.str)) {
                    return false;
                }
            }
            cursor = std::move(page.cursor);
        } while (cursor != "0");
        return true;
    }

    ReplicaSyncResult& result() { return result_; }

  private:
    // One org: its token_auth flag and bucket generations, then its user buckets, a chunk
    // of them per round trip.
    bool sync_org(const std::string& org_id) {
        const RedisValue org = redis_.command({"HMGET", keys::org(org_id), "token_auth", "bits"})
                                   .expect_ok("HMGET org");
        ++result_.round_trips;
        if (!org.is_array() || org.elements.size() != 2 || org.elements[0].is_nil()) {
            return true;  // listed but gone
        }
        ++result_.orgs;
        replica_.set_org(org_id, org.elements[0].str == "1");
        const unsigned bits = static_cast<unsigned>(
            std::min<std::int64_t>(to_int(org.elements[1].str), layout::kMaxBucketBits));
        const std::size_t per_trip = std::max<std::size_t>(
            1, options_.scan_count / static_cast<std::size_t>(layout::kRecordsPerBucket));
        std::vector<std::vector<std::string>> commands;
        for (unsigned g = 0; g <= bits; ++g) {
            for (std::uint32_t i = 0; i < (std::uint32_t{1} << g); ++i) {
                commands.push_back({"HGETALL", keys::user_bucket(org_id, g, i)});
                if (commands.size() == per_trip && !read_chunk(org_id, commands)) {
                    return false;
                }
            }
        }
        return commands.empty() || read_chunk(org_id, commands);
    }

    // Reads and inserts the buckets of `commands` (then cleared); false to stop.
    bool read_chunk(const std::string& org_id, std::vector<std::vector<std::string>>& commands) {
        const std::vector<RedisValue> replies = redis_.pipeline(commands);
        commands.clear();
        ++result_.round_trips;
        for (const RedisValue& h : replies) {
            h.expect_ok("HGETALL bucket");
            for (std::size_t j = 0; j + 1 < h.elements.size(); j += 2) {
                const std::string& field = h.elements[j].str;
                if (field.size() != layout::kTokenIdBytes) {
                    continue;  // a user's e-mail
                }
                const auto r = layout::decode_record(h.elements[j + 1].str);
                if (!r || r->status != layout::kActive || r->expires_at <= now_) {
                    continue;  // not live
                }
                if (replica_.insert(org_id, layout::hex(r->user), layout::token_id_text(field),
                                    layout::hex(r->digest), r->expires_at, now_)) {
                    ++result_.tokens;
                }
            }
        }
        return !options_.progress || options_.progress(result_);
    }

    RedisConnection& redis_;
    TokenReplica& replica_;
    const UnixSeconds now_;
    const ReplicaSyncOptions& options_;
    ReplicaSyncResult result_;
};

}  // namespace

std::optional<ReplicaSyncResult> sync_replica(RedisConnection& redis, TokenReplica& replica,
                                              UnixSeconds now, const ReplicaSyncOptions& options) {
    Sync sync(redis, replica, now, options);
    if (!sync.run()) {
        return std::nullopt;
    }
    return std::move(sync.result());
}

}  // namespace tka::plugin
