// A transport session (one direction pair of ChaCha20-Poly1305 keys) and the
// three slots a peer keeps them in (PROTOCOL.md §5.4): `current` sends;
// `previous` and `next` only receive, so packets in flight across a rekey
// still decrypt, and a responder never sends before the initiator confirmed.
#pragma once

#include <memory>

#include "crypto/aead.h"
#include "noise/handshake.h"
#include "noise/replay.h"
#include "noise/wire.h"
#include "util/time.h"

namespace wgp {

// A process-wide serial, never reused: a decryption run on another thread
// names the keypair it used by serial, since its address may be reused.
uint64_t next_keypair_serial();

struct Keypair {
  Keypair(const noise::SessionKeys& keys, Instant now)
      : serial(next_keypair_serial()),
        send_key(keys.send),
        receive_key(keys.receive),
        created(now),
        local_index(keys.local_index),
        remote_index(keys.remote_index),
        we_initiated(keys.we_initiated) {}

  const uint64_t serial;
  AeadKey send_key;
  AeadKey receive_key;
  uint64_t send_counter = 0;
  noise::ReplayWindow replay;
  Instant created;
  uint32_t local_index;
  uint32_t remote_index;
  bool we_initiated;
  bool can_send = true;  // cleared when the private key changes or counters run out

  Duration age(Instant now) const { return now - created; }
  // May this keypair still encrypt? (§4.1 step 2)
  bool usable_for_sending(Instant now) const {
    return can_send && age(now) < noise::kRejectAfterTime &&
           send_counter < noise::kRejectAfterMessages;
  }
  bool usable_for_receiving(Instant now) const { return age(now) < noise::kRejectAfterTime; }
};

class IndexTable;

// previous / current / next, with the rotation rules of §5.4. Every keypair
// that leaves the slots has its index freed in `indices`.
class KeypairSlots {
 public:
  const Keypair* current() const { return current_.get(); }
  Keypair* current() { return current_.get(); }
  Keypair* next() { return next_.get(); }
  Keypair* previous() { return previous_.get(); }

  // Initiator derived a session: it is usable at once.
  void install_as_initiator(std::unique_ptr<Keypair> kp, IndexTable& indices);
  // Responder derived a session: it waits in `next` until the initiator's
  // first packet arrives on it.
  void install_as_responder(std::unique_ptr<Keypair> kp, IndexTable& indices);
  // The first authenticated packet on `next` arrived: next becomes current.
  // Returns false when `kp` is not the next keypair.
  bool promote_next(const Keypair* kp, IndexTable& indices);
  // Marks current and next unusable for sending (private key changed).
  void invalidate_for_sending();
  void clear(IndexTable& indices);

 private:
  void drop(std::unique_ptr<Keypair>& slot, IndexTable& indices);
  std::unique_ptr<Keypair> previous_, current_, next_;
};

}  // namespace wgp
