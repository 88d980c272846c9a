// tokenctl's top level (see run.hpp): the only place that catches exceptions and decides
// exit statuses.
#include "tokenctl/run.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <chrono>

#include "common/errors.hpp"
#include "common/redis.hpp"
#include "common/redis_url.hpp"
#include "common/replica_fence.hpp"
#include "tokenctl/command_line.hpp"
#include "tokenctl/commands.hpp"
#include "tokenctl/exit_codes.hpp"
#include "tokenctl/validate.hpp"

namespace tka::tokenctl {

namespace {

// An operator tool waits briefly: a dead Redis should fail in about a second, not hang.
constexpr std::chrono::milliseconds kConnectTimeout{1000};
constexpr std::chrono::milliseconds kCommandTimeout{2000};

int fail(std::ostream& err, int status, std::string message) {
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::replace(message.begin(), message.end(), '\r', ' ');
    err << "tokenctl: " << message << '\n';
    return status;
}

std::string denied_message(const Denied& e, const Request& r) {
    switch (e.reason()) {
        case Refusal::unknown_org:
            return fmt::format("unknown organization {}", r.org_id);
        case Refusal::unknown_token:
            return fmt::format("unknown token {} in organization {}", r.token_id, r.org_id);
        case Refusal::not_found:
            if (r.command == Command::admin_delete || r.command == Command::admin_reset_password) {
                return fmt::format("unknown admin account {}", quoted(r.name));
            }
            break;
        default:
            break;
    }
    std::string what = e.what();
    return what.empty() ? std::string(refusal_name(e.reason())) : what;
}

void dispatch(const Request& request, RedisConnection& redis, std::ostream& out,
              std::ostream& err) {
    // A revoke or token-auth-off waits for the brokers' token replicas (replica_fence.hpp);
    // when a broker did not confirm, the change is committed all the same: say so, exit 0.
    const FenceObserver warn = [&err](const FenceResult& fence) {
        if (fence.timed_out) {
            err << "tokenctl: warning: a broker's token replica did not confirm the change "
                   "within "
                << std::chrono::duration_cast<std::chrono::milliseconds>(fence.waited).count()
                << " ms (unreachable or stopped without cleanup); it no longer answers from "
                   "memory. The change is committed.\n";
        }
    };
    OrgStore orgs(redis, warn);
    TokenStore tokens(redis, warn);
    AdminStore admins(redis);
    Context ctx{orgs, tokens, admins, out, unix_now()};
    switch (request.command) {
        case Command::org_create:
        case Command::org_set:
        case Command::org_show:
        case Command::org_list:
            return run_org_command(request, ctx);
        case Command::key_create:
        case Command::key_import:
        case Command::key_list:
        case Command::key_revoke:
            return run_key_command(request, ctx);
        case Command::token_list:
        case Command::token_revoke:
            return run_token_command(request, ctx);
        case Command::migrate:
            return run_migrate_command(request, redis, ctx);
        case Command::admin_create:
        case Command::admin_list:
        case Command::admin_delete:
        case Command::admin_reset_password:
            return run_admin_command(request, ctx);
    }
}

}  // namespace

int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err) {
    Request request;
    RedisOptions options;
    try {
        auto parsed = parse_command_line(args, in, out);
        if (!parsed) {
            return kExitOk;  // --help
        }
        request = std::move(*parsed);
        options.endpoint = parse_redis_url(request.redis_url);
        options.tls = request.redis_tls;
        const std::string tls_error =
            check_redis_tls(options.tls, options.endpoint,
                            {"--redis-tls-ca", "--redis-tls-cert", "--redis-tls-key",
                             "--redis-tls-insecure", "--redis-url"});
        if (!tls_error.empty()) {
            throw UsageError(tls_error);
        }
    } catch (const UsageError& e) {
        return fail(err, kExitUsage, e.what());
    } catch (const std::invalid_argument& e) {
        return fail(err, kExitUsage, fmt::format("invalid --redis-url: {}", e.what()));
    }
    options.connect_timeout = kConnectTimeout;
    options.command_timeout = kCommandTimeout;
    options.wait_replicas = request.wait_replicas;
    options.wait_timeout = request.wait_timeout;

    try {
        RedisConnection redis(options);
        dispatch(request, redis, out, err);
        out.flush();
        return kExitOk;
    } catch (const Denied& e) {
        return fail(err, kExitRefused, denied_message(e, request));
    } catch (const RedisError& e) {
        std::string what = e.what();
        auto where = options.endpoint.redacted();
        if (what.find(where) == std::string::npos) {
            what = fmt::format("Redis at {}: {}", where, what);
        }
        return fail(err, kExitRedis, what);
    } catch (const std::exception& e) {
        return fail(err, kExitRefused, e.what());
    }
}

}  // namespace tka::tokenctl
