// Cryptokey routing (PROTOCOL.md §4.5): which peer owns an inner IP address.
// The same table picks the peer for an outgoing packet (by destination) and
// checks that a decrypted packet came from the peer allowed to send from its
// source address.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/ip.h"
#include "util/bytes.h"

namespace wgp {

// AllowedIps<Peer>: IPv4 and IPv6 prefixes mapped to Peer*, longest prefix wins.
//
// Why a path-compressed binary trie (as the kernel's allowedips.c and wg-go):
// a lookup walks one root-to-leaf path, comparing at most two 64-bit words per
// node, and stops at the first node whose prefix does not match. With 10,000
// host routes the path is about log2(10,000) ≈ 14–20 nodes deep whatever the
// family, and a miss is found as fast as a hit. A hash table per prefix length
// would cost up to 33 (IPv4) or 129 (IPv6) probes on a miss or a short match.
// Each prefix adds at most two nodes (itself and one branch point), and nothing
// is allocated by lookup. Cost is cache misses along the path: measured with
// random queries, ~40 ns per lookup at 100 peers, ~200 ns at 10,000 peers whose
// trie no longer fits in L2 (real traffic has more locality).
//
// Invariants: a node's key is its prefix with host bits cleared; a child's
// prefix extends its parent's; a node without a peer is a branch point with
// exactly two children. Prefixes of one peer are kept in insertion order.
//
// Not synchronized: the owner serializes mutations against lookups (lookups
// may run concurrently with each other). Peers must outlive their entries:
// call remove_peer before destroying one.
template <class Peer>
class AllowedIps {
 public:
  AllowedIps() = default;
  ~AllowedIps() { clear(); }
  AllowedIps(const AllowedIps&) = delete;
  AllowedIps& operator=(const AllowedIps&) = delete;
  AllowedIps(AllowedIps&& other) noexcept { take(other); }
  AllowedIps& operator=(AllowedIps&& other) noexcept {
    if (this != &other) {
      clear();
      take(other);
    }
    return *this;
  }

  // Maps `prefix` (host bits are masked here too) to `peer`; a prefix another
  // peer owned moves to `peer`, at the end of its list. Re-inserting a prefix
  // the peer already owns changes nothing. False (and no change) if `peer` is
  // null or the length exceeds the family's width.
  bool insert(const IpPrefix& prefix, Peer* peer) {
    const bool v6 = !prefix.address.is_v4();
    if (peer == nullptr || prefix.length > width(v6)) return false;
    const uint8_t cidr = prefix.length;
    const Key key = mask(load_key(prefix.address.bytes.data(), v6), cidr);
    Node** slot = &root_[v6];
    Node* parent = nullptr;
    // Descend through every node whose prefix is a prefix of the new one.
    while (*slot && (*slot)->cidr <= cidr && matches(*slot, key)) {
      Node* node = *slot;
      if (node->cidr == cidr) {
        assign(node, peer);
        return true;
      }
      parent = node;
      slot = &node->child[bit_at(key, node->cidr)];
    }
    Node* fresh = new_node(key, cidr, v6, parent);
    assign(fresh, peer);
    Node* down = *slot;
    if (down == nullptr) {
      *slot = fresh;
      return true;
    }
    const uint8_t common = std::min(cidr, common_bits(down->key, key));
    if (common == cidr) {
      // The new prefix contains `down`: it goes between parent and `down`.
      fresh->child[bit_at(down->key, cidr)] = down;
      down->parent = fresh;
      *slot = fresh;
    } else {
      // They diverge after `common` bits: a branch point holds both.
      Node* branch = new_node(mask(key, common), common, v6, parent);
      branch->child[bit_at(down->key, common)] = down;
      branch->child[bit_at(key, common)] = fresh;
      down->parent = branch;
      fresh->parent = branch;
      *slot = branch;
    }
    return true;
  }

