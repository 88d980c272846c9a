// The dashboard's two static assets, embedded in tokend so the admin listener needs no
// files on disk and loads nothing from elsewhere: the style sheet (/assets/dashboard.css,
// text/css) and the script (/assets/dashboard.js, text/javascript). The pages
// (admin_pages.hpp) carry no inline script or style, so a strict Content-Security-Policy
// (default-src 'self') holds. The script only adds the copy button for a secret shown once;
// every page works without it.
#pragma once

#include <string_view>

namespace tka::tokend::admin {

inline constexpr std::string_view kCssContentType = "text/css; charset=utf-8";
inline constexpr std::string_view kJsContentType = "text/javascript; charset=utf-8";

std::string_view dashboard_css();
std::string_view dashboard_js();

}  // namespace tka::tokend::admin
