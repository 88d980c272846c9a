// The HTTP/1.1 framing rules of tokend's front door (tokend/http_framing.hpp) and the
// connection limits (tokend/connection_limits.hpp), without a network.
#include <catch2/catch.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http.hpp>

#include <optional>
#include <string>

#include "tokend/connection_limits.hpp"
#include "tokend/http_framing.hpp"

using namespace tka::tokend;
namespace http = boost::beast::http;

namespace {

// Parses a request header the way the server does; nullopt if Beast itself refuses it.
std::optional<ApiError> verdict(const std::string& head, bool* beast_refused = nullptr,
                                HttpLimits limits = {}) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(head), ec);
    if (ec || !parser.is_header_done()) {
        if (beast_refused) {
            *beast_refused = true;
        }
        return error_for_parse_failure(ec);
    }
    return check_request_header(parser.get(), limits);
}

std::string request(const std::string& fields, const std::string& version = "HTTP/1.1") {
    return "POST /v2/tokens/create " + version + "\r\n" + fields + "\r\n";
}

}  // namespace

TEST_CASE("framing: well-formed requests pass", "[tokend][unit][http]") {
    CHECK_FALSE(verdict(request("Host: x\r\nContent-Length: 2\r\n")));
    CHECK_FALSE(verdict(request("Host: x\r\nTransfer-Encoding: chunked\r\n")));
    CHECK_FALSE(verdict(request("Host: x\r\nTransfer-Encoding: Chunked\r\n")));
    CHECK_FALSE(verdict(request("Host: x\r\n")));
    CHECK_FALSE(verdict(request("", "HTTP/1.0")));  // HTTP/1.0 needs no Host
    CHECK_FALSE(verdict(request("Host: x\r\nContent-Length: 65536\r\n")));
}

TEST_CASE("framing: ambiguous lengths are 400", "[tokend][unit][http]") {
    for (const char* fields : {
             "Host: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n",
             "Host: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n",
             "Host: x\r\nContent-Length: 2, 2\r\n",
             "Host: x\r\nContent-Length: 41abc\r\n",
             "Host: x\r\nContent-Length: +41\r\n",
             "Host: x\r\nContent-Length: -1\r\n",
             "Host: x\r\nContent-Length: \r\n",
             "Host: x\r\nContent-Length: 99999999999999999999999\r\n",
             "Host: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n",
             "Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n",
             "Host: x\r\nTransfer-Encoding: gzip, chunked\r\n",
             "Host: x\r\nTransfer-Encoding: gzip\r\n",
             "Host: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
         }) {
        INFO(fields);
        auto error = verdict(request(fields));
        REQUIRE(error);
        CHECK(error->status == 400);
        CHECK(error->code == "invalid_request");
    }
}

TEST_CASE("framing: Host and version rules", "[tokend][unit][http]") {
    auto no_host = verdict(request("Content-Length: 0\r\n"));
    REQUIRE(no_host);
    CHECK(no_host->status == 400);
    auto two_hosts = verdict(request("Host: a\r\nHost: b\r\n"));
    REQUIRE(two_hosts);
    CHECK(two_hosts->status == 400);
    auto http2 = verdict(request("Host: x\r\n", "HTTP/2.0"));
    REQUIRE(http2);
    CHECK(http2->status == 400);
}

TEST_CASE("framing: size limits", "[tokend][unit][http]") {
    auto too_long = verdict(request("Host: x\r\nContent-Length: 65537\r\n"));
    REQUIRE(too_long);
    CHECK(too_long->status == 413);
    CHECK(too_long->code == "payload_too_large");

    std::string many;
    for (int i = 0; i < 65; ++i) {
        many += "X-" + std::to_string(i) + ": y\r\n";
    }
    auto fields = verdict(request("Host: x\r\n" + many));
    REQUIRE(fields);
    CHECK(fields->status == 431);

    bool beast_refused = false;
    auto big = verdict(request("Host: x\r\nX: " + std::string(9000, 'a') + "\r\n"), &beast_refused);
    CHECK(beast_refused);
    REQUIRE(big);
    CHECK(big->status == 431);
    CHECK(big->code == "header_too_large");
}

TEST_CASE("framing: the response honours HEAD and keep-alive", "[tokend][unit][http]") {
    ApiResponse answer;
    answer.body = R"({"status":"ok"})";
    auto head = to_http_response(answer, 11, true, true);
    CHECK(head.body().empty());
    CHECK(head[http::field::content_length] == std::to_string(answer.body.size()));
    auto closing = to_http_response(answer, 11, false, false);
    CHECK(closing[http::field::connection] == "close");
    CHECK(closing.body() == answer.body);
    auto old = to_http_response(answer, 10, true, false);
    CHECK(old[http::field::connection] == "keep-alive");
}

TEST_CASE("connection limits: total and per address, released by the slot",
          "[tokend][unit][http]") {
    ConnectionLimits limits(3, 2);
    const auto a = boost::asio::ip::make_address("203.0.113.7");
    const auto b = boost::asio::ip::make_address("2001:db8:1:2::1");
    const auto b_same_64 = boost::asio::ip::make_address("2001:db8:1:2:ffff::9");
    const auto mapped_a = boost::asio::ip::make_address("::ffff:203.0.113.7");
    ConnectionLimits::Slot s1, s2, s3, s4;
    CHECK(limits.try_open(a, s1) == ConnectionLimits::Refusal::none);
    CHECK(limits.try_open(mapped_a, s2) == ConnectionLimits::Refusal::none);
    CHECK(limits.try_open(a, s3) == ConnectionLimits::Refusal::per_address);
    CHECK(limits.try_open(b, s3) == ConnectionLimits::Refusal::none);
    CHECK(limits.open() == 3);
    CHECK(limits.try_open(b_same_64, s4) == ConnectionLimits::Refusal::max_connections);
    s1 = ConnectionLimits::Slot();  // the connection ends
    CHECK(limits.open() == 2);
    CHECK(limits.try_open(b_same_64, s4) == ConnectionLimits::Refusal::none);
    ConnectionLimits::Slot s5;
    CHECK(limits.try_open(a, s5) == ConnectionLimits::Refusal::max_connections);
    CHECK(ConnectionLimits::key_of(b) == "2001:db8:1:2::/64");
    CHECK(ConnectionLimits::key_of(mapped_a) == "203.0.113.7");
}
