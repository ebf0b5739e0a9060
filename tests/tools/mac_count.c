/* An LD_PRELOAD shim for bench/relay_flood.sh and test_relay_abuse.sh: counts keyed BLAKE2s
 * computations (libb2's blake2s_init_key: every MAC wgpunch computes, mac1
 * and mac2 alike; nothing else of wgpunch keys BLAKE2s) in a 64-bit counter
 * in the file WGP_MAC_COUNT_FILE (8 bytes, mapped shared), so the benchmark
 * reads the count of any build, before and after, without touching it.
 * Build: cc -O2 -shared -fPIC -o mac_count.so mac_count.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic unsigned long long* counter;

__attribute__((constructor)) static void map_counter(void) {
  const char* path = getenv("WGP_MAC_COUNT_FILE");
  if (!path) return;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  void* p = mmap(NULL, sizeof *counter, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p != MAP_FAILED) counter = p;
}

int blake2s_init_key(void* state, size_t outlen, const void* key, size_t keylen) {
  static int (*real)(void*, size_t, const void*, size_t);
  if (!real)
    real = (int (*)(void*, size_t, const void*, size_t))dlsym(RTLD_NEXT, "blake2s_init_key");
  if (counter) atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
  return real(state, outlen, key, keylen);
}
