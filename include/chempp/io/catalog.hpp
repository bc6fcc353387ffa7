// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Reader and writer for stellar abundance catalogues in CSV, the input of `chempp-infer`.
///
/// A catalogue is a CSV table with a header row. Each wanted observable (e.g. `fe_h`, `mg_fe`)
/// is a column holding the abundance, paired with an uncertainty column named after one of two
/// survey conventions:
///  - GALAH DR3 (Buder et al. 2021, MNRAS 506, 150): `fe_h` / `e_fe_h`, `mg_fe` / `e_mg_fe`;
///  - APOGEE DR17 allStar (Abdurro'uf et al. 2022, ApJS 259, 35): `FE_H` / `FE_H_ERR`,
///    `MG_FE` / `MG_FE_ERR`.
///
/// Column names are compared case-insensitively (ASCII). An empty cell or `nan` (any case) in an
/// abundance column means "not measured" for that star; an abundance column absent from the
/// header means "measured for no star" (`abundance_catalog::missing_observables` lists the
/// wanted observables no star has). Other columns are ignored, except an optional star
/// identifier column `id`, `star_id`, `sobject_id` or `apogee_id` (the first of these names, in
/// that order, that the header has), kept as text, and the optional quality-flag columns.
///
/// Quality flags. An observable may have a flag column in either convention: GALAH DR3
/// `flag_<name>` (`flag_fe_h`, `flag_mg_fe`; Buder et al. 2021) or APOGEE DR17
/// `<NAME>_FLAG` (`FE_H_FLAG`, `MG_FE_FLAG`; Abdurro'uf et al. 2022). Both surveys
/// recommend using a measurement only when its flag is 0, so a nonzero flag makes that cell "not
/// measured" (its uncertainty is then not checked); the number of such cells per observable is
/// kept in `abundance_catalog::flagged`. A star all of whose given abundances are flagged is
/// left out and its line recorded in `abundance_catalog::dropped`; a star with no abundance given
/// at all is still an error. A flag cell must be an integer (optionally signed) or empty (no flag).
/// Without flag columns nothing changes. The logic is shared with the FITS reader
/// (`chempp/io/fits_catalog.hpp`), which reads the same columns from a FITS binary table.
///
/// Accepted CSV (a subset of RFC 4180): `,` separators, LF or CRLF line endings, an optional
/// UTF-8 byte-order mark, blanks and tabs around cells (ignored), blank lines (skipped, but
/// counted for line numbers), cells quoted with `"..."` holding commas and `""` for a quote.
/// Quoted line breaks are not supported.
///
/// Nothing is dropped silently: every malformed input throws `chempp::file_error` naming the
/// source, the 1-based line and the column (see `parse_abundance_catalog`), and what the flags
/// remove is counted in the catalogue.

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "chempp/core/compat_eigen.hpp"
#include "chempp/core/error.hpp"

namespace chempp::io {

/// Column naming of a written catalogue.
enum class catalog_convention {
  galah,   ///< lower case: `sobject_id`, `fe_h`, `e_fe_h` (GALAH DR3)
  apogee,  ///< upper case: `APOGEE_ID`, `FE_H`, `FE_H_ERR` (APOGEE DR17)
};

/// Options of the catalogue readers beyond the wanted observables.
struct catalog_options {
  /// A column labelling each star's population (`chempp-infer --group-by`; matched
  /// case-insensitively); each star's label goes to `abundance_catalog::group`. Empty: none.
  std::string group_column;
  /// Read only the data rows r (0-based, see `abundance_catalog::row`) with r % stride == offset
  /// (e.g. stride = MPI size, offset = rank: the rows split over processes); the other rows are
  /// skipped unparsed (their errors are found by the process that reads them).
  std::size_t stride = 1, offset = 0;
};

/// A stellar abundance catalogue: one row per star, one column per observable.
struct abundance_catalog {
  std::vector<std::string> observables;  ///< the wanted observable names, as passed
  Eigen::MatrixXd x;      ///< stars × observables: abundance [dex], NaN where not measured
  Eigen::MatrixXd sigma;  ///< stars × observables: 1σ uncertainty [dex], NaN where not measured
  Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic> measured;  ///< stars × observables
  std::vector<std::size_t> line;  ///< 1-based source line of each star
  /// 0-based data row of each star in its source (CSV: counting the non-blank lines after the
  /// header, the rows left out by flags or by a strided read included; FITS: table row − 1):
  /// the catalog-wide index that keys the star's random numbers (`pipeline::catalog_stars`).
  /// Empty for catalogues built by hand (their stars are then keyed by position).
  std::vector<std::size_t> row;
  /// With `catalog_options::group_column`: each star's population label (the cell's text,
  /// trimmed), e.g. a radial bin; empty otherwise.
  std::vector<std::string> group;
  std::string group_column;  ///< header name of the group column, as spelled in the file
  std::vector<std::string> id;    ///< identifier of each star, empty strings without id column
  std::string source;             ///< file (or source) name, for messages
  std::string id_column;          ///< header name of the identifier column; empty if none
  /// Header names (as spelled in the file) of each observable's abundance and uncertainty
  /// columns; empty where absent. Filled by the parser, ignored by the writer.
  std::vector<std::string> value_column, sigma_column;
  /// Header names of each observable's quality-flag column (`flag_<name>` / `<NAME>_FLAG`);
  /// empty where absent. Filled by the readers, ignored by the writer.
  std::vector<std::string> flag_column;
  /// Per observable: how many stars had the abundance given but discarded because its quality
  /// flag is nonzero (the stars in `dropped` included). Filled by the readers (zeros without
  /// flag columns), ignored by the writer.
  std::vector<std::size_t> flagged;
  /// Lines (CSV) or 1-based table rows (FITS) of the stars left out because every abundance
  /// they had was flagged. Filled by the readers, ignored by the writer.
  std::vector<std::size_t> dropped;

