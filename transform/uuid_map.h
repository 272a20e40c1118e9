#pragma once
// A compact open-addressing hash map keyed by UUID, for the millions of small per-row entries
// of a dry run (std::unordered_map would spend ~4x the memory on nodes and pointers).
#include <cstdint>
#include <utility>
#include <vector>

#include "core/uuid.h"

namespace edpipe::transform {

template <class V>
class UuidMap {
 public:
  // The value for `key`, value-initialised when new; `inserted` says which.
  V& get(const Uuid& key, bool& inserted) {
    if ((size_ + 1) * 10 > keys_.size() * 8) grow();
    size_t i = UuidHash{}(key) & mask_;
    while (used_[i]) {
      if (keys_[i] == key) {
        inserted = false;
        return values_[i];
      }
      i = (i + 1) & mask_;
    }
    used_[i] = 1;
    keys_[i] = key;
    values_[i] = V{};
    ++size_;
    inserted = true;
    return values_[i];
  }
  const V* find(const Uuid& key) const {
    if (keys_.empty()) return nullptr;
    for (size_t i = UuidHash{}(key) & mask_; used_[i]; i = (i + 1) & mask_)
      if (keys_[i] == key) return &values_[i];
    return nullptr;
  }
  size_t size() const noexcept { return size_; }
  // Room for `n` keys without growing (before the first insert).
  void reserve(size_t n) {
    size_t cap = 64;
    while (cap * 8 < (n + 1) * 10) cap *= 2;
    if (size_ == 0 && cap > keys_.size()) {
      keys_.assign(cap, Uuid{});
      values_.assign(cap, V{});
      used_.assign(cap, 0);
      mask_ = cap - 1;
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < keys_.size(); ++i)
      if (used_[i]) f(keys_[i], values_[i]);
  }

 private:
  void grow() {
    std::vector<Uuid> old_keys = std::move(keys_);
    std::vector<V> old_values = std::move(values_);
    std::vector<uint8_t> old_used = std::move(used_);
    const size_t cap = old_keys.empty() ? 64 : old_keys.size() * 2;
    keys_.assign(cap, Uuid{});
    values_.assign(cap, V{});
    used_.assign(cap, 0);
    mask_ = cap - 1;
    size_ = 0;
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (!old_used[i]) continue;
      bool ins;
      get(old_keys[i], ins) = std::move(old_values[i]);
    }
  }

  std::vector<Uuid> keys_;
  std::vector<V> values_;
  std::vector<uint8_t> used_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace edpipe::transform
