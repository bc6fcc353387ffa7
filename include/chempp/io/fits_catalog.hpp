// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Reader for stellar abundance catalogues stored as FITS binary tables (Pence et al. 2010,
/// A&A 524, A42: the FITS standard 3.0), such as the APOGEE DR17 allStar file (Abdurro'uf et al.
/// 2022, ApJS 259, 35) and the GALAH DR3 main catalogue (Buder et al. 2021, MNRAS 506, 150).
///
/// Optional: this header needs cfitsio and is not included by `chempp/chempp.hpp`,
/// `chempp/io.hpp` or any other chempp header. Link the CMake target `chempp::fits` (built when
/// cfitsio is found, option `CHEMPP_ENABLE_FITS`).
///
/// The table's columns are matched to the wanted observables exactly as in the CSV reader
/// (`chempp/io/catalog.hpp`, the same code): abundance `<name>` with uncertainty `e_<name>`
/// (GALAH) or `<NAME>_ERR` (APOGEE), optional quality flag `flag_<name>` or `<NAME>_FLAG` (a
/// nonzero flag discards the value), optional identifier `id`, `star_id`, `sobject_id` or
/// `apogee_id`, all compared case-insensitively; the result is the same `abundance_catalog`.
///
/// Cells: abundance and uncertainty columns may be of any integer or floating-point type (one
/// value per row, TSCALE/TZERO applied); NaN or a null (TNULL) value means "not measured".
/// Sentinel values such as -9999 are not interpreted. Flag columns are integer (a null counts as
/// 0) or floating point holding integers (NaN counts as 0). The identifier column is text or an
/// integer (GALAH's `sobject_id`), kept as text; trailing blanks are removed. `line` holds the
/// 1-based table row of each star, `dropped` the rows of the stars whose every given abundance
/// was flagged.
///
/// HDUs are numbered from 0 for the primary HDU, as astropy and fitsio count (cfitsio's own
/// `fits_movabs_hdu` counts from 1). Files compressed with gzip (`.fits.gz`) are read directly.
///
/// Every problem throws `chempp::file_error` naming the file, the table row (as the line, 0 when
/// not about a row) and the column, with the HDU in the message and, for a cfitsio failure,
/// cfitsio's status code and messages. The reader keeps no state and prints nothing; note that
/// cfitsio keeps its error-message stack in a process-wide buffer, which this reader drains.

#include <fitsio.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/io/catalog.hpp"

namespace chempp::io {

namespace detail::fits {

/// cfitsio's status text and its queued messages (the queue is emptied).
inline std::string cfitsio_message(int status) {
  char text[FLEN_STATUS] = {};
  fits_get_errstatus(status, text);
  std::string out = "cfitsio status " + std::to_string(status) + " (" + text + ")";
  char line[FLEN_ERRMSG] = {};
  std::string details;
  while (fits_read_errmsg(line) != 0) {
    if (!details.empty()) details += "; ";
    details += line;
  }
  if (!details.empty()) out += ": " + details;
  return out;
}

/// An open FITS file, closed on destruction.
class file {
 public:
  explicit file(std::string path) : path_(std::move(path)) {}
  file(const file&) = delete;
  file& operator=(const file&) = delete;
  ~file() {
    if (f_ != nullptr) {
      int status = 0;
      fits_close_file(f_, &status);
      if (status != 0) fits_clear_errmsg();
    }
  }
  [[nodiscard]] fitsfile* get() const noexcept { return f_; }
  fitsfile** out() noexcept { return &f_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  fitsfile* f_ = nullptr;
};

/// Where the reader is: the file and HDU, for messages.
struct hdu_place {
  std::string path;
  std::string hdu = "HDU ?";  ///< "HDU 1" or "HDU 1 ('ALLSTAR')"

