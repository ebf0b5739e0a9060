// Local 32-bit indices (PROTOCOL.md §3): the random, unique numbers a peer
// echoes as "receiver" so that we find the handshake or keypair a message is
// for without trying every peer.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "crypto/random.h"

namespace wgp {

class Peer;
struct Keypair;

class IndexTable {
 public:
  struct Entry {
    Peer* peer = nullptr;
    Keypair* keypair = nullptr;  // nullptr: the index names the peer's handshake
  };

  // A fresh random index bound to `peer`'s handshake.
  uint32_t allocate(Peer* peer, Random& rng);
  // Re-binds an index from a handshake to the keypair derived from it.
  void bind_keypair(uint32_t index, Keypair* keypair);
  void release(uint32_t index);
  const Entry* find(uint32_t index) const;
  size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<uint32_t, Entry> entries_;
};

}  // namespace wgp
