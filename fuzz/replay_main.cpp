// Replays fuzz inputs through a fuzz target without libFuzzer, so the normal
// (gcc) build and the sanitizer build run every seed and every kept crash
// input as a CTest test: a crash found once stays a test case for ever.
// Usage: replay_<target> CORPUS_DIR [DIR_OR_FILE...]
// Every path must exist and the corpus must hold at least one input: a
// misspelt or emptied corpus replays nothing, which must not pass as a test.
// The other directories (regressions) may hold none yet (only their `.keep`).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

void replay(const std::filesystem::path& file, size_t& count) {
  std::ifstream in(file, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, so ASan sees any read past its end.
  std::vector<uint8_t> exact(bytes);
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
  ++count;
}

// Replays a file, or every file of a directory but the `.keep` that holds it
// in git; false when the path does not exist.
bool replay_path(const std::filesystem::path& p, size_t& count) {
  if (std::filesystem::is_directory(p)) {
    for (const auto& entry : std::filesystem::directory_iterator(p))
      if (entry.is_regular_file() && entry.path().filename() != ".keep")
        replay(entry.path(), count);
    return true;
  }
  if (!std::filesystem::is_regular_file(p)) return false;
  replay(p, count);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [DIR_OR_FILE...]\n", argv[0]);
    return 2;
  }
  size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    size_t before = count;
    if (!replay_path(argv[i], count)) {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 1;
    }
    if (i == 1 && count == before) {
      std::fprintf(stderr, "%s: the corpus holds no input\n", argv[i]);
      return 1;
    }
  }
  std::printf("%zu inputs replayed without a crash\n", count);
  return 0;
}