  /// Number of stars (rows).
  [[nodiscard]] std::size_t stars() const noexcept { return static_cast<std::size_t>(x.rows()); }

  /// Number of observables (columns).
  [[nodiscard]] std::size_t n_observables() const noexcept { return observables.size(); }

  /// Number of stars with observable `obs` measured. \throws invalid_argument if out of range.
  [[nodiscard]] std::size_t n_measured(std::size_t obs) const {
    if (obs >= observables.size() || static_cast<Eigen::Index>(obs) >= measured.cols()) {
      throw invalid_argument("abundance_catalog::n_measured: observable index " +
                             std::to_string(obs) + " is out of range (" +
                             std::to_string(observables.size()) + " observables)");
    }
    return static_cast<std::size_t>(measured.col(static_cast<Eigen::Index>(obs)).count());
  }

  /// Number of stars whose abundance `obs` was discarded by a nonzero quality flag (0 when
  /// `flagged` is not filled). \throws invalid_argument if out of range.
  [[nodiscard]] std::size_t n_flagged(std::size_t obs) const {
    if (obs >= observables.size()) {
      throw invalid_argument("abundance_catalog::n_flagged: observable index " +
                             std::to_string(obs) + " is out of range (" +
                             std::to_string(observables.size()) + " observables)");
    }
    return obs < flagged.size() ? flagged[obs] : 0;
  }

  /// The wanted observables the catalogue cannot provide at all: those measured for no star
  /// (the column is absent, every cell is empty or `nan`, or every value was flagged), in the
  /// order of `observables`.
  [[nodiscard]] std::vector<std::string> missing_observables() const {
    std::vector<std::string> out;
    for (std::size_t k = 0; k < observables.size(); ++k) {
      const auto c = static_cast<Eigen::Index>(k);
      if (c >= measured.cols() || !measured.col(c).any()) out.push_back(observables[k]);
    }
    return out;
  }

