// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// CUDA basics for chempp's optional GPU back end: `cuda_error` (an exception naming the CUDA call
/// and the CUDA error), the `CHEMPP_CUDA_CHECK` macro, device discovery that never throws when no
/// GPU or driver is present, and the RAII `device_buffer`. No Eigen, xtensor or xsimd (compile with
/// CUDA_STANDARD 17).

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"

namespace chempp::cuda {

/// A CUDA runtime call failed. `what()` names the call, the CUDA error and the source location.
class cuda_error : public chempp::error {
 public:
  /// `call`: the expression or kernel name; `code`: the CUDA error.
  cuda_error(const std::string& call, cudaError_t code, const char* file, int line)
      : chempp::error(call + " failed: " + cudaGetErrorString(code) + " (" + cudaGetErrorName(code) + ") at " +
                      file + ":" + std::to_string(line)),
        code_(code) {}
  /// The CUDA error code.
  [[nodiscard]] cudaError_t code() const noexcept { return code_; }

 private:
  cudaError_t code_;
};

namespace detail {
/// Throws `cuda_error` naming `call` unless `e` is cudaSuccess.
inline void check(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // clear a sticky-free error so later calls are not poisoned
    throw cuda_error(call, e, file, line);
  }
}
/// Checks the launch of kernel `name` (configuration errors surface here, not at the launch).
inline void check_launch(const char* name, const char* file, int line) {
  check(cudaGetLastError(), (std::string("kernel launch ") + name).c_str(), file, line);
}
}  // namespace detail

/// Evaluates a CUDA runtime call and throws `chempp::cuda::cuda_error` naming it on failure.
#define CHEMPP_CUDA_CHECK(expr) ::chempp::cuda::detail::check((expr), #expr, __FILE__, __LINE__)

/// Number of usable CUDA devices; 0 (never an exception) when there is no GPU or no driver.
/// `reason`, if given, receives the CUDA error text when the count is 0.
inline int device_count(std::string* reason = nullptr) noexcept {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    if (reason != nullptr) {
      try {
        *reason = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
      } catch (...) {
      }
    }
    return 0;
  }
  if (n == 0 && reason != nullptr) {
    try {
      *reason = "cudaGetDeviceCount reports 0 devices";
    } catch (...) {
    }
  }
  return n;
}

/// What `cudaGetDeviceProperties` says about a device.
struct device_info {
  int index = 0;                 ///< device ordinal
  std::string name;              ///< e.g. "NVIDIA H100 80GB HBM3"
  int compute_major = 0;         ///< compute capability, major
  int compute_minor = 0;         ///< compute capability, minor
  int multiprocessors = 0;       ///< SM count
  double global_memory_gib = 0;  ///< device memory (GiB)
};

/// Properties of the current device; throws `cuda_error` if there is none.
inline device_info current_device() {
  device_info info;
  CHEMPP_CUDA_CHECK(cudaGetDevice(&info.index));
  cudaDeviceProp p{};
  CHEMPP_CUDA_CHECK(cudaGetDeviceProperties(&p, info.index));
  info.name = p.name;
  info.compute_major = p.major;
  info.compute_minor = p.minor;
  info.multiprocessors = p.multiProcessorCount;
  info.global_memory_gib = static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
  return info;
}

/// Waits for all work queued on `stream` (default stream: nullptr); throws `cuda_error` on a
/// failure of that work.
inline void synchronize(cudaStream_t stream = nullptr) { CHEMPP_CUDA_CHECK(cudaStreamSynchronize(stream)); }

/// An owning array of `T` in device memory (cudaMalloc/cudaFree), move-only.
template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  /// Allocates `n` elements (uninitialised); throws `cuda_error` naming cudaMalloc.
  explicit device_buffer(std::size_t n) { allocate(n); }
  /// Allocates and uploads `host`.
  explicit device_buffer(const std::vector<T>& host) {
    allocate(host.size());
    upload(host.data(), host.size());
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  device_buffer& operator=(device_buffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~device_buffer() { release(); }

  /// Device pointer (nullptr when empty).
  [[nodiscard]] T* data() noexcept { return ptr_; }
  [[nodiscard]] const T* data() const noexcept { return ptr_; }
  /// Number of elements.
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

  /// Makes room for at least `n` elements (contents are lost when it reallocates).
  void reserve(std::size_t n) {
    if (n <= n_) return;
    release();
    allocate(n);
  }
  /// Copies `n` elements from host memory into the start of the buffer (synchronous).
  void upload(const T* host, std::size_t n) {
    check_size(n, "upload");
    if (n > 0) CHEMPP_CUDA_CHECK(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice));
  }
  /// Copies `n` elements from the start of the buffer into host memory (synchronous).
  void download(T* host, std::size_t n) const {
    check_size(n, "download");
    if (n > 0) CHEMPP_CUDA_CHECK(cudaMemcpy(host, ptr_, n * sizeof(T), cudaMemcpyDeviceToHost));
  }
  /// The first `n` elements (default: all) as a host vector.
  [[nodiscard]] std::vector<T> to_host(std::size_t n = static_cast<std::size_t>(-1)) const {
    if (n == static_cast<std::size_t>(-1)) n = n_;
    std::vector<T> h(n);
    download(h.data(), n);
    return h;
  }

 private:
  void allocate(std::size_t n) {
    if (n == 0) return;
    void* p = nullptr;
    CHEMPP_CUDA_CHECK(cudaMalloc(&p, n * sizeof(T)));
    ptr_ = static_cast<T*>(p);
    n_ = n;
  }
  void release() noexcept {
    if (ptr_ != nullptr) (void)cudaFree(ptr_);
    ptr_ = nullptr;
    n_ = 0;
  }
  void check_size(std::size_t n, const char* what) const {
    if (n > n_)
      throw invalid_argument(std::string("device_buffer::") + what + ": " + std::to_string(n) +
                             " elements requested, buffer holds " + std::to_string(n_));
  }
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
};

namespace detail {
/// Blocks for a grid-stride loop over `n` items: enough to fill the device, at most 8 per SM.
inline unsigned grid_for(std::size_t n, unsigned block) {
  int dev = 0, sms = 0;
  CHEMPP_CUDA_CHECK(cudaGetDevice(&dev));
  CHEMPP_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  const std::size_t need = (n + block - 1) / block;
  const std::size_t cap = static_cast<std::size_t>(sms > 0 ? sms : 1) * 8u;
  return static_cast<unsigned>(need < cap ? (need > 0 ? need : 1) : cap);
}
/// Largest dynamic shared memory a kernel gets without opting in (bytes).
inline constexpr std::size_t default_shared_limit = 48 * 1024;
}  // namespace detail

}  // namespace chempp::cuda
