// CLI11 definition of tokenctl's commands (see command_line.hpp). CLI11 only splits the
// command line into raw strings here; validate.cpp decides what is acceptable, so every
// message has the same one-line form.
#include "tokenctl/command_line.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>

#include "common/replica_wait.hpp"
#include "tokenctl/secret_input.hpp"
#include "tokenctl/validate.hpp"

namespace tka::tokenctl {

namespace {

// Raw strings as typed; empty when an option was not given (checked with count()).
struct RawArgs {
    std::string redis_url = kDefaultRedisUrl;
    RedisTlsOptions redis_tls;
    std::string wait_replicas = "0";
    std::string wait_ms = std::to_string(kDefaultWaitMs);
    bool json = false;
    std::string org_id;
    std::string name;
    std::string ttl;
    std::string token_auth;
    std::string key_id;
    std::string secret;
    std::string token_id;
    std::string email;
};

// Options shared by several subcommands, remembered so their presence can be checked.
struct Leaf {
    CLI::App* app = nullptr;
    Command command;
    CLI::Option* ttl = nullptr;
    CLI::Option* token_auth = nullptr;
    CLI::Option* email = nullptr;
};

CLI::App* group(CLI::App& app, const std::string& name, const std::string& description) {
    auto* g = app.add_subcommand(name, description);
    g->require_subcommand(1);
    return g;
}

void add_org_id(CLI::App* leaf, RawArgs& raw) {
    leaf->add_option("ORG_ID", raw.org_id, "organization id (org_...)")->required();
}

void add_json(CLI::App* leaf, RawArgs& raw) {
    leaf->add_flag("--json", raw.json, "machine-readable JSON output");
}

CLI::Option* add_ttl(CLI::App* leaf, RawArgs& raw) {
    return leaf->add_option("--ttl", raw.ttl, "token lifetime in seconds (1..2592000)")
        ->type_name("SECONDS");
}

CLI::Option* add_token_auth(CLI::App* leaf, RawArgs& raw) {
    return leaf->add_option("--token-auth", raw.token_auth, "token authentication for the org")
        ->type_name("on|off");
}

std::vector<Leaf> define(CLI::App& app, RawArgs& raw) {
    app.fallthrough();  // global options may follow the subcommands; inherited below
    app.set_version_flag("--version", std::string("tokenctl ") + TKA_VERSION,
                         "print the version and exit");
    app.require_subcommand(1);
    app.add_option("--redis-url", raw.redis_url,
                   "redis://[user:password@]host:port[/db], unix:///path or "
                   "redis+sentinel://...")
        ->type_name("URL")
        ->envname(kRedisUrlEnv)
        ->capture_default_str();
    app.add_option("--redis-tls-ca", raw.redis_tls.ca_file,
                   "PEM CA bundle that signs Redis's certificate (rediss://; default: the "
                   "system's trust store)")
        ->type_name("FILE")
        ->envname("TOKENCTL_REDIS_TLS_CA");
    app.add_option("--redis-tls-cert", raw.redis_tls.cert_file,
                   "PEM client certificate for Redis (mutual TLS); needs --redis-tls-key")
        ->type_name("FILE")
        ->envname("TOKENCTL_REDIS_TLS_CERT");
    app.add_option("--redis-tls-key", raw.redis_tls.key_file, "PEM private key of --redis-tls-cert")
        ->type_name("FILE")
        ->envname("TOKENCTL_REDIS_TLS_KEY");
    app.add_flag("--redis-tls-insecure", raw.redis_tls.insecure,
                 "do not verify Redis's certificate nor its name (testing only)")
        ->envname("TOKENCTL_REDIS_TLS_INSECURE");
    app.add_option("--redis-wait-replicas", raw.wait_replicas,
                   "after each change, wait until this many replicas hold it (Redis WAIT), "
                   "else fail (0: do not wait)")
        ->type_name("N")
        ->envname(kRedisWaitReplicasEnv)
        ->capture_default_str();
    app.add_option("--redis-wait-ms", raw.wait_ms,
                   "how long --redis-wait-replicas waits for the replicas, milliseconds")
        ->type_name("MS")
        ->envname(kRedisWaitMsEnv)
        ->capture_default_str();

    std::vector<Leaf> leaves;
    auto* org = group(app, "org", "organizations: create, change, show, list");
    auto* key = group(app, "key", "secret keys of an organization");
    auto* token = group(app, "token", "tokens of an organization");
    auto* admin = group(app, "admin", "accounts of the operator dashboard");

    {
        Leaf l{org->add_subcommand("create", "create an organization and its first secret key"),
               Command::org_create};
        l.app->add_option("--name", raw.name, "display name")->type_name("NAME")->required();
        l.ttl = add_ttl(l.app, raw);
        l.token_auth = add_token_auth(l.app, raw);
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{org->add_subcommand("set", "change TTL and/or token authentication"),
               Command::org_set};
        add_org_id(l.app, raw);
        l.ttl = add_ttl(l.app, raw);
        l.token_auth = add_token_auth(l.app, raw);
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{org->add_subcommand("show", "show one organization"), Command::org_show};
        add_org_id(l.app, raw);
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{org->add_subcommand("list", "list all organizations"), Command::org_list};
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{key->add_subcommand("create", "create a secret key (shown only once)"),
               Command::key_create};
        add_org_id(l.app, raw);
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{key->add_subcommand("import", "import a legacy cs_ key; '-' reads it from stdin"),
               Command::key_import};
        add_org_id(l.app, raw);
        l.app->add_option("SECRET_KEY", raw.secret, "the cs_ key, or - to read it from stdin")
            ->required();
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{key->add_subcommand("list", "list secret keys (ids only)"), Command::key_list};
        add_org_id(l.app, raw);
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{key->add_subcommand("revoke", "revoke a secret key"), Command::key_revoke};
        add_org_id(l.app, raw);
        l.app->add_option("KEY_ID", raw.key_id, "key id (key_...)")->required();
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{token->add_subcommand("list", "list tokens (never passwords)"), Command::token_list};
        add_org_id(l.app, raw);
        l.email = l.app->add_option("--email", raw.email, "only the tokens of this e-mail")
                      ->type_name("E-MAIL");
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{token->add_subcommand("revoke", "revoke a token; live connections are closed"),
               Command::token_revoke};
        add_org_id(l.app, raw);
        l.app->add_option("TOKEN_ID", raw.token_id, "token id (UUID)")->required();
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{admin->add_subcommand("create",
                                     "create a dashboard account and its password (shown only "
                                     "once)"),
               Command::admin_create};
        l.app->add_option("--name", raw.name, "account name")->type_name("NAME")->required();
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{admin->add_subcommand("list", "list dashboard accounts (never passwords)"),
               Command::admin_list};
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{admin->add_subcommand("delete", "delete a dashboard account and end its sessions"),
               Command::admin_delete};
        l.app->add_option("NAME", raw.name, "account name")->required();
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{admin->add_subcommand("reset-password",
                                     "generate a new password (shown only once) and end the "
                                     "account's sessions"),
               Command::admin_reset_password};
        l.app->add_option("NAME", raw.name, "account name")->required();
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    {
        Leaf l{app.add_subcommand("migrate",
                                  "move tokens of the previous Redis layout to the current one"),
               Command::migrate};
        add_json(l.app, raw);
        leaves.push_back(l);
    }
    return leaves;
}

// CLI11 messages are mostly one line; make sure of it.
std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    while (!s.empty() && s.back() == ' ') {
        s.pop_back();
    }
    return s;
}

// Commands about one organization take its id as their first argument.
bool needs_org_id(Command command) {
    switch (command) {
        case Command::org_set:
        case Command::org_show:
        case Command::key_create:
        case Command::key_import:
        case Command::key_list:
        case Command::key_revoke:
        case Command::token_list:
        case Command::token_revoke:
            return true;
        default:
            return false;
    }
}

Request validated(const Leaf& leaf, const RawArgs& raw, std::istream& in) {
    Request r;
    r.command = leaf.command;
    r.redis_url = raw.redis_url;
    r.redis_tls = raw.redis_tls;
    try {
        r.wait_replicas = parse_wait_replicas("--redis-wait-replicas", raw.wait_replicas);
        r.wait_timeout = parse_wait_ms("--redis-wait-ms", raw.wait_ms);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    r.json = raw.json;
    if (needs_org_id(leaf.command)) {
        r.org_id = checked_org_id(raw.org_id);
    }
    if (leaf.ttl != nullptr && leaf.ttl->count() > 0) {
        r.ttl = checked_ttl(raw.ttl);
    }
    if (leaf.token_auth != nullptr && leaf.token_auth->count() > 0) {
        r.token_auth = checked_on_off("--token-auth", raw.token_auth);
    }
    if (leaf.email != nullptr && leaf.email->count() > 0) {
        r.email = checked_email(raw.email);
    }
    switch (leaf.command) {
        case Command::org_create:
            r.name = checked_org_name(raw.name);
            break;
        case Command::admin_create:
            r.name = checked_admin_name("--name", raw.name);
            break;
        case Command::admin_delete:
        case Command::admin_reset_password:
            r.name = checked_admin_name("NAME", raw.name);
            break;
        case Command::org_set:
            if (!r.ttl && !r.token_auth) {
                throw UsageError("org set: nothing to change (give --ttl and/or --token-auth)");
            }
            break;
        case Command::key_import:
            r.legacy_key =
                checked_legacy_key(raw.secret == "-" ? read_secret_line(in) : raw.secret);
            break;
        case Command::key_revoke:
            r.key_id = checked_key_id(raw.key_id);
            break;
        case Command::token_revoke:
            r.token_id = checked_token_id(raw.token_id);
            break;
        default:
            break;
    }
    return r;
}

}  // namespace

std::optional<Request> parse_command_line(const std::vector<std::string>& args, std::istream& in,
                                          std::ostream& out) {
    CLI::App app{
        "tokenctl: administer organizations, secret keys, tokens and dashboard accounts of "
        "mosquitto-token-auth",
        "tokenctl"};
    RawArgs raw;
    auto leaves = define(app, raw);
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app.parse(std::move(reversed));
    } catch (const CLI::Success& e) {
        app.exit(e, out, out);
        return std::nullopt;
    } catch (const CLI::Error& e) {
        throw UsageError(one_line(e.what()) + " (see tokenctl --help)");
    }
    for (const auto& leaf : leaves) {
        if (leaf.app->parsed()) {
            return validated(leaf, raw, in);
        }
    }
    throw UsageError("no command given (see tokenctl --help)");
}

}  // namespace tka::tokenctl
