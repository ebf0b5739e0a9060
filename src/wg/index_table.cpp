#include "wg/index_table.h"

namespace wgp {

uint32_t IndexTable::allocate(Peer* peer, Random& rng) {
  // With at most a few entries per peer the table is sparse in 2^32, so a
  // collision is rare and a retry settles it.
  for (;;) {
    uint32_t index = rng.u32();
    auto [it, inserted] = entries_.try_emplace(index, Entry{peer, nullptr});
    if (inserted) return index;
  }
}

void IndexTable::bind_keypair(uint32_t index, Keypair* keypair) {
  auto it = entries_.find(index);
  if (it != entries_.end()) it->second.keypair = keypair;
}

void IndexTable::release(uint32_t index) { entries_.erase(index); }

const IndexTable::Entry* IndexTable::find(uint32_t index) const {
  auto it = entries_.find(index);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace wgp
