// trivial_http_server: the physical limit for tokend's front door on this machine. A
// minimal Boost.Beast/Asio server with as many I/O threads as tokend (--io-threads) that
// reads every request in full and answers it with a fixed 200 and a token-shaped JSON body
// of a given size: no Redis, no JSON parsing, no crypto, no logging. What tokend gets less
// than this server is the price of what it does beyond moving HTTP bytes on loopback.
//
//   trivial_http_server --listen PORT [--io-threads 2] [--response-bytes N]
//                       [--max-seconds 600]
//
// --response-bytes pads the "provider" field so that the body is exactly N bytes
// (scripts/bench.sh passes the size of a real tokend answer). Kept-alive connections as the
// client asks, TCP_NODELAY on accepted sockets, 127.0.0.1 only; stops by itself after
// --max-seconds.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A create answer's shape (DESIGN.md), the provider padded to make it `bytes` long.
std::string token_body(std::size_t bytes) {
    const std::string password = "tkn_" + std::string(43, 'A');
    auto body = [&](const std::string& provider) {
        return "{\"access_token\":\"" + password +
               "\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"mqtt_credentials\":"
               "{\"username\":\"0123456789abcdef01234567@org_k7xm4pqr2n5t\",\"password\":\"" +
               password +
               "\"},\"token_id\":\"0b6f6c3e-3a34-4d7c-9a55-2f1c4b7e9d10\",\"user_email\":"
               "\"bench-000000@example.com\",\"provider\":\"" +
               provider +
               "\",\"expires_at\":\"2026-03-27T14:00:00Z\",\"refresh_recommended_at\":"
               "\"2026-03-27T13:54:00Z\"}";
    };
    std::string provider = "mosquitto-token-auth";
    const std::size_t natural = body(provider).size();
    if (bytes > natural) {
        provider.append(bytes - natural, 'x');
    }
    return body(provider);
}

// One connection: read a request, write the fixed answer, again while kept alive.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, std::shared_ptr<const std::string> body)
        : stream_(std::move(socket)), body_(std::move(body)) {}

    void start() { read_request(); }

  private:
    void read_request() {
        parser_.emplace();
        parser_->body_limit(64 * 1024);
        stream_.expires_after(std::chrono::seconds(30));
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) {
            close();
            return;
        }
        const auto& request = parser_->get();
        response_ = {};
        response_.result(http::status::ok);
        response_.version(request.version());
        response_.set(http::field::content_type, "application/json");
        response_.body() = *body_;
        response_.keep_alive(request.keep_alive());
        response_.prepare_payload();
        http::async_write(stream_, response_,
                          beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec || !response_.keep_alive()) {
            close();
            return;
        }
        read_request();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
    std::shared_ptr<const std::string> body_;
};

class Listener : public std::enable_shared_from_this<Listener> {
  public:
    Listener(asio::io_context& io, int port, std::shared_ptr<const std::string> body)
        : io_(io), acceptor_(io), body_(std::move(body)) {
        const tcp::endpoint at(asio::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(port));
        acceptor_.open(at.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(at);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    void start() { accept(); }

  private:
    void accept() {
        acceptor_.async_accept(asio::make_strand(io_),
                               beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (!ec) {
            socket.set_option(tcp::no_delay(true), ec);
            std::make_shared<Session>(std::move(socket), body_)->start();
        }
        accept();
    }

    asio::io_context& io_;
    tcp::acceptor acceptor_;
    std::shared_ptr<const std::string> body_;
};

}  // namespace

int main(int argc, char** argv) try {
    using namespace tka::bench;
    const Args args(argc, argv);
    const int port = static_cast<int>(std::stol(args.require("listen")));
    const int threads = static_cast<int>(std::max(1L, args.num("io-threads", 2)));
    const auto body = std::make_shared<const std::string>(
        token_body(static_cast<std::size_t>(std::max(0L, args.num("response-bytes", 0)))));

    asio::io_context io(threads);
    std::make_shared<Listener>(io, port, body)->start();
    asio::steady_timer deadline(io, std::chrono::seconds(args.num("max-seconds", 600)));
    deadline.async_wait([&io](beast::error_code) { io.stop(); });
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&io](beast::error_code, int) { io.stop(); });

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) {
        pool.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& t : pool) {
        t.join();
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "trivial_http_server: %s\n", e.what());
    return 2;
}