  // Removes `prefix` if `peer` owns it; true if something was removed.
  bool remove(const IpPrefix& prefix, const Peer* peer) {
    const bool v6 = !prefix.address.is_v4();
    if (peer == nullptr || prefix.length > width(v6)) return false;
    const Key key = mask(load_key(prefix.address.bytes.data(), v6), prefix.length);
    Node* node = root_[v6];
    while (node && node->cidr < prefix.length && matches(node, key)) {
      node = node->child[bit_at(key, node->cidr)];
    }
    if (!node || node->cidr != prefix.length || !(node->key == key) || node->peer != peer) {
      return false;
    }
    unlink(node);
    remove_node(node);
    return true;
  }

  // Removes every prefix of `peer`; returns how many there were.
  size_t remove_peer(const Peer* peer) {
    auto it = by_peer_.find(peer);
    if (it == by_peer_.end()) return 0;
    std::vector<Node*> nodes = std::move(it->second);
    by_peer_.erase(it);
    for (Node* node : nodes) remove_node(node);
    return nodes.size();
  }

  // The prefixes `peer` owns, in the order they were given to it.
  std::vector<IpPrefix> prefixes_of(const Peer* peer) const {
    std::vector<IpPrefix> out;
    auto it = by_peer_.find(peer);
    if (it == by_peer_.end()) return out;
    out.reserve(it->second.size());
    for (const Node* node : it->second) out.push_back(to_prefix(node));
    return out;
  }

  // The peer owning the longest prefix that contains the address given as its
  // 4 (IPv4) or 16 (IPv6) network-order bytes; nullptr if none, or if the view
  // has another size. Hot path: no allocation, no locking.
  Peer* lookup(ByteView address) const {
    if (address.size() != 4 && address.size() != 16) return nullptr;
    const bool v6 = address.size() == 16;
    const uint8_t max = width(v6);
    const Key key = load_key(address.data(), v6);
    Peer* found = nullptr;
    const Node* node = root_[v6];
    while (node && matches(node, key)) {
      if (node->peer) found = node->peer;
      if (node->cidr == max) break;
      node = node->child[bit_at(key, node->cidr)];
    }
    return found;
  }
  Peer* lookup(const IpAddress& address) const { return lookup(address.view()); }

  // Number of prefixes held (both families).
  size_t size() const { return size_; }
  // Number of trie nodes, branch points included: at most 2 × size() − 1 per
  // family. For tests and diagnostics.
  size_t node_count() const { return nodes_; }

  void clear() {
    for (Node*& root : root_) {
      std::vector<Node*> stack;
      if (root) stack.push_back(root);
      while (!stack.empty()) {
        Node* node = stack.back();
        stack.pop_back();
        for (Node* child : node->child) {
          if (child) stack.push_back(child);
        }
        delete node;
      }
      root = nullptr;
    }
    by_peer_.clear();
    size_ = 0;
    nodes_ = 0;
  }

 private:
  // An address as a 128-bit big-endian number; IPv4 fills the top 32 bits.
  struct Key {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const Key&) const = default;
  };

  struct Node {
    Key key;
    uint8_t cidr = 0;
    bool v6 = false;
    Peer* peer = nullptr;  // null: a branch point
    Node* child[2] = {nullptr, nullptr};
    Node* parent = nullptr;
  };

  static constexpr uint8_t width(bool v6) { return v6 ? 128 : 32; }

