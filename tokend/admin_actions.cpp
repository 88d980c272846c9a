// The dashboard's actions over the stores (see admin_actions.hpp).
#include "tokend/admin_actions.hpp"

#include <fmt/format.h>

#include "common/display_name.hpp"
#include "common/errors.hpp"
#include "common/identifiers.hpp"
#include "common/parse_int.hpp"

namespace tka::tokend::admin {

namespace {

ActionError invalid(const std::string& sentence) {
    return ActionError(400, "invalid_request", sentence);
}

ActionError not_found(const std::string& sentence) {
    return ActionError(404, "not_found", sentence);
}

// A store's refusal as the dashboard answers it. The stores' sentences name identifiers
// and limits, never a secret.
ActionError from_denied(const Denied& d) {
    switch (d.reason()) {
        case Refusal::unknown_org:
            return not_found("There is no such organization.");
        case Refusal::unknown_token:
            return not_found("There is no such token in this organization.");
        case Refusal::not_found:
            return not_found("There is no such key in this organization.");
        case Refusal::conflict:
            return ActionError(409, "conflict", fmt::format("{}.", d.what()));
        default:
            return invalid(fmt::format("{}.", d.what()));
    }
}

template <typename F>
auto guarded(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Denied& d) {
        throw from_denied(d);
    }
}

std::string org_id_of(std::string_view org_id) {
    if (!ids::is_org_id(org_id)) {
        throw not_found("There is no such organization.");
    }
    return std::string(org_id);
}

}  // namespace

std::int64_t checked_ttl(std::string_view text) {
    auto ttl = parse_int(text, kMinTtlSeconds, kMaxTtlSeconds);
    if (!ttl) {
        throw invalid(
            fmt::format("The TTL must be a whole number of seconds from {} to {} (30 days).",
                        kMinTtlSeconds, kMaxTtlSeconds));
    }
    return *ttl;
}

std::string checked_org_name(std::string_view name) {
    if (auto problem = display_name_problem(name, kMaxOrgNameBytes)) {
        throw invalid(fmt::format("This name cannot be used: {}.", *problem));
    }
    return std::string(name);
}

std::string checked_email(std::string_view email) {
    auto normalised = ids::normalise_email(email);
    if (!normalised) {
        throw invalid("That is not a valid e-mail address.");
    }
    return *normalised;
}

bool checked_on_off(std::string_view text) {
    if (text == "on") {
        return true;
    }
    if (text == "off") {
        return false;
    }
    throw invalid("Token-based auth must be switched \"on\" or \"off\".");
}

Actions::Actions(RedisConnection& redis, FenceObserver observer)
    : redis_(redis), orgs_(redis, observer), tokens_(redis, observer) {}

std::vector<Organization> Actions::list_orgs() {
    return orgs_.list();
}

NewOrganization Actions::create_org(std::string_view name, std::int64_t ttl, bool token_auth,
                                    UnixSeconds now) {
    const std::string checked = checked_org_name(name);
    return guarded([&] { return orgs_.create(checked, ttl, token_auth, now); });
}

Organization Actions::get_org(std::string_view org_id) {
    const std::string id = org_id_of(org_id);
    return guarded([&] { return orgs_.get(id); });
}

Organization Actions::update_org(std::string_view org_id, std::optional<std::int64_t> ttl,
                                 std::optional<bool> token_auth) {
    const std::string id = org_id_of(org_id);
    if (!ttl && !token_auth) {
        throw invalid("Nothing to change: give a TTL and/or token-based auth.");
    }
    return guarded([&] { return orgs_.update(id, ttl, token_auth); });
}

std::vector<SecretKeyInfo> Actions::list_keys(std::string_view org_id) {
    const Organization org = get_org(org_id);
    return guarded([&] { return orgs_.list_keys(org.org_id); });
}

NewSecretKey Actions::create_key(std::string_view org_id, UnixSeconds now) {
    const Organization org = get_org(org_id);
    return guarded([&] { return orgs_.create_key(org.org_id, now); });
}

SecretKeyInfo Actions::import_key(std::string_view org_id, std::string_view legacy_key,
                                  UnixSeconds now) {
    const Organization org = get_org(org_id);
    if (!ids::is_legacy_secret_key(legacy_key)) {
        throw invalid(
            "Import expects a legacy secret key: cs_ followed by at least 16 of "
            "A-Z a-z 0-9 _ - (new sk_ keys come from \"Create key\").");
    }
    const std::string key(legacy_key);
    return guarded([&] { return orgs_.import_key(org.org_id, key, now); });
}

void Actions::revoke_key(std::string_view org_id, std::string_view key_id) {
    const Organization org = get_org(org_id);
    if (!ids::is_key_id(key_id)) {
        throw not_found("There is no such key in this organization.");
    }
    const std::string key(key_id);
    guarded([&] {
        orgs_.revoke_key(org.org_id, key);
        return 0;
    });
}

std::vector<TokenRecord> Actions::list_tokens(const Organization& org,
                                              const std::optional<std::string>& email,
                                              UnixSeconds now) {
    return guarded([&] {
        return email ? tokens_.list_email(org, *email, now) : tokens_.list(org.org_id, now);
    });
}

std::vector<std::string> Actions::revoke_token(std::string_view org_id, std::string_view token_id,
                                               UnixSeconds now) {
    const Organization org = get_org(org_id);
    if (!ids::is_token_id(token_id)) {
        throw not_found("There is no such token in this organization.");
    }
    const std::string token(token_id);
    return guarded([&] { return tokens_.revoke(org.org_id, token, now); });
}

std::vector<std::string> Actions::revoke_user(std::string_view org_id, std::string_view email,
                                              UnixSeconds now) {
    const Organization org = get_org(org_id);
    const std::string normalised = checked_email(email);
    return guarded([&] { return tokens_.revoke_email(org, normalised, now); });
}

ReplicaRegistry Actions::brokers() {
    return read_replica_registry(redis_);
}

}  // namespace tka::tokend::admin
