#pragma once
// Text that records and rows view: copied in once, never changed, released all at once.
//
// Who owns the text a view points to:
//  - ingest::IngestBatch::text: the text of the batch's records, until the batch is cleared
//    (the reader's next block);
//  - an open invocation in the transform: the text of its row states, copied in from the
//    records that win a step (losers are never copied);
//  - transform::RowBatch::text: the arenas of the invocations it hands on, shared (SharedText)
//    between the parts a load splits it into, released when the last part is loaded or tallied.
// So a view is a borrow whose lender is named by the type that carries it; nothing frees one
// string at a time, and a row state is trivially copyable.
#include <concepts>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

// Marks a view returned by a member as borrowed from the object: clang then warns where the
// lender is a temporary that dies before the view (the fuzz build compiles with clang).
#if defined(__clang__)
#define EDPIPE_LIFETIMEBOUND [[clang::lifetimebound]]
#else
#define EDPIPE_LIFETIMEBOUND
#endif

// Under AddressSanitizer, memory a view may no longer read is poisoned: an arena's unused room
// and everything clear() recycles, and (ingest/line_reader.cpp) a read block that fill() moved
// on from. A view kept past its lender's clear() then fails at once as use-after-poison, not
// later as wrong text, as ClickHouse's Arena does. Nothing of it is compiled in other builds.
#if defined(__SANITIZE_ADDRESS__)
#define EDPIPE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDPIPE_ASAN 1
#endif
#endif
#ifdef EDPIPE_ASAN
#include <sanitizer/asan_interface.h>
#define EDPIPE_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define EDPIPE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define EDPIPE_POISON(p, n) ((void)(p), (void)(n))
#define EDPIPE_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace edpipe {

class TextArena {
 public:
  // `first_block`: the size of the first block; each next one is twice as large, up to kMaxBlock.
  explicit TextArena(size_t first_block = 1024) noexcept : next_block_(first_block) {}
  TextArena(TextArena&& o) noexcept { *this = std::move(o); }
  ~TextArena();
  TextArena& operator=(TextArena&& o) noexcept;
  TextArena(const TextArena&) = delete;
  TextArena& operator=(const TextArena&) = delete;

  // A copy of `s` that lives as long as this arena, or the arena that absorbs this one.
  std::string_view keep(std::string_view s) EDPIPE_LIFETIMEBOUND {
    if (s.empty()) return std::string_view("", 0);
    char* p;
    if (s.size() <= left_) [[likely]] {
      p = next_;
      next_ += s.size();
      left_ -= s.size();
    } else {
      p = room_for(s.size());
    }
    EDPIPE_UNPOISON(p, s.size());
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  template <class T>  // exactly an optional view: a std::string goes to the overload above
    requires std::same_as<T, std::optional<std::string_view>>
  std::optional<std::string_view> keep(const T& s) EDPIPE_LIFETIMEBOUND {
    return s ? std::optional<std::string_view>(keep(*s)) : std::nullopt;
  }

  // Takes over every block of `other` (left empty): its views stay valid, now owned here.
  void absorb(TextArena&& other);
  // Forgets all text, keeping its blocks for the next (a batch arena is refilled at every read).
  // Views into this arena dangle after it.
  void clear() noexcept;
  bool empty() const noexcept { return held_ == 0; }
  size_t bytes_held() const noexcept { return held_; }  // block capacity, used or not

  static constexpr size_t kMaxBlock = 1 << 20;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };
  // Room for `n` bytes that do not fit the current block: the next block (a kept one or a new
  // one), or for a string that would leave most of a block unused, a block of its own.
  char* room_for(size_t n);

  std::vector<Block> blocks_;  // blocks_[current_] is being filled; those after it are empty
  size_t current_ = 0;
  std::vector<std::unique_ptr<char[]>> whole_;  // strings with a block of their own, absorbed blocks
  char* next_ = nullptr;
  size_t left_ = 0;
  size_t held_ = 0;
  size_t next_block_ = 1024;
};

// An arena shared by the batches that view it (read-only once shared).
using SharedText = std::shared_ptr<const TextArena>;

}  // namespace edpipe