  static uint64_t load_be64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
    return v;
  }

  static Key load_key(const uint8_t* bytes, bool v6) {
    if (v6) return Key{load_be64(bytes), load_be64(bytes + 8)};
    return Key{uint64_t(bytes[0]) << 56 | uint64_t(bytes[1]) << 48 | uint64_t(bytes[2]) << 40 |
                   uint64_t(bytes[3]) << 32,
               0};
  }

  // `k` with every bit after the first `cidr` cleared.
  static Key mask(Key k, uint8_t cidr) {
    const uint64_t hi_mask = cidr >= 64  ? ~uint64_t(0)
                             : cidr == 0 ? 0
                                         : ~uint64_t(0) << (64 - cidr);
    const uint64_t lo_mask = cidr <= 64 ? 0 : ~uint64_t(0) << (128 - cidr);
    return Key{k.hi & hi_mask, k.lo & lo_mask};
  }

  // Bit `index` (0 = most significant) of `k`; index < 128.
  static int bit_at(const Key& k, uint8_t index) {
    return index < 64 ? int(k.hi >> (63 - index) & 1) : int(k.lo >> (127 - index) & 1);
  }

  static uint8_t common_bits(const Key& a, const Key& b) {
    if (a.hi != b.hi) return uint8_t(std::countl_zero(a.hi ^ b.hi));
    return uint8_t(64 + std::countl_zero(a.lo ^ b.lo));  // 128 when equal
  }

  static bool matches(const Node* node, const Key& k) { return mask(k, node->cidr) == node->key; }

  static IpPrefix to_prefix(const Node* node) {
    uint8_t bytes[16];
    store_be64(bytes, node->key.hi);
    store_be64(bytes + 8, node->key.lo);
    return IpPrefix{node->v6 ? IpAddress::v6(bytes) : IpAddress::v4(bytes), node->cidr};
  }

  Node* new_node(const Key& key, uint8_t cidr, bool v6, Node* parent) {
    Node* node = new Node;
    node->key = key;
    node->cidr = cidr;
    node->v6 = v6;
    node->parent = parent;
    ++nodes_;
    return node;
  }

  // Gives `node` to `peer`, taking it from its previous owner if any.
  void assign(Node* node, Peer* peer) {
    if (node->peer == peer) return;
    if (node->peer) {
      unlink(node);
    } else {
      ++size_;
    }
    node->peer = peer;
    by_peer_[peer].push_back(node);
  }

  // Drops `node` from its owner's list (the node keeps its peer pointer).
  void unlink(Node* node) {
    auto it = by_peer_.find(node->peer);
    std::vector<Node*>& nodes = it->second;
    nodes.erase(std::find(nodes.begin(), nodes.end(), node));
    if (nodes.empty()) by_peer_.erase(it);
  }

  // Points whatever pointed at `old` (its parent's slot or the root) at `replacement`.
  void replace(Node* old, Node* replacement) {
    Node* parent = old->parent;
    Node** slot = parent ? &parent->child[parent->child[1] == old] : &root_[old->v6];
    *slot = replacement;
    if (replacement) replacement->parent = parent;
  }

  // Takes the prefix out of the trie; `node` must already be unlinked from its
  // peer's list. Frees the node unless it is still a branch point, and frees a
  // peerless parent that no longer branches.
  void remove_node(Node* node) {
    node->peer = nullptr;
    --size_;
    if (node->child[0] && node->child[1]) return;
    Node* child = node->child[0] ? node->child[0] : node->child[1];
    Node* parent = node->parent;
    replace(node, child);
    delete node;
    --nodes_;
    if (child == nullptr && parent && parent->peer == nullptr) {
      replace(parent, parent->child[0] ? parent->child[0] : parent->child[1]);
      delete parent;
      --nodes_;
    }
  }

  void take(AllowedIps& other) {
    root_[0] = std::exchange(other.root_[0], nullptr);
    root_[1] = std::exchange(other.root_[1], nullptr);
    by_peer_ = std::move(other.by_peer_);
    other.by_peer_.clear();
    size_ = std::exchange(other.size_, 0);
    nodes_ = std::exchange(other.nodes_, 0);
  }

  Node* root_[2] = {nullptr, nullptr};  // [0] IPv4, [1] IPv6
  std::unordered_map<const Peer*, std::vector<Node*>> by_peer_;
  size_t size_ = 0;
  size_t nodes_ = 0;
};

}  // namespace wgp
