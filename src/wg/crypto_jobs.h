// Encryptions and decryptions the device leaves for its caller to run, so
// that one batch of packets can be sealed or opened on several cores
// (util/worker_pool.h) and then sent or delivered in batch order.
//
// Sealing: with a SealJob queue set (Device::defer_seals), the device writes
// each data message's header and plaintext (zero-padded) into the output slot
// it was lent and queues the in-place seal; the caller must run every job
// before the slots are sent, and drop every datagram whose job did not seal
// (its slot holds only zeros then, never the plaintext). Opening: Device::prepare_open fills an OpenJob
// for a transport message, the caller runs it anywhere, and hands it back to
// Device::receive_datagram, which checks it still names the same keypair.
#pragma once

#include <cstdint>
#include <cstring>

#include "crypto/aead.h"
#include "util/bytes.h"

namespace wgp {

struct SealJob {
  const AeadKey* key = nullptr;
  uint64_t counter = 0;
  // plaintext_size bytes of plaintext, followed by room for the 16-byte tag.
  MutableByteView data;
  size_t plaintext_size = 0;
  // The whole transport message (header, body, tag) that `data` belongs
  // to, for the caller to drop when the seal fails.
  MutableByteView message;
  bool sealed = false;  // set by run()

  // Thread-safe: distinct jobs touch distinct bytes; the key is read-only.
  // Fails closed: a seal that fails (misuse only) wipes the plaintext, so
  // nothing readable can leave even if the caller sent the slot anyway.
  void run() {
    sealed = key->seal(counter, data.first(plaintext_size), {}, data);
    if (!sealed) std::memset(data.data(), 0, data.size());
  }
};

struct OpenJob {
  const AeadKey* key = nullptr;
  uint64_t counter = 0;
  ByteView ciphertext;        // body and tag of the transport message
  MutableByteView plaintext;  // ciphertext.size() - 16 bytes
  uint64_t keypair_serial = 0;
  bool authentic = false;     // set by run()

  void run() { authentic = key->open(counter, ciphertext, {}, plaintext); }
};

}  // namespace wgp
