// The HTTP/1.1 message rules of tokend's front door, apart from the I/O so that they are
// unit-tested and fuzzed on their own: which request headers are acceptable (RFC 9112
// framing: one valid Content-Length or `Transfer-Encoding: chunked`, never both, never
// anything ambiguous; a bounded number of fields; HTTP/1.0 or 1.1 with a Host), the
// ApiRequest a parsed request becomes, and the HTTP response an ApiResponse becomes.
// Beast's parser already refuses malformed syntax and conflicting lengths; these checks
// add what it accepts but a strict server must not (a repeated Content-Length, a list of
// lengths, transfer codings other than chunked).
#pragma once

#include <boost/beast/http.hpp>

#include <optional>
#include <string>

#include "tokend/admin_request.hpp"
#include "tokend/api.hpp"
#include "tokend/http_limits.hpp"
#include "tokend/responses.hpp"

namespace tka::tokend {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// nullopt when the header may be served; otherwise the error to answer before closing:
// 400 (ambiguous or unsupported framing, missing Host, other versions), 431 (too many
// fields), 413 (declared body larger than limits.max_body_bytes).
std::optional<ApiError> check_request_header(const http::request_header<>& header,
                                             const HttpLimits& limits);

// The status for a parse or read error from Beast: 431 for a header over the limit, 413
// for a body over the limit, 400 for anything malformed.
ApiError error_for_parse_failure(const boost::system::error_code& ec);

// Method, path (the target without its query string), content type and body.
ApiRequest to_api_request(HttpRequest& request, const std::string& remote);

// What the admin listener's handler reads of a request (tokend/admin_request.hpp).
AdminRequest to_admin_request(HttpRequest& request, const std::string& remote);

// The wire response: status, headers, body (empty for HEAD, with the length of the body
// a GET would get), `Connection: close` when the connection ends after it.
HttpResponse to_http_response(const ApiResponse& response, unsigned version, bool keep_alive,
                              bool head);

}  // namespace tka::tokend
