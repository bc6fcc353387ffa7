// SPDX-License-Identifier: BSD-3-Clause
// No heap allocation inside a model run once the model and its workspace exist (Eigen-style
// "hot path never allocates" test). Global operator new is replaced in this file: it counts
// and forwards to malloc, for the whole test_gce executable.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "chempp/gce.hpp"
#include "chempp/yields/shipped.hpp"

// Under AddressSanitizer the runtime owns operator new (libstdc++ calls its version), so the
// replacement would mix allocators: the count is only taken in non-ASan builds.
#if defined(__SANITIZE_ADDRESS__)
#define CHEMPP_GCE_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHEMPP_GCE_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef CHEMPP_GCE_COUNT_ALLOCATIONS
#define CHEMPP_GCE_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<long> g_allocations{0};

void* counted_alloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* counted_aligned(std::size_t n, std::align_val_t al) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(al);
  const std::size_t size = (n + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, size == 0 ? a : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

#if CHEMPP_GCE_COUNT_ALLOCATIONS
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_aligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#else
[[maybe_unused]] static void* (*const unused_alloc)(std::size_t) = counted_alloc;
[[maybe_unused]] static void* (*const unused_aligned)(std::size_t, std::align_val_t) = counted_aligned;
#endif

TEST_CASE("chempy_model runs do not allocate once the workspace exists") {
  namespace gce = chempp::gce;
  if (!CHEMPP_GCE_COUNT_ALLOCATIONS) {
    MESSAGE("SKIPPED: allocation counting is disabled under AddressSanitizer");
    return;
  }
  const gce::chempy_model model(chempp::yields::shipped_yield_set("alt"));
  auto ws = model.make_workspace();
  const std::array<std::array<double, 6>, 5> cases{{{-2.3, -2.89, -0.3, 0.55, 0.5, 1.0},
                                                    {-2.3, -2.89, -0.3, 0.55, 0.5, 8.0},
                                                    {-2.3, -2.89, -0.3, 0.55, 0.5, 13.8},
                                                    {-2.3, -2.89, -0.3, 0.05, 0.5, 13.8},
                                                    {-0.8, -4.39, 1.2, 0.294, 0.0, 2.0}}};
  int ok = 0;
  for (const auto& th : cases) {
    const long before = g_allocations.load();
    ok += model(th, ws).ok() ? 1 : 0;
    const long during = g_allocations.load() - before;
    INFO("T = " << th[5] << ", log10 SFR_peak = " << th[3]);
    CHECK(during == 0);
  }
  CHECK(ok >= 3);
  // the counter works: the convenience overload makes a workspace
  const long b2 = g_allocations.load();
  (void)model(cases[1]);
  CHECK(g_allocations.load() > b2);
}
