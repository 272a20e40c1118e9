#include "core/text_arena.h"

#include <algorithm>

namespace edpipe {

TextArena::~TextArena() {
  // The allocator would take poisoned bytes back as they are; it expects them addressable.
  for (const auto& b : blocks_) EDPIPE_UNPOISON(b.data.get(), b.size);
}

TextArena& TextArena::operator=(TextArena&& o) noexcept {
  if (this == &o) return *this;
  blocks_ = std::move(o.blocks_);
  whole_ = std::move(o.whole_);
  current_ = o.current_;
  next_ = o.next_;
  left_ = o.left_;
  held_ = o.held_;
  next_block_ = o.next_block_;
  o.blocks_.clear();
  o.whole_.clear();
  o.current_ = 0;
  o.next_ = nullptr;
  o.left_ = o.held_ = 0;
  return *this;
}

char* TextArena::room_for(size_t n) {
  if (n > next_block_ / 2) {
    whole_.push_back(std::make_unique_for_overwrite<char[]>(n));  // all of it handed out
    held_ += n;
    return whole_.back().get();
  }
  const size_t after = next_ ? current_ + 1 : 0;
  if (after < blocks_.size() && blocks_[after].size >= n) {
    current_ = after;  // a block kept by clear()
  } else {
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(after),
                   Block{std::make_unique_for_overwrite<char[]>(next_block_), next_block_});
    EDPIPE_POISON(blocks_[after].data.get(), next_block_);  // only what keep() hands out is readable
    held_ += next_block_;
    current_ = after;
    next_block_ = std::min(next_block_ * 2, kMaxBlock);
  }
  char* p = blocks_[current_].data.get();
  next_ = p + n;
  left_ = blocks_[current_].size - n;
  return p;
}

void TextArena::absorb(TextArena&& other) {
  if (other.held_ == 0) return;
  if (held_ == 0) {
    *this = std::move(other);
    return;
  }
  // Theirs are full for us: held whole, never written to again.
  whole_.reserve(whole_.size() + other.whole_.size() + other.blocks_.size());
  for (auto& b : other.blocks_) whole_.push_back(std::move(b.data));
  for (auto& w : other.whole_) whole_.push_back(std::move(w));
  held_ += other.held_;
  other = TextArena(other.next_block_);
}

void TextArena::clear() noexcept {
  whole_.clear();
  held_ = 0;
  for (const auto& b : blocks_) {
    held_ += b.size;
    EDPIPE_POISON(b.data.get(), b.size);  // every view into them dangles from here
  }
  current_ = 0;
  next_ = blocks_.empty() ? nullptr : blocks_[0].data.get();
  left_ = blocks_.empty() ? 0 : blocks_[0].size;
}

}  // namespace edpipe
