// ReplicaIndex: the token replica's hash indexes (password digest -> slot, token id -> slot,
// org id -> org number), 4 bytes per cell, so that a million tokens cost about 17 bytes of
// index each (two indexes at most 3/4 and at least 3/8 full).
//
// A cell is 0 (empty) or a 5-bit fingerprint of the key's hash (bits 31..27) above the slot
// number + 1 (bits 26..0): slots stay below kMaxSlots. The index never stores keys: find()
// takes a predicate that compares the caller's key with the record in a candidate slot, and
// the fingerprint spares that comparison (a cache miss into the records) for 31 of 32 other
// keys met while probing. Growing and erasing need the hash of a slot's key (the home cell of
// a moved cell), which the caller supplies as `hash_of(slot)` / `rebuild`.
//
// Linear probing; home cell = low bits of the 64-bit hash, fingerprint = its top 5 bits.
// Grows by doubling above 3/4 full (the old cells are dropped first and the table rebuilt
// from the caller's records, so growing never holds both tables); erase() shifts the
// following cells back (no tombstones).
// Not thread safe (the replica's mutex guards it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace tka::plugin {

class ReplicaIndex {
  public:
    static constexpr std::uint32_t kNone = 0xffffffffU;
    static constexpr unsigned kSlotBits = 27;
    static constexpr std::size_t kMaxSlots = (std::size_t{1} << kSlotBits) - 1;

    // The slot for which `matches(slot)` holds among those indexed under `hash`, or kNone.
    template <class Match>
    std::uint32_t find(std::uint64_t hash, Match&& matches) const {
        if (size_ == 0) {
            return kNone;
        }
        const std::uint32_t print = fingerprint(hash);
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            const std::uint32_t cell = cells_[i];
            if (cell == 0) {
                return kNone;
            }
            if ((cell & ~kSlotMask) == print && matches((cell & kSlotMask) - 1)) {
                return (cell & kSlotMask) - 1;
            }
        }
    }

    // Makes room for one more cell, so that the next insert() does not grow. When the table
    // must double, `rebuild(place)` is called on the new, empty table and must call
    // place(hash, slot) once for every indexed slot (the replica walks its entries in
    // memory order: far cheaper than visiting them in the old table's random order).
    template <class Rebuild>
    void reserve_one(Rebuild&& rebuild) {
        if ((size_ + 1) * 4 <= capacity_ * 3) {
            return;
        }
        const std::size_t capacity = capacity_ == 0 ? 16 : capacity_ * 2;
        cells_.reset(new std::uint32_t[capacity]());
        capacity_ = capacity;
        mask_ = capacity - 1;
        rebuild([this](std::uint64_t hash, std::uint32_t slot) { place(hash, slot); });
    }

    // Adds `slot` (< kMaxSlots) under `hash`, after reserve_one(); the caller makes sure it
    // is not indexed yet.
    void insert(std::uint64_t hash, std::uint32_t slot) {
        place(hash, slot);
        ++size_;
    }

    // Removes the cell of `slot` under `hash`; false when there is none.
    template <class HashOf>
    bool erase(std::uint64_t hash, std::uint32_t slot, HashOf&& hash_of) {
        if (size_ == 0) {
            return false;
        }
        const std::uint32_t want = fingerprint(hash) | (slot + 1);
        std::size_t hole = hash & mask_;
        while (cells_[hole] != want) {
            if (cells_[hole] == 0) {
                return false;
            }
            hole = (hole + 1) & mask_;
        }
        // Backward shift: pull later cells of the cluster into the hole unless their home
        // cell lies cyclically in (hole, cell].
        for (std::size_t j = (hole + 1) & mask_; cells_[j] != 0; j = (j + 1) & mask_) {
            const std::size_t home = hash_of((cells_[j] & kSlotMask) - 1) & mask_;
            const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                cells_[hole] = cells_[j];
                hole = j;
            }
        }
        cells_[hole] = 0;
        --size_;
        return true;
    }

    // Forgets everything and releases the cells.
    void clear() {
        cells_.reset();
        capacity_ = 0;
        mask_ = 0;
        size_ = 0;
    }

    std::size_t size() const { return size_; }
    std::size_t bytes() const { return capacity_ * sizeof(std::uint32_t); }

  private:
    static constexpr std::uint32_t kSlotMask = (std::uint32_t{1} << kSlotBits) - 1;

    static std::uint32_t fingerprint(std::uint64_t hash) {
        return static_cast<std::uint32_t>(hash >> 59) << kSlotBits;
    }

    void place(std::uint64_t hash, std::uint32_t slot) {
        std::size_t i = hash & mask_;
        while (cells_[i] != 0) {
            i = (i + 1) & mask_;
        }
        cells_[i] = fingerprint(hash) | (slot + 1);
    }

    std::unique_ptr<std::uint32_t[]> cells_;
    std::size_t capacity_ = 0;  // cells, a power of two (or 0)
    std::size_t mask_ = 0;      // capacity_ - 1
    std::size_t size_ = 0;      // non-empty cells
};

}  // namespace tka::plugin
