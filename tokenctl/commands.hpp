// The tokenctl commands proper: each takes a validated Request, talks to Redis through
// OrgStore/TokenStore/AdminStore and writes its result to `out` (human text or JSON). They throw
// tka::Denied for refusals and tka::RedisError for outages; run.cpp turns both into the
// one-line message and the exit status.
#pragma once

#include <ostream>

#include "common/admin_store.hpp"
#include "common/org_store.hpp"
#include "common/time_format.hpp"
#include "common/token_store.hpp"
#include "tokenctl/request.hpp"

namespace tka::tokenctl {

struct Context {
    OrgStore& orgs;
    TokenStore& tokens;
    AdminStore& admins;
    std::ostream& out;
    UnixSeconds now;
};

void run_org_command(const Request& request, Context& ctx);    // org create|set|show|list
void run_key_command(const Request& request, Context& ctx);    // key create|import|list|revoke
void run_token_command(const Request& request, Context& ctx);  // token list|revoke
void run_admin_command(const Request& request, Context& ctx);  // admin create|list|delete|
                                                               // reset-password
// migrate: the previous Redis layout to the current one (common/layout_migration.hpp)
void run_migrate_command(const Request& request, RedisConnection& redis, Context& ctx);

}  // namespace tka::tokenctl