  /// Position of observable `name` (compared case-insensitively).
  /// \throws invalid_argument if the catalogue has no such observable.
  [[nodiscard]] std::size_t index(std::string_view name) const;
};

namespace detail::csv {

inline constexpr std::array<std::string_view, 4> id_column_names = {"id", "star_id", "sobject_id",
                                                                    "apogee_id"};

inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

inline std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

inline std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

/// The cells of one CSV record, or the cell at which it is malformed and why.
struct record {
  std::vector<std::string> cells;
  std::size_t bad_cell = 0;  ///< 0-based index of the malformed cell (when `problem` is set)
  std::string problem;       ///< empty when the record is well formed
};

/// Splits one line into cells: blanks around cells are removed, `"..."` cells are unquoted.
inline record split(std::string_view s) {
  record r;
  const std::size_t n = s.size();
  std::size_t j = 0;
  for (;;) {
    while (j < n && is_blank(s[j])) ++j;
    std::string cell;
    if (j < n && s[j] == '"') {
      ++j;
      bool closed = false;
      while (j < n) {
        if (s[j] == '"') {
          if (j + 1 < n && s[j + 1] == '"') {
            cell.push_back('"');
            j += 2;
            continue;
          }
          closed = true;
          ++j;
          break;
        }
        cell.push_back(s[j++]);
      }
      if (!closed) {
        r.bad_cell = r.cells.size();
        r.problem = "unterminated quoted cell (line breaks inside quotes are not supported)";
        return r;
      }
      while (j < n && is_blank(s[j])) ++j;
      if (j < n && s[j] != ',') {
        r.bad_cell = r.cells.size();
        r.problem = "unexpected text after the closing quote of a quoted cell";
        return r;
      }
    } else {
      std::size_t k = s.find(',', j);
      if (k == std::string_view::npos) k = n;
      cell = std::string(trim(s.substr(j, k - j)));
      j = k;
    }
    r.cells.push_back(std::move(cell));
    if (j >= n) break;
    ++j;  // the comma
  }
  return r;
}

/// True for a line of blanks only.
inline bool blank_line(std::string_view s) noexcept { return trim(s).empty(); }

/// The number in a cell, or nullopt for "not given" (empty or `nan` in any case).
/// \throws file_error unless the whole cell is a finite decimal number.
inline std::optional<double> number(std::string_view cell, const std::string& source,
                                    std::size_t line, const std::string& column) {
  const std::string_view t = trim(cell);
  if (t.empty() || lower(t) == "nan") return std::nullopt;
  std::string_view d = t;
  if (d.front() == '+') {
    d.remove_prefix(1);
    if (!d.empty() && (d.front() == '-' || d.front() == '+')) d = std::string_view();
  }
  double value = 0.0;
  const char* last = d.data() + d.size();
  const auto [ptr, ec] = std::from_chars(d.data(), last, value);
  if (ec == std::errc::result_out_of_range) {
    throw file_error(source, line, column, "number out of range: '" + std::string(t) + "'");
  }
  if (d.empty() || ec != std::errc() || ptr != last || !std::isfinite(value)) {
    throw file_error(source, line, column,
                     "malformed number '" + std::string(t) +
                         "' (expected a finite decimal number, or an empty cell or 'nan' for "
                         "not measured)");
  }
  return value;
}

/// Checks a list of observable names. \throws invalid_argument naming `function`.
inline void check_observables(std::string_view function, std::span<const std::string> names) {
  const std::string f(function);
  if (names.empty()) throw invalid_argument(f + ": the list of observables is empty");
  std::map<std::string, std::size_t> seen;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string& name = names[k];
    if (name.empty() || trim(name).size() != name.size() ||
        name.find_first_of("\r\n") != std::string::npos) {
      throw invalid_argument(f + ": observable " + std::to_string(k) + " ('" + name +
                             "') must be a non-empty column name without surrounding blanks "
                             "or line breaks");
    }
    const auto [it, inserted] = seen.emplace(lower(name), k);
    if (!inserted) {
      throw invalid_argument(f + ": observable '" + name + "' is listed twice (also '" +
                             names[it->second] + "'; names are compared case-insensitively)");
    }
  }
}

/// `cell` quoted for CSV where needed so that `split` returns it unchanged.
inline std::string quote(const std::string& cell) {
  const bool needs = cell.find_first_of(",\"") != std::string::npos ||
                     (!cell.empty() && (is_blank(cell.front()) || is_blank(cell.back())));
  if (!needs) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

/// `v` with max_digits10 significant digits (exact round trip), locale-independent.
inline std::string format(double v) {
  std::array<char, 64> buf{};
  const auto [ptr, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::general,
                    std::numeric_limits<double>::max_digits10);
  return std::string(buf.data(), ec == std::errc() ? ptr : buf.data());
}

}  // namespace detail::csv

inline std::size_t abundance_catalog::index(std::string_view name) const {
  const std::string key = detail::csv::lower(name);
  for (std::size_t k = 0; k < observables.size(); ++k) {
    if (detail::csv::lower(observables[k]) == key) return k;
  }
  throw invalid_argument("abundance_catalog::index: no observable '" + std::string(name) +
                         "' (observables: " + detail::csv::join(observables) + ")");
}

/// What the CSV and FITS readers share: matching the header's column names to the wanted
/// observables, the quality flags, and turning each star's cells into the catalogue (one
/// computation in one place, so both formats mean the same).
namespace detail::catalog {

inline constexpr std::size_t none = static_cast<std::size_t>(-1);

/// Where a reader is: the source name, the 1-based line (CSV) or table row (FITS) or 0, and a
/// prefix for messages (e.g. "HDU 1: ").
struct place {
  std::string source;
  std::size_t line = 0;
  std::string prefix;
};

/// \throws file_error at `at`, naming `field`.
[[noreturn]] inline void fail(const place& at, const std::string& field, const std::string& what) {
  throw file_error(at.source, at.line, field, at.prefix + what);
}

/// The header index of the group column `name` (case-insensitive; `none` for an empty name),
/// recorded in `cat.group_column`. \throws file_error at `at` when the header lacks it.
inline std::size_t group_index(std::span<const std::string> header, const std::string& name, abundance_catalog& cat,
                               const place& at) {
  if (name.empty()) return none;
  for (std::size_t c = 0; c < header.size(); ++c)
    if (csv::lower(csv::trim(header[c])) == csv::lower(csv::trim(name))) {
      cat.group_column = header[c];
      return c;
    }
  fail(at, name, "no such column to group the stars by (columns are matched case-insensitively)");
}

/// A star's population label: the trimmed cell. \throws file_error at `at` when it is empty.
inline std::string group_label(std::string_view cell, const place& at, const std::string& column) {
  const std::string_view t = csv::trim(cell);
  if (t.empty()) fail(at, column, "empty population label (every star needs a value in the group column)");
  return std::string(t);
}

/// The columns (indices into the header; `none` where absent) of the wanted observables.
struct columns {
  std::vector<std::size_t> value, sigma, flag;
  std::size_t id = none;
  std::string present;  ///< the abundance columns found, for messages
};

/// Matches `header` (column names in file order) to `observables` (already checked with
/// `csv::check_observables`): each observable's abundance column `<name>`, its uncertainty
/// column `e_<name>` / `<NAME>_ERR`, its flag column `flag_<name>` / `<NAME>_FLAG`, and the
/// identifier column, all case-insensitively. Fills `cat`'s observables, source, column names
/// and a zero `flagged`.
/// \throws file_error at `at` for duplicate names, ambiguous or missing uncertainty columns,
///   ambiguous flag columns, or none of the abundance columns.
inline columns resolve(std::span<const std::string> header,
                       std::span<const std::string> observables, abundance_catalog& cat,
                       const place& at) {
  using csv::lower;
  std::map<std::string, std::size_t> column_of;
  for (std::size_t c = 0; c < header.size(); ++c) {
    const auto [it, inserted] = column_of.emplace(lower(header[c]), c);
    if (!inserted) {
      fail(at, header[c],
           "duplicate column name (same as column " + std::to_string(it->second + 1) + " '" +
               header[it->second] + "'; names are compared case-insensitively)");
    }
  }
  auto find = [&](const std::string& lower_name) {
    const auto it = column_of.find(lower_name);
    return it == column_of.end() ? none : it->second;
  };

  const std::size_t m = observables.size();
  columns cols;
  cols.value.assign(m, none);
  cols.sigma.assign(m, none);
  cols.flag.assign(m, none);
  cat.observables.assign(observables.begin(), observables.end());
  cat.source = at.source;
  cat.value_column.assign(m, std::string());
  cat.sigma_column.assign(m, std::string());
  cat.flag_column.assign(m, std::string());
  cat.flagged.assign(m, 0);
  cat.dropped.clear();
  std::vector<std::string> present;
  for (std::size_t k = 0; k < m; ++k) {
    const std::string name = lower(observables[k]);
    const std::size_t v = find(name), eg = find("e_" + name), ea = find(name + "_err");
    const std::size_t fg = find("flag_" + name), fa = find(name + "_flag");
    const std::string& field = v != none ? header[v] : observables[k];
    if (eg != none && ea != none) {
      fail(at, field,
           "ambiguous uncertainty columns: both '" + header[eg] + "' (GALAH convention) and '" +
               header[ea] + "' (APOGEE convention) are present");
    }
    if (fg != none && fa != none) {
      fail(at, field,
           "ambiguous quality-flag columns: both '" + header[fg] + "' (GALAH convention) and '" +
               header[fa] + "' (APOGEE convention) are present");
    }
    if (v == none) continue;
    const std::size_t e = eg != none ? eg : ea;
    if (e == none) {
      fail(at, header[v],
           "abundance column without uncertainty column (expected 'e_" + name + "' or '" +
               csv::upper(name) + "_ERR')");
    }
    const std::size_t f = fg != none ? fg : fa;
    cols.value[k] = v;
    cols.sigma[k] = e;
    cols.flag[k] = f;
    cat.value_column[k] = header[v];
    cat.sigma_column[k] = header[e];
    if (f != none) cat.flag_column[k] = header[f];
    present.push_back(header[v]);
  }
  if (present.empty()) {
    fail(at, csv::join(cat.observables), "none of the wanted abundance columns is in the header");
  }
  cols.present = csv::join(present);
  cat.id_column.clear();
  for (const auto name : csv::id_column_names) {
    cols.id = find(std::string(name));
    if (cols.id != none) {
      cat.id_column = header[cols.id];
      break;
    }
  }
  return cols;
}

/// The quality flag in a text cell: 0 (not flagged) for an empty cell.
/// \throws file_error at `at` naming `column` unless the cell is an integer.
inline long long flag_cell(std::string_view cell, const place& at, const std::string& column) {
  const std::string_view t = csv::trim(cell);
  if (t.empty()) return 0;
  std::string_view d = t;
  if (d.front() == '+') {
    d.remove_prefix(1);
    if (!d.empty() && (d.front() == '-' || d.front() == '+')) d = std::string_view();
  }
  long long value = 0;
  const char* last = d.data() + d.size();
  const auto [ptr, ec] = std::from_chars(d.data(), last, value);
  if (d.empty() || ec != std::errc() || ptr != last) {
    fail(at, column,
         "malformed quality flag '" + std::string(t) +
             "' (expected an integer: 0 to use the measurement, nonzero to discard it; or an "
             "empty cell for no flag)");
  }
  return value;
}

/// A quality flag held as a floating-point number (a FITS float column): 0 for NaN (null).
/// \throws file_error at `at` naming `column` unless finite and integral.
inline long long flag_number(double v, const place& at, const std::string& column) {
  if (std::isnan(v)) return 0;
  if (!std::isfinite(v) || std::trunc(v) != v || std::fabs(v) > 9.0e15) {
    fail(at, column,
         "malformed quality flag " + chempp::detail::format_value(v) +
             " (expected an integer: 0 to use the measurement, nonzero to discard it)");
  }
  return static_cast<long long>(v);
}

/// One star's cells as read, one entry per wanted observable: the abundance and uncertainty
/// (nullopt for empty, `nan` or null) and the flag (0 when clear or without flag column).
struct star_cells {
  std::vector<std::optional<double>> value, sigma;
  std::vector<long long> flag;
  void reset(std::size_t m) {
    value.assign(m, std::nullopt);
    sigma.assign(m, std::nullopt);
    flag.assign(m, 0);
  }
};

/// Turns stars' cells into the catalogue's rows (row-major until `finish`).
class builder {
 public:
  builder(abundance_catalog& cat, const columns& cols) : cat_(cat), cols_(cols) {}

