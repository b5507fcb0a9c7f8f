// A first-in first-out queue that keeps its storage. std::deque frees a
// block and takes a new one every few entries a queue moves through (every
// 10 of the device's finished frames, every 16 of the tap's), an allocation
// and a free per handful of packets on the steady-state path. Here the
// entries live in one vector from a head index: emptied, the queue starts
// over at the front of the same storage; a queue that never empties drops
// its consumed front once that is at least half the storage.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace vringsim {

template <class T>
class Fifo {
 public:
  using const_iterator = typename std::vector<T>::const_iterator;

  bool empty() const { return head_ == end_; }
  size_t size() const { return end_ - head_; }
  const T& front() const { return items_[head_]; }
  T& front() { return items_[head_]; }
  const T& back() const { return items_.back(); }
  void push_back(const T& v) {
    items_.push_back(v);
    ++end_;
  }
  void push_back(T&& v) {
    items_.push_back(std::move(v));
    ++end_;
  }
  void pop_front() {
    if (++head_ == end_) {
      clear();
    } else if (head_ >= kCompactAfter && 2 * head_ >= end_) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      end_ -= head_;
      head_ = 0;
    }
  }
  void clear() {
    items_.clear();
    head_ = end_ = 0;
  }
  /// The entries, oldest first.
  const_iterator begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  const_iterator end() const { return items_.end(); }

 private:
  static constexpr size_t kCompactAfter = 4096;
  std::vector<T> items_;
  size_t head_ = 0;
  size_t end_ = 0;  ///< items_.size(), kept: the division by sizeof(T) it costs was on every test
};

}  // namespace vringsim
