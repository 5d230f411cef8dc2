// Compiled by the test suite with a C++ compiler: the public headers must work from C++.
#include "promex/promex.h"

int main() {
  pmx_registry_t *reg = nullptr;
  if (pmx_registry_new(nullptr, &reg) != PMX_OK) return 1;
  pmx_registry_destroy(reg);
  return pmx_version_num() == PMX_VERSION_NUM ? 0 : 1;
}
