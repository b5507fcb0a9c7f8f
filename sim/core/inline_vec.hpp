// A vector of trivially copyable elements that keeps its first element in
// itself: no heap allocation until it holds two. A posting of the mergeable
// and small policies is one buffer in one memory block, and the driver keeps
// a posting for every ring entry: with std::vector that was two 16-byte heap
// allocations an entry (32 bytes each with malloc's header), 16 KiB of a
// 256-entry queue's memory. Same size as a std::vector (24 bytes), of which
// it leaves 4 for a next member declared [[no_unique_address]] (Posting
// keeps its bytes there): it holds at most 65,535 elements.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <new>
#include <stdexcept>
#include <type_traits>

namespace vringsim {

template <class T>
class InlineVec {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "InlineVec copies its elements as bytes");
  static_assert(sizeof(T) >= sizeof(T*), "the inline element shares its storage with the heap pointer");

 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  InlineVec() = default;
  InlineVec(std::initializer_list<T> items) { append(items.begin(), items.size()); }
  InlineVec(const InlineVec& o) { append(o.data(), o.size_); }
  InlineVec(InlineVec&& o) noexcept { take(o); }
  InlineVec& operator=(const InlineVec& o) {
    if (this != &o) {
      size_ = 0;
      append(o.data(), o.size_);
    }
    return *this;
  }
  InlineVec& operator=(InlineVec&& o) noexcept {
    if (this != &o) {
      free_heap();
      take(o);
    }
    return *this;
  }
  ~InlineVec() { free_heap(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return cap_; }
  /// Whether the elements live on the heap (more than one was ever held).
  bool on_heap() const { return cap_ > 1; }

  T* data() { return on_heap() ? heap_ : std::launder(reinterpret_cast<T*>(inline_)); }
  const T* data() const { return on_heap() ? heap_ : std::launder(reinterpret_cast<const T*>(inline_)); }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& front() { return data()[0]; }
  const T& front() const { return data()[0]; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }

  void push_back(const T& v) {
    // `v` may be one of its own elements, which growing overwrites (the
    // inline one shares its storage with the heap pointer) or frees.
    const T copy = v;
    if (size_ == cap_) grow(size_t{size_} + 1);
    data()[size_++] = copy;
  }
  void assign(const T* first, const T* last) {
    size_ = 0;
    append(first, static_cast<size_t>(last - first));
  }
  void reserve(size_t n) {
    if (n > cap_) grow(n);
  }
  /// Empties it, keeping its storage.
  void clear() { size_ = 0; }
  /// Makes room for `n` more elements at the end and returns the first of
  /// them, for the caller to write (their bytes are left as they were).
  T* extend(size_t n) {
    reserve(size_ + n);
    T* first = data() + size_;
    size_ = static_cast<uint16_t>(size_ + n);
    return first;
  }
  /// Keeps the first `n` elements (n <= size()).
  void truncate(size_t n) { size_ = static_cast<uint16_t>(std::min<size_t>(n, size_)); }

 private:
  static constexpr size_t kMax = UINT16_MAX;
  /// Room for at least `need`: twice the capacity, or more if asked, at most kMax.
  void grow(size_t need) {
    if (need > kMax) throw std::length_error("InlineVec: more than 65,535 elements");
    const size_t n = std::min(kMax, std::max(need, 2 * size_t{cap_}));
    T* p = static_cast<T*>(::operator new(n * sizeof(T)));
    if (size_) std::memcpy(static_cast<void*>(p), static_cast<const void*>(data()), size_ * sizeof(T));
    free_heap();
    heap_ = p;
    cap_ = static_cast<uint16_t>(n);
  }
  void append(const T* p, size_t n) {
    reserve(size_ + n);
    if (n) std::memcpy(static_cast<void*>(data() + size_), static_cast<const void*>(p), n * sizeof(T));
    size_ = static_cast<uint16_t>(size_ + n);
  }
  /// Takes `o`'s elements (its heap block, or a copy of its inline one) and leaves it empty.
  void take(InlineVec& o) {
    if (o.on_heap()) {
      heap_ = o.heap_;
      cap_ = o.cap_;
      o.cap_ = 1;
    } else {
      std::memcpy(inline_, o.inline_, sizeof(T));
      cap_ = 1;
    }
    size_ = o.size_;
    o.size_ = 0;
  }
  void free_heap() {
    if (on_heap()) ::operator delete(heap_);
    cap_ = 1;
  }

  union {
    alignas(T) std::byte inline_[sizeof(T)];
    T* heap_;
  };
  uint16_t size_ = 0;
  uint16_t cap_ = 1;
};

}  // namespace vringsim
