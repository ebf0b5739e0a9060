// A bounded table whose entries expire `lifetime` after they were last
// touched (inserted, or touch()ed): a list in the order of the last touch
// beside a hash index, so finding, inserting, touching, expiring and
// evicting are all O(1) (expiry amortised: each entry leaves once). What a
// peer or a stranger can fill (relay routes, rate-limit buckets, the NOTIFY
// table, candidate registrations) lives in one of these, with a keyed hash
// (crypto/keyed_hash.h) where the other side chooses the keys: DESIGN.md §6.
//
// When full, an insert first drops what expired, then the least recently
// touched entry (evict_oldest) or, with refuse_when_full, nothing: the new
// key is refused and the caller decides (the kernel's rate limiter refuses).
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

#include "util/time.h"

namespace wgp {

template <typename Key, typename Value, typename Hash>
class LruTable {
 public:
  enum class WhenFull { kEvictOldest, kRefuse };

  LruTable(size_t capacity, Duration lifetime, WhenFull when_full = WhenFull::kEvictOldest,
           Hash hash = Hash())
      : capacity_(capacity), lifetime_(lifetime), when_full_(when_full), index_(16, hash) {}

  // The live entry for `key`, or nullptr; an expired one is dropped. Does
  // not count as a touch.
  Value* find(const Key& key, Instant now) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    if (expired(*it->second, now)) {
      erase_at(it);
      return nullptr;
    }
    return &it->second->value;
  }
  const Value* peek(const Key& key, Instant now) const {
    auto it = index_.find(key);
    return it == index_.end() || expired(*it->second, now) ? nullptr : &it->second->value;
  }
  // The live entry for `key`, touched now; nullptr when there is none.
  Value* touch(const Key& key, Instant now) {
    Value* v = find(key, now);
    if (v) move_to_back(index_.find(key)->second, now);
    return v;
  }
  // The entry for `key` (a new one made by `make()` when there is no live
  // one), touched now. nullptr only when the table is full and refuses.
  template <typename Make>
  Value* touch_or_insert(const Key& key, Instant now, Make&& make) {
    return touch_or_insert(key, now, make, [](const Key&, const Value&) {});
  }
  // The same, telling on_dropped(key, value) of each entry that leaves to
  // make room (expired ones, then the evicted one), for a caller that keeps
  // something in step with the table.
  template <typename Make, typename Dropped>
  Value* touch_or_insert(const Key& key, Instant now, Make&& make, Dropped&& on_dropped) {
    if (Value* v = touch(key, now)) return v;
    if (index_.size() >= capacity_) {
      expire(now, on_dropped);
      if (index_.size() >= capacity_) {
        if (when_full_ == WhenFull::kRefuse || order_.empty()) return nullptr;
        ++evicted_;
        on_dropped(order_.front().key, order_.front().value);
        erase_at(index_.find(order_.front().key));
      }
    }
    order_.push_back(Node{key, make(), now});
    index_.emplace(key, std::prev(order_.end()));
    return &order_.back().value;
  }
  // The entry for `key` set to `value`, touched now; nullptr as above.
  Value* insert(const Key& key, Value value, Instant now) {
    Value* v = touch_or_insert(key, now, [&] { return value; });
    if (v) *v = std::move(value);
    return v;
  }
  bool erase(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    erase_at(it);
    return true;
  }
  // The entry for `key` whether or not it expired (until expire() runs).
  const Value* get(const Key& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->value;
  }
  // Drops every entry that expired by `now`, telling on_expired(key, value).
  template <typename Fn>
  void expire(Instant now, Fn&& on_expired) {
    while (!order_.empty() && expired(order_.front(), now)) {
      on_expired(order_.front().key, order_.front().value);
      erase_at(index_.find(order_.front().key));
    }
  }
  void expire(Instant now) {
    expire(now, [](const Key&, const Value&) {});
  }
  // When the next entry expires (the least recently touched one).
  std::optional<Instant> next_expiry() const {
    if (order_.empty()) return std::nullopt;
    return order_.front().touched + lifetime_;
  }
  // Every entry, least recently touched first (expired ones included until
  // expire() runs): fn(key, value).
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Node& n : order_) fn(n.key, n.value);
  }

  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }
  Duration lifetime() const { return lifetime_; }
  uint64_t evicted() const { return evicted_; }  // live entries pushed out when full
  void clear() {
    index_.clear();
    order_.clear();
  }

 private:
  struct Node {
    Key key;
    Value value;
    Instant touched;
  };
  using Order = std::list<Node>;
  using Index = std::unordered_map<Key, typename Order::iterator, Hash>;

  bool expired(const Node& n, Instant now) const { return now - n.touched >= lifetime_; }
  void move_to_back(typename Order::iterator it, Instant now) {
    it->touched = std::max(it->touched, now);
    order_.splice(order_.end(), order_, it);
  }
  void erase_at(typename Index::iterator it) {
    order_.erase(it->second);
    index_.erase(it);
  }

  size_t capacity_;
  Duration lifetime_;
  WhenFull when_full_;
  Order order_;
  Index index_;
  uint64_t evicted_ = 0;
};

}  // namespace wgp
