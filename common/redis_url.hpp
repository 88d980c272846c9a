// Parsing of the Redis URL forms that every program accepts (DESIGN.md, "Scale and
// availability"):
//   redis://[user:password@]host:port[/db]
//   rediss://[user:password@]host:port[/db]          (TLS)
//   unix:///path/to/redis.sock[?db=N]
//   redis+sentinel://[user:password@]host:port[,host:port...]/master_name[/db]
//   rediss+sentinel://...                            (TLS to the sentinels and the master)
// The password never appears in what `redacted()` returns, so URLs can be logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tka {

struct RedisEndpoint {
    enum class Kind { tcp, unix_socket, sentinel };
    Kind kind = Kind::tcp;
    std::string host = "127.0.0.1";                      // tcp
    int port = 6379;                                     // tcp
    std::string path;                                    // unix_socket
    std::vector<std::pair<std::string, int>> sentinels;  // sentinel: host, port
    std::string master_name;                             // sentinel
    std::string username;  // empty: AUTH with password only (or no AUTH)
    std::string password;  // empty: no AUTH
    int db = 0;
    bool tls = false;  // rediss:// and rediss+sentinel:// (never for unix_socket)

    // The URL with the password replaced by "***", for logs and error messages.
    std::string redacted() const;
};

// Throws std::invalid_argument with a message that names what is wrong (never the password).
RedisEndpoint parse_redis_url(std::string_view url);

}  // namespace tka