  [[nodiscard]] chempp::io::detail::catalog::place at(std::size_t row) const {
    return {path, row, hdu + (row > 0 ? ", row " + std::to_string(row) : std::string()) + ": "};
  }
  /// \throws file_error for cfitsio's `status` while doing `what`.
  [[noreturn]] void cfitsio_error(int status, const std::string& column, std::size_t row,
                                  const std::string& what) const {
    const std::string message = what + ": " + cfitsio_message(status);
    chempp::io::detail::catalog::fail(at(row), column, message);
  }
};

/// The value of the string keyword `key` of the current HDU, or nullopt if absent.
inline std::optional<std::string> string_key(fitsfile* f, const std::string& key,
                                             const hdu_place& where) {
  char value[FLEN_VALUE] = {};
  int status = 0;
  fits_write_errmark();
  fits_read_key(f, TSTRING, key.c_str(), value, nullptr, &status);
  if (status == KEY_NO_EXIST) {
    fits_clear_errmark();
    return std::nullopt;
  }
  if (status != 0) where.cfitsio_error(status, key, 0, "cannot read header keyword " + key);
  return std::string(value);
}

inline bool is_integer(int type) noexcept {
  switch (type) {
    case TBYTE:
    case TSBYTE:
    case TSHORT:
    case TUSHORT:
    case TINT:
    case TUINT:
    case TLONG:
    case TULONG:
    case TLONGLONG:
    case TULONGLONG:
      return true;
    default:
      return false;
  }
}

inline bool is_float(int type) noexcept { return type == TFLOAT || type == TDOUBLE; }

/// Words for a column's type in messages.
inline std::string describe(int type, long long repeat) {
  if (type < 0) return "a variable-length array";
  if (repeat != 1 && type != TSTRING) return "a vector of " + std::to_string(repeat) + " cells";
  switch (type) {
    case TSTRING:
      return "text (" + std::to_string(repeat) + " characters)";
    case TLOGICAL:
      return "logical values";
    case TBIT:
      return "bits";
    case TCOMPLEX:
    case TDBLCOMPLEX:
      return "complex numbers";
    default:
      break;
  }
  if (is_integer(type)) return "integers";
  if (is_float(type)) return "floating-point numbers";
  return "cfitsio type code " + std::to_string(type);
}

enum class column_kind { value, flag, id };

/// A column the reader needs: its name, 1-based number and (equivalent) cfitsio type.
struct column {
  std::string name;
  int number = 0;
  int type = 0;
};

/// Checks the type of column `c` for its role. \throws file_error naming the column.
inline void check_type(fitsfile* f, column& c, column_kind kind, const hdu_place& where) {
  int status = 0;
  long long repeat = 0, width = 0;
  fits_get_eqcoltypell(f, c.number, &c.type, &repeat, &width, &status);
  if (status != 0) where.cfitsio_error(status, c.name, 0, "cannot read the column's type");
  const bool scalar = repeat == 1 && c.type > 0;
  bool ok = false;
  std::string expected;
  switch (kind) {
    case column_kind::value:
      ok = scalar && (is_integer(c.type) || is_float(c.type));
      expected = "numbers (integer or floating point, one per row)";
      break;
    case column_kind::flag:
      ok = scalar && (is_integer(c.type) || is_float(c.type));
      expected = "integer quality flags (one per row)";
      break;
    case column_kind::id:
      ok = (c.type == TSTRING && repeat >= 1) || (scalar && is_integer(c.type));
      expected = "text or integer star identifiers";
      break;
  }
  if (!ok) {
    chempp::io::detail::catalog::fail(
        where.at(0), c.name,
        "column '" + c.name + "' holds " + describe(c.type, repeat) + "; expected " + expected);
  }
}

/// Reads rows [first, first + n) of a numeric column as doubles, nullopt for null or NaN.
/// Integer columns are read with cfitsio's null detection (TNULL); floating-point columns raw,
/// since cfitsio would report an infinity as null too, and an infinity is an error here.
inline void read_numbers(fitsfile* f, const column& c, long long first, long long n,
                         std::vector<std::optional<double>>& out, const hdu_place& where) {
  std::vector<double> data(static_cast<std::size_t>(n));
  std::vector<char> null(static_cast<std::size_t>(n), 0);
  int status = 0, any_null = 0;
  if (is_integer(c.type)) {
    fits_read_colnull(f, TDOUBLE, c.number, first, 1, n, data.data(), null.data(), &any_null,
                      &status);
  } else {
    double no_check = 0.0;  // 0: no null checking, NaN and infinities come through
    fits_read_col(f, TDOUBLE, c.number, first, 1, n, &no_check, data.data(), &any_null, &status);
  }
  if (status != 0) {
    where.cfitsio_error(status, c.name, static_cast<std::size_t>(first),
                        "cannot read column '" + c.name + "' (rows " + std::to_string(first) +
                            " to " + std::to_string(first + n - 1) + ")");
  }
  out.resize(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (null[i] != 0 || std::isnan(data[i])) {
      out[i] = std::nullopt;
    } else {
      out[i] = data[i];
    }
  }
}

/// Reads rows [first, first + n) of a flag column; 0 for null.
inline void read_flags(fitsfile* f, const column& c, long long first, long long n,
                       std::vector<long long>& out, const hdu_place& where) {
  out.assign(static_cast<std::size_t>(n), 0);
  int status = 0, any_null = 0;
  std::vector<char> null(static_cast<std::size_t>(n), 0);
  if (is_integer(c.type)) {
    fits_read_colnull(f, TLONGLONG, c.number, first, 1, n, out.data(), null.data(), &any_null,
                      &status);
  } else {
    std::vector<double> data(static_cast<std::size_t>(n));
    fits_read_colnull(f, TDOUBLE, c.number, first, 1, n, data.data(), null.data(), &any_null,
                      &status);
    if (status == 0) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = null[i] != 0 ? 0
                              : chempp::io::detail::catalog::flag_number(
                                    data[i], where.at(static_cast<std::size_t>(first) + i), c.name);
      }
    }
  }
  if (status != 0) {
    where.cfitsio_error(status, c.name, static_cast<std::size_t>(first),
                        "cannot read column '" + c.name + "'");
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (null[i] != 0) out[i] = 0;
  }
}

/// Reads rows [first, first + n) of the identifier column as text ("" for null).
inline void read_ids(fitsfile* f, const column& c, long long first, long long n,
                     std::vector<std::string>& out, const hdu_place& where) {
  out.assign(static_cast<std::size_t>(n), std::string());
  int status = 0, any_null = 0;
  if (c.type == TSTRING) {
    long long repeat = 0, width = 0;
    int type = 0;
    fits_get_eqcoltypell(f, c.number, &type, &repeat, &width, &status);
    const auto chars = static_cast<std::size_t>(std::max(repeat, width)) + 1;
    std::vector<char> buffer(chars * static_cast<std::size_t>(n), '\0');
    std::vector<char*> rows(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = buffer.data() + i * chars;
    char empty[] = "";
    if (status == 0) {
      fits_read_col(f, TSTRING, c.number, first, 1, n, empty, rows.data(), &any_null, &status);
    }
    if (status == 0) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        std::string s(rows[i]);
        while (!s.empty() && s.back() == ' ') s.pop_back();
        out[i] = std::move(s);
      }
    }
  } else {
    std::vector<long long> data(static_cast<std::size_t>(n));
    std::vector<char> null(static_cast<std::size_t>(n), 0);
    fits_read_colnull(f, TLONGLONG, c.number, first, 1, n, data.data(), null.data(), &any_null,
                      &status);
    if (status == 0) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (null[i] == 0) out[i] = std::to_string(data[i]);
      }
    }
  }
  if (status != 0) {
    where.cfitsio_error(status, c.name, static_cast<std::size_t>(first),
                        "cannot read column '" + c.name + "'");
  }
}