  /// Adds one star read at `at` (its line or row): a nonzero flag discards the abundance (counted
  /// in `flagged`); a star all of whose given abundances are flagged goes to `dropped`.
  /// \throws file_error at `at` for a non-finite number, a measured abundance without a positive
  ///   uncertainty, or a star with no abundance given.
  void add(const star_cells& s, std::string id, const place& at, std::size_t row = none, std::string group = {}) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    const std::size_t m = cat_.observables.size();
    const std::size_t start = ms_.size();
    bool any = false, any_flagged = false;
    for (std::size_t k = 0; k < m; ++k) {
      const auto& value = s.value[k];
      const auto& error = s.sigma[k];
      if (cols_.value[k] != none) {
        finite(value, cat_.value_column[k], at);
        finite(error, cat_.sigma_column[k], at);
      }
      if (cols_.value[k] == none || !value) {
        push(nan, nan, false);
        continue;
      }
      if (s.flag[k] != 0) {
        ++cat_.flagged[k];
        any_flagged = true;
        push(nan, nan, false);
        continue;
      }
      if (!error) {
        fail(
            at, cat_.sigma_column[k],
            "uncertainty is missing (empty or nan) but '" + cat_.value_column[k] + "' is measured");
      }
      if (!(*error > 0.0)) {
        fail(at, cat_.sigma_column[k],
             "uncertainty must be positive (got " + chempp::detail::format_value(*error) + ")");
      }
      push(*value, *error, true);
      any = true;
    }
    if (!any) {
      xs_.resize(start);
      ss_.resize(start);
      ms_.resize(start);
      if (any_flagged) {
        cat_.dropped.push_back(at.line);
        return;
      }
      fail(at, cols_.present,
           "star has no measured abundance (every abundance cell is empty or nan)");
    }
    cat_.line.push_back(at.line);
    cat_.id.push_back(std::move(id));
    if (row != none) cat_.row.push_back(row);
    if (!cat_.group_column.empty()) cat_.group.push_back(std::move(group));
  }

