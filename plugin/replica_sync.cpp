// Full synchronisation of the token replica in bounded chunks (see replica_sync.hpp).
#include "plugin/replica_sync.hpp"

#include <charconv>
#include <utility>
#include <vector>

#include "common/redis_keys.hpp"

namespace tka::plugin {

namespace {

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() ? v : 0;
}

// A member's score (expires_at) is live when strictly after `now`. Scores are written as
// whole seconds; anything unparsable counts as not live.
bool live_score(const std::string& score, UnixSeconds now) {
    double v = 0;
    const auto [p, ec] = std::from_chars(score.data(), score.data() + score.size(), v);
    return ec == std::errc() && v > static_cast<double>(now);
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
    // One org: its token_auth flag and the first ZSCAN page in one round trip, then one
    // round trip per page: the page's records and the next page.
    bool sync_org(const std::string& org_id) {
        const std::string zkey = keys::org_tokens(org_id);
        std::vector<RedisValue> first =
            redis_.pipeline({{"HGET", keys::org(org_id), "token_auth"},
                             scan_command("ZSCAN", zkey, "0", options_.scan_count)});
        ++result_.round_trips;
        first[0].expect_ok("HGET org");
        ScanPage page = scan_page(std::move(first[1]), "ZSCAN");
        if (first[0].is_nil()) {
            return true;  // listed but gone
        }
        ++result_.orgs;
        replica_.set_org(org_id, first[0].str == "1");
        while (true) {
            std::vector<std::string> ids;  // live members of this page
            for (std::size_t i = 0; i + 1 < page.elements.size(); i += 2) {
                if (live_score(page.elements[i + 1].str, now_)) {
                    ids.push_back(std::move(page.elements[i].str));
                }
            }
            const bool last = page.cursor == "0";
            std::vector<std::vector<std::string>> commands;
            commands.reserve(ids.size() + 1);
            for (const std::string& id : ids) {
                commands.push_back(
                    {"HMGET", keys::token(org_id, id), "pw", "status", "user_id", "expires_at"});
            }
            if (!last) {
                commands.push_back(scan_command("ZSCAN", zkey, page.cursor, options_.scan_count));
            }
            if (commands.empty()) {
                break;
            }
            std::vector<RedisValue> replies = redis_.pipeline(commands);
            ++result_.round_trips;
            insert_records(org_id, ids, replies);
            if (options_.progress && !options_.progress(result_)) {
                return false;
            }
            if (last) {
                break;
            }
            page = scan_page(std::move(replies.back()), "ZSCAN");
        }
        return true;
    }

    void insert_records(const std::string& org_id, const std::vector<std::string>& ids,
                        const std::vector<RedisValue>& replies) {
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const RedisValue& r = replies[i];
            r.expect_ok("HMGET token");
            if (!r.is_array() || r.elements.size() < 4 || r.elements[1].str != "active") {
                continue;  // gone since the page was read, or no longer active
            }
            if (replica_.insert(org_id, r.elements[2].str, ids[i], r.elements[0].str,
                                to_int(r.elements[3].str), now_)) {
                ++result_.tokens;
            }
        }
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