/// Which HDU to read: `index` >= 0 (0 = primary), else `name` if not empty, else the first
/// binary table.
struct hdu_choice {
  int index = -1;
  std::string name;
  catalog_options options;  ///< group column, strided read (as the CSV reader)
};

inline abundance_catalog read(const std::filesystem::path& path,
                              std::span<const std::string> observables, const hdu_choice& choice) {
  namespace cg = chempp::io::detail::catalog;
  chempp::io::detail::csv::check_observables("read_fits_catalog", observables);
  if (choice.index < -1) {
    throw invalid_argument("read_fits_catalog: hdu must be >= 0 (0 is the primary HDU; got " +
                           std::to_string(choice.index) + ")");
  }
  hdu_place where{path.string(), "HDU ?"};
  file fits(path.string());
  int status = 0;
  fits_clear_errmsg();
  fits_open_diskfile(fits.out(), where.path.c_str(), READONLY, &status);
  if (status != 0) {
    const std::string message = cfitsio_message(status);
    throw file_error(where.path, 0, "", "cannot open the FITS file: " + message);
  }
  fitsfile* f = fits.get();

  int hdus = 0;
  fits_get_num_hdus(f, &hdus, &status);
  if (status != 0) where.cfitsio_error(status, "", 0, "cannot count the HDUs");
  int type = 0;
  if (choice.index >= 0) {
    where.hdu = "HDU " + std::to_string(choice.index);
    if (choice.index >= hdus) {
      throw file_error(where.path, 0, "",
                       where.hdu + ": no such HDU (the file has " + std::to_string(hdus) +
                           ", numbered from 0 for the primary HDU)");
    }
    fits_movabs_hdu(f, choice.index + 1, &type, &status);
    if (status != 0) where.cfitsio_error(status, "", 0, "cannot move to the HDU");
  } else if (!choice.name.empty()) {
    where.hdu = "HDU '" + choice.name + "'";
    std::string name = choice.name;
    fits_movnam_hdu(f, ANY_HDU, name.data(), 0, &status);
    if (status != 0) {
      where.cfitsio_error(status, "", 0, "no HDU with EXTNAME (or HDUNAME) '" + choice.name + "'");
    }
    int number = 0;
    fits_get_hdu_num(f, &number);
    fits_get_hdu_type(f, &type, &status);
    where.hdu = "HDU " + std::to_string(number - 1) + " ('" + choice.name + "')";
  } else {
    bool found = false;
    for (int h = 1; h <= hdus && !found; ++h) {
      fits_movabs_hdu(f, h, &type, &status);
      if (status != 0) {
        where.hdu = "HDU " + std::to_string(h - 1);
        where.cfitsio_error(status, "", 0, "cannot move to the HDU");
      }
      found = type == BINARY_TBL;
      if (found) where.hdu = "HDU " + std::to_string(h - 1);
    }
    if (!found) {
      throw file_error(where.path, 0, "",
                       "no binary-table HDU (the file has " + std::to_string(hdus) +
                           " HDUs, none a BINTABLE extension)");
    }
  }
  if (status != 0) where.cfitsio_error(status, "", 0, "cannot read the HDU type");
  if (choice.name.empty()) {
    if (const auto extname = string_key(f, "EXTNAME", where); extname && !extname->empty()) {
      where.hdu += " ('" + *extname + "')";
    }
  }
  if (type != BINARY_TBL && type != ASCII_TBL) {
    throw file_error(where.path, 0, "",
                     where.hdu +
                         ": not a table (an image HDU; the catalogue must be a binary or "
                         "ASCII table extension)");
  }

  // The header: one name per column (TTYPEn; "#n" for an unnamed column).
  int ncols = 0;
  long long nrows = 0;
  fits_get_num_cols(f, &ncols, &status);
  fits_get_num_rowsll(f, &nrows, &status);
  if (status != 0) where.cfitsio_error(status, "", 0, "cannot read the table's size");
  std::vector<std::string> header(static_cast<std::size_t>(ncols));
  for (int c = 1; c <= ncols; ++c) {
    const auto name = string_key(f, "TTYPE" + std::to_string(c), where);
    header[static_cast<std::size_t>(c - 1)] =
        name && !name->empty() ? *name : "#" + std::to_string(c);
  }

  abundance_catalog cat;
  const cg::columns cols = cg::resolve(header, observables, cat, where.at(0));
  const std::size_t m = observables.size();
  auto make = [&](std::size_t index, column_kind kind) {
    column c;
    if (index == cg::none) return c;
    c.name = header[index];
    c.number = static_cast<int>(index) + 1;
    check_type(f, c, kind, where);
    return c;
  };
  std::vector<column> value(m), sigma(m), flag(m);
  for (std::size_t k = 0; k < m; ++k) {
    value[k] = make(cols.value[k], column_kind::value);
    sigma[k] = make(cols.sigma[k], column_kind::value);
    flag[k] = make(cols.flag[k], column_kind::flag);
  }
  const column id = make(cols.id, column_kind::id);
  const auto& opt = choice.options;
  if (opt.stride == 0 || opt.offset >= opt.stride)
    throw invalid_argument("read_fits_catalog: catalog_options needs stride >= 1 and offset < stride (got stride " +
                           std::to_string(opt.stride) + ", offset " + std::to_string(opt.offset) + ")");
  // the population labels: text or integers, read as the identifiers are
  const column group = make(cg::group_index(header, opt.group_column, cat, where.at(0)), column_kind::id);

  // The rows, in blocks of cfitsio's preferred size.
  long long block = 0;
  {
    long long optimal = 0;
    long rows_per_buffer = 0;
    fits_get_rowsize(f, &rows_per_buffer, &status);
    if (status != 0) where.cfitsio_error(status, "", 0, "cannot read the table's row size");
    optimal = rows_per_buffer;
    block = std::clamp<long long>(optimal, 1024, 65536);
  }
  cg::builder rows(cat, cols);
  cg::star_cells star;
  std::vector<std::vector<std::optional<double>>> values(m), sigmas(m);
  std::vector<std::vector<long long>> flags(m);
  std::vector<std::string> ids, labels;
  for (long long first = 1; first <= nrows; first += block) {
    const long long n = std::min(block, nrows - first + 1);
    for (std::size_t k = 0; k < m; ++k) {
      if (value[k].number == 0) continue;
      read_numbers(f, value[k], first, n, values[k], where);
      read_numbers(f, sigma[k], first, n, sigmas[k], where);
      if (flag[k].number != 0) read_flags(f, flag[k], first, n, flags[k], where);
    }
    if (id.number != 0) read_ids(f, id, first, n, ids, where);
    if (group.number != 0) read_ids(f, group, first, n, labels, where);
    for (long long r = 0; r < n; ++r) {
      const auto i = static_cast<std::size_t>(r);
      const auto row = static_cast<std::size_t>(first + r - 1);
      if (row % opt.stride != opt.offset) continue;
      star.reset(m);
      for (std::size_t k = 0; k < m; ++k) {
        if (value[k].number == 0) continue;
        star.value[k] = values[k][i];
        star.sigma[k] = sigmas[k][i];
        if (flag[k].number != 0) star.flag[k] = flags[k][i];
      }
      const auto at = where.at(static_cast<std::size_t>(first + r));
      rows.add(star, id.number != 0 ? std::move(ids[i]) : std::string(), at, row,
               group.number != 0 ? cg::group_label(labels[i], at, group.name) : std::string());
    }
  }
  rows.finish();
  return cat;
}

}  // namespace detail::fits

