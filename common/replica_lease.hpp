// The timing contract between brokers that answer CONNECTs from a local token replica
// (plugin/token_replica.hpp, kept by plugin/event_consumer.cpp) and the writers that change
// credentials (common/replica_fence.hpp, called by TokenStore / OrgStore in tokend and
// tokenctl). Both sides include this header, so the numbers cannot drift apart.
//
// Registry (docs/redis-layout.md): ZSET tka:replicas (replica id -> Redis server time in ms
// of its last heartbeat) and HASH tka:replicas:applied (replica id -> last stream id it
// has applied). Every time below that is compared with a score is Redis's own clock
// (redis.call('TIME') inside the scripts); the lease itself runs on the broker's
// steady_clock. No two clocks are ever compared with each other: only the *durations* are,
// so the margin kReplicaStaleAfter - kReplicaLease must cover rate drift, not offsets.
//
// Broker: after every XREAD return it runs the heartbeat script (score := server now,
// applied := last id read). The script also answers whether the previous registration was
// still fresh and what the stream's last id is now. After a "break" (no fresh previous
// registration, or the broker's own chain of successful heartbeats was interrupted) the
// broker notes need := that last id. A heartbeat renews the lease only when
// applied >= need; the lease then ends at (steady time taken just before sending that
// heartbeat) + kReplicaLease. TokenReplica::lookup answers only inside the lease.
//
// Writer: after a commit C (stream id c) it runs the fence: target T := the stream's last
// id (>= c), then polls until every registration that is fresh (server now - score <
// kReplicaStaleAfter) has applied >= T, giving up after kReplicaFenceBound.
//
// Invariant: when a write call returns, every broker has either applied the write or
// stopped answering from its replica. Proof, for a broker B and a fence that returns after
// its last check at server time r:
//  (a) B was fresh at r with applied >= T: B applied C before that heartbeat, and its
//      replica only moves forward (a re-sync reflects Redis after C), so it never again
//      answers from a state without C.
//  (b) B was stale or absent at r: its last heartbeat h before r has h <= r -
//      kReplicaStaleAfter. A lease granted by a heartbeat at or before h ended before
//      h + kReplicaLease < r, because the steady time it starts from was taken before h.
//      The first heartbeat of B after r finds its previous registration stale, i.e. a
//      break, and sets need >= T (C committed before the fence began). Every later lease
//      is granted at or after that break and only with applied >= need >= T.
//  So from r on, B answers from its replica only once it has applied C. A registration
//  written after a break is fresh from that moment, so fences started later wait for B
//  even while B has no lease yet; they never wait for a broker longer than its
//  registration stays fresh, so a dead broker costs a writer at most kReplicaStaleAfter.
//  If the fence gives up (kReplicaFenceBound passed with a fresh replica still behind,
//  which needs a broker that heartbeats but does not apply), the write has still
//  committed; the caller is told (FenceResult::timed_out) and logs/counts it.
// Assumption: Redis's wall clock does not jump forward by more than the margin
// (kReplicaStaleAfter - kReplicaLease) during a fence; NTP slews, it does not jump.
#pragma once

#include <chrono>

namespace tka {

// XREAD BLOCK of the event consumer while the replica is on: the longest gap between two
// heartbeats of an idle, healthy broker.
inline constexpr std::chrono::milliseconds kReplicaHeartbeatInterval{250};
// How long one successful heartbeat lets the replica answer.
inline constexpr std::chrono::milliseconds kReplicaLease{1000};
// A registration older than this (Redis server time) is ignored by writers.
inline constexpr std::chrono::milliseconds kReplicaStaleAfter{1500};
// Longest a writer waits for lagging replicas in total.
inline constexpr std::chrono::milliseconds kReplicaFenceBound{1750};
// Registrations older than this are deleted by any broker's heartbeat (dead brokers).
inline constexpr std::chrono::milliseconds kReplicaForgetAfter{5 * 60 * 1000};

// The margin of proof step (b), and a lease long enough to survive a few missed beats.
static_assert(kReplicaStaleAfter - kReplicaLease >= std::chrono::milliseconds{250});
static_assert(kReplicaLease >= 3 * kReplicaHeartbeatInterval);
static_assert(kReplicaFenceBound >= kReplicaStaleAfter);
static_assert(kReplicaForgetAfter > 10 * kReplicaStaleAfter);

}  // namespace tka
