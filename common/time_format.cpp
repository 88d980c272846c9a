// Owns time as the API shows it (time_format.hpp): RFC 3339 UTC formatting and strict parsing
// with the C++20 calendar (sys_days, year_month_day, hh_mm_ss), so no gmtime/timegm, no
// time zone and no locale is involved; plus the refresh hint derived from a token's TTL.
#include "common/time_format.hpp"

#include <array>
#include <cstdio>
#include <stdexcept>

namespace tka {
namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

// The instants a four-digit year can express: 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
constexpr UnixSeconds kMinFormattable = -62167219200;
constexpr UnixSeconds kMaxFormattable = 253402300799;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The decimal value of s[pos, pos + len), or -1 when any of those is not a digit.
int digits(std::string_view s, std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
        if (!is_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

}  // namespace

UnixSeconds unix_now() {
    return std::chrono::floor<seconds>(std::chrono::system_clock::now()).time_since_epoch().count();
}

std::string format_rfc3339(UnixSeconds t) {
    if (t < kMinFormattable || t > kMaxFormattable) {
        throw std::out_of_range("format_rfc3339: instant outside years 0000..9999");
    }
    const sys_seconds tp{seconds{t}};
    const sys_days day = std::chrono::floor<days>(tp);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{tp - day};
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return std::string(buf.data());
}

std::optional<UnixSeconds> parse_rfc3339(std::string_view s) {
    // Exactly "YYYY-MM-DDTHH:MM:SSZ": 20 characters, uppercase 'T' and 'Z'.
    if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z') {
        return std::nullopt;
    }
    const int year = digits(s, 0, 4);
    const int month = digits(s, 5, 2);
    const int day = digits(s, 8, 2);
    const int hour = digits(s, 11, 2);
    const int minute = digits(s, 14, 2);
    const int second = digits(s, 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 59) {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{std::chrono::year{year},
                                          std::chrono::month{static_cast<unsigned>(month)},
                                          std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) {
        return std::nullopt;  // month 00/13+, day 00, or a day the month does not have
    }
    const sys_seconds tp =
        sys_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{minute} + seconds{second};
    return tp.time_since_epoch().count();
}

UnixSeconds refresh_recommended_at(UnixSeconds expires_at, std::int64_t ttl_seconds) {
    return expires_at - ttl_seconds / 10;
}

}  // namespace tka