  /// Moves the rows into `x`, `sigma` and `measured`.
  void finish() {
    const auto n = static_cast<Eigen::Index>(cat_.line.size());
    const auto cols = static_cast<Eigen::Index>(cat_.observables.size());
    cat_.x.resize(n, cols);
    cat_.sigma.resize(n, cols);
    cat_.measured.resize(n, cols);
    std::size_t p = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index k = 0; k < cols; ++k, ++p) {
        cat_.x(i, k) = xs_[p];
        cat_.sigma(i, k) = ss_[p];
        cat_.measured(i, k) = ms_[p] != 0;
      }
    }
  }

 private:
  static void finite(const std::optional<double>& cell, const std::string& column,
                     const place& at) {
    if (cell && !std::isfinite(*cell)) {
      fail(at, column,
           "value " + chempp::detail::format_value(*cell) +
               " is not finite (expected a finite number, or empty, nan or null for not "
               "measured)");
    }
  }
  void push(double x, double s, bool measured) {
    xs_.push_back(x);
    ss_.push_back(s);
    ms_.push_back(measured ? 1 : 0);
  }
  abundance_catalog& cat_;
  const columns& cols_;
  std::vector<double> xs_, ss_;
  std::vector<char> ms_;
};

}  // namespace detail::catalog

/// Parses a CSV abundance catalogue (see the file comment for the format).
///
/// `observables` are the wanted abundance column names in the model's order, e.g.
/// {"c_fe", "fe_h", "he_fe", "mg_fe", "n_fe", "ne_fe", "o_fe", "si_fe"}; matched
/// case-insensitively, each with its uncertainty column `e_<name>` or `<NAME>_ERR`. The
/// uncertainty of an unmeasured abundance is ignored (it must still be empty, `nan` or a
/// number). An optional flag column `flag_<name>` or `<NAME>_FLAG` discards the abundance where
/// it is nonzero (counted in `flagged`; a star left with nothing goes to `dropped`). A header
/// without data rows gives a catalogue of zero stars.
///
/// \throws invalid_argument if `observables` is empty, lists a name twice (case-insensitively)
///   or holds an empty name.
/// \throws file_error naming `source_name`, the 1-based line and the column for: no header
///   (empty input); duplicate header columns; an abundance column without uncertainty column;
///   both `e_<name>` and `<NAME>_ERR` (or both `flag_<name>` and `<NAME>_FLAG`) for a wanted
///   observable (even one whose abundance column is absent); none of the wanted abundance
///   columns present; a flag cell that is neither empty nor an integer;
///   a line with the wrong number of cells; a malformed quoted cell; a cell of an abundance or
///   uncertainty column that is not empty, `nan` or a finite number; a measured abundance
///   whose uncertainty is empty, `nan`, zero or negative; a star with nothing measured (the
///   field lists the abundance columns).
inline abundance_catalog parse_abundance_catalog(std::istream& in, const std::string& source_name,
                                                 std::span<const std::string> observables,
                                                 const catalog_options& options = {}) {
  namespace csv = detail::csv;
  csv::check_observables("parse_abundance_catalog", observables);
  if (options.stride == 0 || options.offset >= options.stride)
    throw invalid_argument("parse_abundance_catalog: catalog_options needs stride >= 1 and offset < stride (got stride " +
                           std::to_string(options.stride) + ", offset " + std::to_string(options.offset) + ")");
  const std::string& src = source_name;

  // Header: the first non-blank line.
  std::string text;
  std::size_t line_no = 0, header_line = 0;
  std::vector<std::string> header;
  while (std::getline(in, text)) {
    ++line_no;
    if (line_no == 1 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (csv::blank_line(text)) continue;
    header_line = line_no;
    csv::record r = csv::split(text);
    if (!r.problem.empty()) {
      throw file_error(src, line_no, "column " + std::to_string(r.bad_cell + 1), r.problem);
    }
    header = std::move(r.cells);
    break;
  }
  if (in.bad()) throw file_error(src, line_no + 1, "", "read error");
  if (header_line == 0) {
    throw file_error(src, 1, "header", "no header row (the input is empty or blank)");
  }

  namespace cg = detail::catalog;
  abundance_catalog cat;
  const cg::columns cols = cg::resolve(header, observables, cat, cg::place{src, header_line, ""});
  const std::size_t m = observables.size();
  const std::size_t group = cg::group_index(header, options.group_column, cat, cg::place{src, header_line, ""});

  // Data rows.
  cg::builder rows(cat, cols);
  cg::star_cells star;
  cg::place at{src, 0, ""};
  std::size_t data_row = 0;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (csv::blank_line(text)) continue;
    const std::size_t this_row = data_row++;
    if (this_row % options.stride != options.offset) continue;
    csv::record r = csv::split(text);
    if (!r.problem.empty()) {
      throw file_error(src, line_no,
                       r.bad_cell < header.size() ? header[r.bad_cell]
                                                  : "column " + std::to_string(r.bad_cell + 1),
                       r.problem);
    }
    if (r.cells.size() != header.size()) {
      throw file_error(src, line_no, r.cells.size() < header.size() ? header[r.cells.size()] : "",
                       "line has " + std::to_string(r.cells.size()) + " cells, the header has " +
                           std::to_string(header.size()) + " columns");
    }
    at.line = line_no;
    star.reset(m);
    for (std::size_t k = 0; k < m; ++k) {
      if (cols.value[k] == cg::none) continue;
      star.value[k] = csv::number(r.cells[cols.value[k]], src, line_no, header[cols.value[k]]);
      star.sigma[k] = csv::number(r.cells[cols.sigma[k]], src, line_no, header[cols.sigma[k]]);
      if (cols.flag[k] != cg::none) {
        star.flag[k] = cg::flag_cell(r.cells[cols.flag[k]], at, header[cols.flag[k]]);
      }
    }
    std::string label;
    if (group != cg::none) label = cg::group_label(r.cells[group], at, header[group]);
    rows.add(star, cols.id != cg::none ? r.cells[cols.id] : std::string(), at, this_row, std::move(label));
  }
  if (in.bad()) throw file_error(src, line_no + 1, "", "read error");
  rows.finish();
  return cat;
}

