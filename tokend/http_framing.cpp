// HTTP/1.1 framing checks and conversions (see http_framing.hpp).
#include "tokend/http_framing.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace tka::tokend {

namespace {

ApiError bad_request(std::string description) {
    return {400, "invalid_request", std::move(description)};
}

bool all_digits(boost::beast::string_view s) {
    return !s.empty() && s.size() <= 19 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<ApiError> check_request_header(const http::request_header<>& header,
                                             const HttpLimits& limits) {
    if (header.version() != 10 && header.version() != 11) {
        return bad_request("only HTTP/1.0 and HTTP/1.1 are served");
    }
    std::size_t fields = 0;
    std::size_t lengths = 0;
    std::size_t codings = 0;
    std::size_t hosts = 0;
    for (const auto& field : header) {
        ++fields;
        switch (field.name()) {
            case http::field::content_length:
                ++lengths;
                if (!all_digits(field.value())) {
                    return bad_request("Content-Length must be one decimal number");
                }
                break;
            case http::field::transfer_encoding:
                ++codings;
                if (!boost::beast::iequals(field.value(), "chunked")) {
                    return bad_request("the only transfer coding accepted is chunked");
                }
                break;
            case http::field::host:
                ++hosts;
                break;
            default:
                break;
        }
    }
    if (fields > limits.max_header_fields) {
        return ApiError{431, "header_too_large", "the request has too many header fields"};
    }
    if (lengths > 1 || codings > 1 || (lengths && codings)) {
        return bad_request("the request body's length is ambiguous");
    }
    if (hosts > 1 || (header.version() == 11 && hosts == 0)) {
        return bad_request("an HTTP/1.1 request needs exactly one Host header");
    }
    if (lengths) {
        std::uint64_t length = 0;
        for (char c : header[http::field::content_length]) {
            length = length * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (length > limits.max_body_bytes) {
            return error_for_status(413);
        }
    }
    return std::nullopt;
}

ApiError error_for_parse_failure(const boost::system::error_code& ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        return error_for_status(431);
    }
    if (ec == http::error::body_limit) {
        return error_for_status(413);
    }
    return bad_request("the request is not valid HTTP/1.1");
}

ApiRequest to_api_request(HttpRequest& request, const std::string& remote) {
    ApiRequest r;
    r.method = std::string(request.method_string());
    const auto target = request.target();
    r.path = std::string(target.substr(0, target.find('?')));
    r.content_type = std::string(request[http::field::content_type]);
    r.body = std::move(request.body());
    r.remote = remote;
    return r;
}

AdminRequest to_admin_request(HttpRequest& request, const std::string& remote) {
    AdminRequest r;
    r.method = std::string(request.method_string());
    const auto target = request.target();
    const auto question = target.find('?');
    r.path = std::string(target.substr(0, question));
    if (question != boost::beast::string_view::npos) {
        r.query = std::string(target.substr(question + 1));
    }
    r.content_type = std::string(request[http::field::content_type]);
    // A browser sends one Cookie field; HTTP/2 proxies may split it (RFC 9113, 8.2.3).
    const auto [first, last] = request.equal_range(http::field::cookie);
    for (auto field = first; field != last; ++field) {
        if (!r.cookie.empty()) {
            r.cookie.append("; ");
        }
        r.cookie.append(field->value().data(), field->value().size());
    }
    r.origin = std::string(request[http::field::origin]);
    r.host = std::string(request[http::field::host]);
    r.csrf_header = std::string(request["X-CSRF-Token"]);
    r.body = std::move(request.body());
    r.remote = remote;
    return r;
}

HttpResponse to_http_response(const ApiResponse& response, unsigned version, bool keep_alive,
                              bool head) {
    HttpResponse res;
    res.version(version);
    res.result(static_cast<unsigned>(response.status));
    res.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) {
        res.insert(name, value);
    }
    if (head) {
        res.content_length(response.body.size());
    } else {
        res.body() = response.body;
        res.prepare_payload();
    }
    // HTTP/1.0 closes unless asked to keep alive; HTTP/1.1 keeps alive unless told not to.
    res.keep_alive(keep_alive);
    return res;
}

}  // namespace tka::tokend
