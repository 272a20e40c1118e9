#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edpipe::fuzz::record_reader(data, size);
  return 0;
}
