// tokenctl's exit statuses, documented in docs/tokenctl.md so scripts can tell a typo from
// a refusal from an outage.
#pragma once

namespace tka::tokenctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;  // understood but refused: unknown org, key, token
inline constexpr int kExitUsage = 2;    // bad command line: flags, ids, TTL, e-mail
inline constexpr int kExitRedis = 3;    // Redis unreachable or answering garbage

}  // namespace tka::tokenctl
