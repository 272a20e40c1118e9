#pragma once
// A compact open-addressing hash map keyed by UUID, for the millions of small per-row entries
// of a dry run (std::unordered_map would spend ~4x the memory on nodes and pointers).
//
// The table holds only each key and the number of its entry; the entries (key and value) sit in
// insertion order in fixed-size chunks. Growing the table then moves 20 bytes a key, not the
// whole entry, and never copies an entry; a new entry is written next to the one before.
// (A dry run inserts almost every key once: with entries in the table, the doublings' moves and
// first touches of fresh pages were a fifth of its time.)
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/uuid.h"

namespace edpipe::transform {

template <class V>
class UuidMap {
 public:
  UuidMap() = default;
  UuidMap(UuidMap&& o) noexcept
      : slots_(std::move(o.slots_)),
        chunks_(std::move(o.chunks_)),
        capacity_(std::exchange(o.capacity_, 0)),
        mask_(std::exchange(o.mask_, 0)),
        size_(std::exchange(o.size_, 0)) {}
  UuidMap& operator=(UuidMap&& o) noexcept {
    if (this != &o) {
      slots_ = std::move(o.slots_);
      chunks_ = std::move(o.chunks_);
      capacity_ = std::exchange(o.capacity_, 0);
      mask_ = std::exchange(o.mask_, 0);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }

  // The value for `key`, value-initialised when new; `inserted` says which.
  V& get(const Uuid& key, bool& inserted) {
    if ((size_ + 1) * 10 > capacity_ * 8) grow(capacity_ == 0 ? 64 : capacity_ * 2);
    size_t i = UuidHash{}(key) & mask_;
    for (Slot* s; (s = slots() + i)->ref != 0; i = (i + 1) & mask_) {
      if (s->key == key) {
        inserted = false;
        return entry(s->ref - 1).value;
      }
    }
    if (size_ % kChunk == 0) chunks_.push_back(std::make_unique<Entry[]>(kChunk));
    Entry& e = entry(size_);
    e.key = key;
    ++size_;
    if (size_ >= UINT32_MAX) throw std::length_error("UuidMap: more than 2^32 - 2 keys");
    slots()[i] = Slot{key, static_cast<uint32_t>(size_)};
    inserted = true;
    return e.value;
  }
  const V* find(const Uuid& key) const {
    if (capacity_ == 0) return nullptr;
    for (size_t i = UuidHash{}(key) & mask_; slots()[i].ref != 0; i = (i + 1) & mask_)
      if (slots()[i].key == key) return &entry(slots()[i].ref - 1).value;
    return nullptr;
  }
  // Starts loading the slot where `key`'s probe begins: a caller that knows its next keys asks a
  // few ahead, so that the table's cache misses (one a key in a table of millions) overlap.
  void prefetch(const Uuid& key) const noexcept {
    if (capacity_ != 0) __builtin_prefetch(slots() + (UuidHash{}(key) & mask_));
  }
  size_t size() const noexcept { return size_; }
  // The key inserted n-th (from 0): entries keep their insertion order.
  const Uuid& key_at(size_t n) const noexcept { return entry(n).key; }
  // Room for `n` keys without growing.
  void reserve(size_t n) {
    size_t cap = 64;
    while (cap * 8 < (n + 1) * 10) cap *= 2;
    if (cap > capacity_) grow(cap);
  }
  // In insertion order.
  template <class F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < size_; ++i) f(entry(i).key, entry(i).value);
  }

 private:
  struct Slot {
    Uuid key;
    uint32_t ref;  // the entry's number + 1; 0: a free slot
  };
  static_assert(std::is_trivially_copyable_v<Slot> && sizeof(Slot) == 20);
  struct Entry {
    Uuid key;
    V value{};
  };
  static constexpr size_t kChunk = 4096;  // entries a chunk

  Entry& entry(size_t n) const noexcept { return chunks_[n / kChunk][n % kChunk]; }
  Slot* slots() const noexcept { return slots_.get(); }

  void grow(size_t cap) {
    // A calloc'd table of zeros is all free slots, and a large one comes as fresh zero pages.
    std::unique_ptr<Slot, void (*)(void*)> table(static_cast<Slot*>(std::calloc(cap, sizeof(Slot))), std::free);
    if (!table) throw std::bad_alloc();
    const size_t mask = cap - 1;
    for (size_t i = 0; i < capacity_; ++i) {
      const Slot& s = slots()[i];
      if (s.ref == 0) continue;
      size_t j = UuidHash{}(s.key) & mask;
      while (table.get()[j].ref != 0) j = (j + 1) & mask;
      table.get()[j] = s;
    }
    slots_ = std::move(table);
    capacity_ = cap;
    mask_ = mask;
  }

  std::unique_ptr<Slot, void (*)(void*)> slots_{nullptr, std::free};
  std::vector<std::unique_ptr<Entry[]>> chunks_;
  size_t capacity_ = 0, mask_ = 0, size_ = 0;
};

}  // namespace edpipe::transform
