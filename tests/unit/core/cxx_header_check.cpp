// Compiled by the test suite with a C++ compiler: the public headers must work from C++.
#include "promex/inline.h"
#include "promex/promex.h"

int main() {
  pmx_registry_t *reg = nullptr;
  if (pmx_registry_new(nullptr, &reg) != PMX_OK) return 1;
  // The inline increment (promex/inline.h) compiles and counts from C++ too.
  pmx_metric_def_t def = {};
  def.kind = PMX_COUNTER;
  def.name = "cxx_total";
  pmx_metric_t *m = nullptr;
  pmx_series_t *s = nullptr;
  if (pmx_metric_define(reg, &def, &m, nullptr) != PMX_OK || pmx_metric_labels(m, nullptr, 0, &s) != PMX_OK) return 1;
  for (int i = 0; i < 3; i++) {
    if (pmx_series_inc_inline(s) != PMX_OK) return 1;
  }
  const bool counted = pmx_series_value(s) == 3;
  pmx_registry_destroy(reg);
  return counted && pmx_version_num() == PMX_VERSION_NUM ? 0 : 1;
}