/// A catalogue from in-memory columns (e.g. a Python dict of numpy arrays): `names[c]` and
/// `data[c]` (one number per star; NaN = not given) with the same column matching, uncertainty
/// and flag rules as `parse_abundance_catalog` (a flag is nonzero = discard; it must be an
/// integer). Rows are numbered from 1 in messages and `line`; the identifier column, when
/// numeric, is kept as its decimal text. \throws invalid_argument for columns of different
/// lengths or a names/data size mismatch; file_error (source `source_name`) as
/// `parse_abundance_catalog`.
inline abundance_catalog catalog_from_columns(std::span<const std::string> names, std::span<const std::vector<double>> data,
                                              std::span<const std::string> observables,
                                              const std::string& source_name = "columns") {
  detail::csv::check_observables("catalog_from_columns", observables);
  if (names.size() != data.size())
    throw invalid_argument("catalog_from_columns: " + std::to_string(names.size()) + " names for " + std::to_string(data.size()) +
                           " columns");
  const std::size_t n = data.empty() ? 0 : data[0].size();
  for (std::size_t c = 0; c < data.size(); ++c)
    if (data[c].size() != n)
      throw invalid_argument("catalog_from_columns: column '" + names[c] + "' has " + std::to_string(data[c].size()) +
                             " values, column '" + names[0] + "' " + std::to_string(n));
  namespace cg = detail::catalog;
  abundance_catalog cat;
  const cg::columns cols = cg::resolve(names, observables, cat, cg::place{source_name, 0, ""});
  const std::size_t m = observables.size();
  cg::builder rows(cat, cols);
  cg::star_cells star;
  cg::place at{source_name, 0, ""};
  const auto given = [](double v) { return std::isnan(v) ? std::optional<double>{} : std::optional<double>{v}; };
  for (std::size_t i = 0; i < n; ++i) {
    at.line = i + 1;
    star.reset(m);
    for (std::size_t k = 0; k < m; ++k) {
      if (cols.value[k] == cg::none) continue;
      star.value[k] = given(data[cols.value[k]][i]);
      star.sigma[k] = given(data[cols.sigma[k]][i]);
      if (cols.flag[k] != cg::none) star.flag[k] = cg::flag_number(data[cols.flag[k]][i], at, names[cols.flag[k]]);
    }
    rows.add(star, cols.id != cg::none ? detail::csv::format(data[cols.id][i]) : std::string(), at, i);
  }
  rows.finish();
  return cat;
}

