// SlotIndex: a flat open-addressing hash index from a key to a 32-bit slot number, for
// tables whose records live in a slot array (connection_tracker.cpp). A cell is 8 bytes:
// 32 bits of the key's 64-bit hash (the "tag", which also fixes the home cell) and the slot.
// The index never stores keys: find() takes a predicate that compares the caller's key with
// the record in a candidate slot, so two keys whose hashes (or tags) collide are still told
// apart -- a collision costs a longer probe, never a wrong answer.
//
// Linear probing, at most 3/4 full, grows by doubling and shrinks by halving below 1/8;
// erase() shifts the following cells back (no tombstones) and never throws; insert() throws
// only when growing, before anything changed (reserve_one() grows ahead). Not thread safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tka::plugin {

class SlotIndex {
  public:
    static constexpr std::uint32_t kNone = 0xffffffffU;

    // The slot whose record `matches` (called with candidate slots of the same tag), or kNone.
    template <class Match>
    std::uint32_t find(std::uint64_t hash, Match&& matches) const {
        if (size_ == 0) {
            return kNone;
        }
        const std::uint32_t tag = tag_of(hash);
        for (std::size_t i = tag & mask_;; i = (i + 1) & mask_) {
            const Cell& cell = cells_[i];
            if (cell.slot == kNone) {
                return kNone;
            }
            if (cell.tag == tag && matches(cell.slot)) {
                return cell.slot;
            }
        }
    }

    // Grows now if one more insert would need it, so that the next insert() cannot throw.
    void reserve_one() {
        if ((size_ + 1) * 4 > cells_.size() * 3) {
            rehash(cells_.empty() ? 16 : cells_.size() * 2);
        }
    }

    // Adds `slot` under `hash`; the caller makes sure its key is not indexed yet.
    void insert(std::uint64_t hash, std::uint32_t slot) {
        reserve_one();
        place(Cell{tag_of(hash), slot});
        ++size_;
    }

    // Removes the cell that holds exactly `slot` under `hash`; false when there is none.
    bool erase(std::uint64_t hash, std::uint32_t slot) {
        const std::size_t at = locate(hash, slot);
        if (at == kNotFound) {
            return false;
        }
        // Backward shift: pull later cells of the cluster into the hole unless their home
        // cell lies cyclically in (hole, cell].
        std::size_t hole = at;
        for (std::size_t j = (hole + 1) & mask_; cells_[j].slot != kNone; j = (j + 1) & mask_) {
            const std::size_t home = cells_[j].tag & mask_;
            const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                cells_[hole] = cells_[j];
                hole = j;
            }
        }
        cells_[hole] = Cell{};
        --size_;
        if (cells_.size() > 16 && size_ * 8 < cells_.size()) {
            try {
                rehash(cells_.size() / 2);  // optional: erase() itself never throws
            } catch (...) {
            }
        }
        return true;
    }

    // Makes the cell that holds `old_slot` under `hash` hold `new_slot` (same key).
    bool replace(std::uint64_t hash, std::uint32_t old_slot, std::uint32_t new_slot) {
        const std::size_t at = locate(hash, old_slot);
        if (at == kNotFound) {
            return false;
        }
        cells_[at].slot = new_slot;
        return true;
    }

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return cells_.size(); }
    std::size_t bytes() const { return cells_.capacity() * sizeof(Cell); }

  private:
    struct Cell {
        std::uint32_t tag = 0;
        std::uint32_t slot = kNone;
    };
    static_assert(sizeof(Cell) == 8);
    static constexpr std::size_t kNotFound = ~std::size_t{0};

    static std::uint32_t tag_of(std::uint64_t hash) {
        return static_cast<std::uint32_t>(hash ^ (hash >> 32));
    }

    std::size_t locate(std::uint64_t hash, std::uint32_t slot) const {
        if (size_ == 0) {
            return kNotFound;
        }
        const std::uint32_t tag = tag_of(hash);
        for (std::size_t i = tag & mask_;; i = (i + 1) & mask_) {
            if (cells_[i].slot == kNone) {
                return kNotFound;
            }
            if (cells_[i].slot == slot) {
                return i;
            }
        }
    }

    void place(Cell cell) {
        std::size_t i = cell.tag & mask_;
        while (cells_[i].slot != kNone) {
            i = (i + 1) & mask_;
        }
        cells_[i] = cell;
    }

    void rehash(std::size_t capacity) {  // capacity: a power of two > size_; strong guarantee
        std::vector<Cell> old(capacity);
        old.swap(cells_);
        mask_ = capacity - 1;
        for (const Cell& cell : old) {
            if (cell.slot != kNone) {
                place(cell);
            }
        }
    }

    std::vector<Cell> cells_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

}  // namespace tka::plugin
