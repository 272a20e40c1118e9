#include "core/text_arena.h"

#include <algorithm>
#include <iterator>

namespace edpipe {

TextArena& TextArena::operator=(TextArena&& o) noexcept {
  if (this == &o) return *this;
  blocks_ = std::move(o.blocks_);
  next_ = o.next_;
  left_ = o.left_;
  held_ = o.held_;
  next_block_ = o.next_block_;
  o.blocks_.clear();
  o.next_ = nullptr;
  o.left_ = o.held_ = 0;
  return *this;
}

char* TextArena::grow(size_t n) {
  if (n > next_block_ / 2 && n > left_) {
    // Large: a block of its own, so the current block's room is not thrown away.
    auto& b = blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(n));
    held_ += n;
    if (next_) std::swap(blocks_.back(), blocks_[blocks_.size() - 2]);  // the current block stays last
    return (next_ ? blocks_[blocks_.size() - 2] : b).get();
  }
  const size_t size = std::max(next_block_, n);
  blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));
  held_ += size;
  next_ = blocks_.back().get();
  left_ = size;
  next_block_ = std::min(next_block_ * 2, kMaxBlock);
  return next_;
}

void TextArena::absorb(TextArena&& other) {
  if (other.blocks_.empty()) return;
  if (blocks_.empty()) {
    *this = std::move(other);
    return;
  }
  // Ours stays current (last): theirs go in front of it.
  blocks_.insert(blocks_.end() - 1, std::make_move_iterator(other.blocks_.begin()),
                 std::make_move_iterator(other.blocks_.end()));
  held_ += other.held_;
  other.blocks_.clear();
  other.next_ = nullptr;
  other.left_ = other.held_ = 0;
}

void TextArena::clear() noexcept {
  if (blocks_.empty()) return;
  if (!next_) {  // only blocks of their own
    blocks_.clear();
    left_ = held_ = 0;
    return;
  }
  // The current block is the last one and starts left_ + used bytes before next_: keep it.
  std::unique_ptr<char[]> current = std::move(blocks_.back());
  const size_t size = static_cast<size_t>(next_ - current.get()) + left_;
  blocks_.clear();
  next_ = current.get();
  left_ = size;
  held_ = size;
  blocks_.push_back(std::move(current));
}

}  // namespace edpipe