/// Reads a CSV abundance catalogue from `file`; see `parse_abundance_catalog`.
/// \throws file_error if the file cannot be opened, or as `parse_abundance_catalog`.
inline abundance_catalog read_abundance_catalog(const std::filesystem::path& file,
                                                std::span<const std::string> observables,
                                                const catalog_options& options = {}) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw file_error(file.string(), 0, "", "cannot open file (missing or unreadable)");
  return parse_abundance_catalog(in, file.string(), observables, options);
}

/// Writes `catalog` as CSV that `parse_abundance_catalog` reads back exactly (numbers with
/// max_digits10 significant digits): an identifier column (`sobject_id` / `APOGEE_ID`) when any
/// star has a non-empty id, the group column (`group_column`) when `group` is filled, then for each observable its abundance and uncertainty columns
/// named after `convention`. Unmeasured cells are left empty. Lines end with LF.
///
/// \throws invalid_argument if the observables are invalid (as for the parser), the shapes of
///   `x`, `sigma`, `measured` and `id` disagree, a star has nothing measured, a measured value
///   is not finite or its uncertainty not positive, or an id holds a line break.
/// \throws chempp::error if the stream fails.
inline void write_abundance_catalog(std::ostream& out, const abundance_catalog& catalog,
                                    catalog_convention convention) {
  namespace csv = detail::csv;
  const std::string fn = "write_abundance_catalog";
  csv::check_observables(fn, catalog.observables);
  const Eigen::Index n = catalog.x.rows();
  const auto m = static_cast<Eigen::Index>(catalog.observables.size());
  auto shape = [](Eigen::Index r, Eigen::Index c) {
    return std::to_string(r) + " x " + std::to_string(c);
  };
  if (catalog.x.cols() != m || catalog.sigma.rows() != n || catalog.sigma.cols() != m ||
      catalog.measured.rows() != n || catalog.measured.cols() != m) {
    throw invalid_argument(fn + ": x (" + shape(catalog.x.rows(), catalog.x.cols()) + "), sigma (" +
                           shape(catalog.sigma.rows(), catalog.sigma.cols()) + ") and measured (" +
                           shape(catalog.measured.rows(), catalog.measured.cols()) +
                           ") must all be stars x " + std::to_string(m) +
                           " (one column per "
                           "observable)");
  }
  if (!catalog.id.empty() && static_cast<Eigen::Index>(catalog.id.size()) != n) {
    throw invalid_argument(fn + ": id has " + std::to_string(catalog.id.size()) + " entries for " +
                           std::to_string(n) + " stars");
  }
  const bool with_group = !catalog.group.empty();
  if (with_group) {
    if (static_cast<Eigen::Index>(catalog.group.size()) != n)
      throw invalid_argument(fn + ": group has " + std::to_string(catalog.group.size()) + " entries for " + std::to_string(n) + " stars");
    if (catalog.group_column.empty()) throw invalid_argument(fn + ": group labels given without group_column (its header name)");
    for (const auto& g : catalog.group)
      if (csv::trim(g).empty() || g.find_first_of("\r\n") != std::string::npos)
        throw invalid_argument(fn + ": population label '" + g + "' is empty or holds a line break");
  }
  bool with_id = false;
  for (const auto& s : catalog.id) {
    if (s.find_first_of("\r\n") != std::string::npos) {
      throw invalid_argument(fn + ": star id '" + s + "' holds a line break");
    }
    with_id = with_id || !s.empty();
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    if (!catalog.measured.row(i).any()) {
      throw invalid_argument(fn + ": star " + std::to_string(i) + " has no measured abundance");
    }
    for (Eigen::Index k = 0; k < m; ++k) {
      if (!catalog.measured(i, k)) continue;
      const std::string at = fn + ": star " + std::to_string(i) + ", " +
                             catalog.observables[static_cast<std::size_t>(k)];
      const double v = catalog.x(i, k), s = catalog.sigma(i, k);
      if (!std::isfinite(v)) {
        throw invalid_argument(at + ": measured value is not finite (got " +
                               chempp::detail::format_value(v) + ")");
      }
      if (!std::isfinite(s) || !(s > 0.0)) {
        throw invalid_argument(at + ": uncertainty must be finite and positive (got " +
                               chempp::detail::format_value(s) + ")");
      }
    }
  }

  const bool galah = convention == catalog_convention::galah;
  std::vector<std::string> head;
  if (with_id) head.emplace_back(galah ? "sobject_id" : "APOGEE_ID");
  if (with_group) head.push_back(catalog.group_column);
  for (const auto& name : catalog.observables) {
    head.push_back(galah ? csv::lower(name) : csv::upper(name));
    head.push_back(galah ? "e_" + csv::lower(name) : csv::upper(name) + "_ERR");
  }
  auto write_row = [&out](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) out << ',';
      out << csv::quote(cells[c]);
    }
    out << '\n';
  };
  write_row(head);
  std::vector<std::string> cells;
  for (Eigen::Index i = 0; i < n; ++i) {
    cells.clear();
    if (with_id) cells.push_back(catalog.id[static_cast<std::size_t>(i)]);
    if (with_group) cells.push_back(catalog.group[static_cast<std::size_t>(i)]);
    for (Eigen::Index k = 0; k < m; ++k) {
      if (catalog.measured(i, k)) {
        cells.push_back(csv::format(catalog.x(i, k)));
        cells.push_back(csv::format(catalog.sigma(i, k)));
      } else {
        cells.emplace_back();
        cells.emplace_back();
      }
    }
    write_row(cells);
  }
  if (!out) throw error(fn + ": writing to the stream failed");
}

}  // namespace chempp::io