/// Reads an abundance catalogue from the first binary-table HDU of the FITS file `file` (see the
/// file comment; `observables` as for `parse_abundance_catalog`).
/// \throws invalid_argument for invalid `observables`.
/// \throws file_error naming the file, the row and the column (HDU and cfitsio's message in the
///   text) when the file cannot be opened or read, has no binary table, a needed column has a
///   wrong type (text or a vector where numbers are expected), or for any problem the CSV reader
///   reports (missing uncertainty column, non-positive uncertainty of a measured value, a star
///   with nothing given, ...).
inline abundance_catalog read_fits_catalog(const std::filesystem::path& file,
                                           std::span<const std::string> observables) {
  return detail::fits::read(file, observables, {});
}

/// As above, with a group column and/or a strided read (`catalog_options`, as for
/// `read_abundance_catalog`; rows are table rows: r = row − 1).
inline abundance_catalog read_fits_catalog(const std::filesystem::path& file, std::span<const std::string> observables,
                                           const catalog_options& options) {
  return detail::fits::read(file, observables, {-1, {}, options});
}

/// As above, from HDU number `hdu` (0 = the primary HDU, 1 = the first extension), which must be
/// a binary or ASCII table. \throws invalid_argument if `hdu` is negative.
inline abundance_catalog read_fits_catalog(const std::filesystem::path& file,
                                           std::span<const std::string> observables, int hdu) {
  if (hdu < 0) {
    throw invalid_argument("read_fits_catalog: hdu must be >= 0 (0 is the primary HDU; got " +
                           std::to_string(hdu) + ")");
  }
  return detail::fits::read(file, observables, {hdu, {}, {}});
}

/// As above, from the table HDU whose EXTNAME (or HDUNAME) is `extname` (case-insensitive, as
/// cfitsio compares). \throws invalid_argument if `extname` is empty.
inline abundance_catalog read_fits_catalog(const std::filesystem::path& file,
                                           std::span<const std::string> observables,
                                           std::string_view extname) {
  if (extname.empty()) throw invalid_argument("read_fits_catalog: extname is empty");
  return detail::fits::read(file, observables, {-1, std::string(extname), {}});
}

}  // namespace chempp::io
