#include "adaptive/history.hpp"

#include "base/dirs.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fod::adaptive {

namespace {

// A retry means another process compacted and replaced the file meanwhile:
// progress, so the bound only has to outlast a burst of writers (three was too
// few for four writers on two busy cores: a record was lost on CI).
constexpr int replaced_file_retries = 64;

bool is_field(const std::string &text) {
  return !text.empty() && text.size() <= 1024 && std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ';
  });
}

bool is_kind(char c) {
  return c == 'C' || c == 'W' || c == 'P' || c == 'R';
}

// Splits on single spaces; fields are never empty.
std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) {
      end = line.size();
    }
    fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  return fields;
}

std::optional<double> number(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !(value >= 0) || value > 1e12) {
    return std::nullopt;
  }
  return value;
}

void lock_fd(int fd, int op) {
  while (flock(fd, op) != 0 && errno == EINTR) {
  }
}

} // namespace

std::optional<std::string> format_record(const Record &r) {
  if (!is_kind(static_cast<char>(r.kind)) || !is_field(r.command) || !is_field(r.image) ||
      !is_field(r.key)) {
    return std::nullopt;
  }
  auto clean = [](double v) { return v >= 0 && v < 1e12 ? v : 0.0; };
  return fmt::format("{} {:.3f} {:.3f} {:.3f} {} {} {}\n", static_cast<char>(r.kind), clean(r.time),
                     clean(r.setup), clean(r.duration), r.command, r.image, r.key);
}

std::optional<Record> parse_record(std::string_view line) {
  if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
  }
  auto fields = split(line);
  if (fields.size() != 7 || fields[0].size() != 1 || !is_kind(fields[0][0])) {
    return std::nullopt;
  }
  for (const auto &field : fields) {
    if (field.empty()) {
      return std::nullopt;
    }
  }
  auto time = number(fields[1]);
  auto setup = number(fields[2]);
  auto duration = number(fields[3]);
  if (!time || !setup || !duration) {
    return std::nullopt;
  }
  Record r;
  r.kind = static_cast<Kind>(fields[0][0]);
  r.time = *time;
  r.setup = *setup;
  r.duration = *duration;
  r.command = std::string(fields[4]);
  r.image = std::string(fields[5]);
  r.key = std::string(fields[6]);
  return r;
}

std::vector<Record> parse_records(std::string_view text) {
  std::vector<Record> records;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      break; // a torn last line: an append that did not finish
    }
    if (auto r = parse_record(text.substr(start, end - start))) {
      records.push_back(std::move(*r));
    }
    start = end + 1;
  }
  return records;
}

std::vector<Record> read_history(const std::string &path) {
  auto text = util::read_file(path);
  if (!text) {
    return {};
  }
  auto records = parse_records(*text);
  // Runs are appended when they end, so a long run lands after shorter ones.
  std::stable_sort(records.begin(), records.end(),
                   [](const Record &a, const Record &b) { return a.time < b.time; });
  return records;
}

std::vector<Record> compact_records(const std::vector<Record> &records,
                                    const HistoryLimits &limits) {
  size_t bytes = 0;
  size_t first = records.size();
  while (first > 0 && records.size() - first < limits.keep_records) {
    auto line = format_record(records[first - 1]);
    size_t size = line ? line->size() : 0;
    if (bytes + size > limits.max_bytes / 2) {
      break;
    }
    bytes += size;
    --first;
  }
  return {records.begin() + static_cast<long>(first), records.end()};
}

bool append_record(const std::string &path, const Record &record, const HistoryLimits &limits) {
  auto line = format_record(record);
  if (!line) {
    return false;
  }
  for (int attempt = 0; attempt < replaced_file_retries; ++attempt) {
    int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
      util::make_directories(util::dirname(path), 0700); // the first record
      fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
      return false;
    }
    lock_fd(fd, LOCK_SH);
    struct stat st {};
    if (fstat(fd, &st) != 0 || st.st_nlink == 0) {
      close(fd); // compacted and replaced while we waited: append to the new file
      continue;
    }
    bool ok = util::write_all(fd, *line);
    close(fd);
    if (ok && static_cast<size_t>(st.st_size) + line->size() > limits.max_bytes) {
      compact_history(path, limits);
    }
    return ok;
  }
  return false;
}

bool compact_history(const std::string &path, const HistoryLimits &limits) {
  for (int attempt = 0; attempt < replaced_file_retries; ++attempt) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return false;
    }
    lock_fd(fd, LOCK_EX);
    struct stat st {};
    if (fstat(fd, &st) != 0 || st.st_nlink == 0) {
      close(fd);
      continue;
    }
    if (static_cast<size_t>(st.st_size) <= limits.max_bytes) {
      close(fd); // another process compacted it first
      return true;
    }
    auto content = util::read_all(fd);
    if (!content) {
      close(fd); // unread records are never dropped: the next append tries again
      return false;
    }
    auto kept = compact_records(parse_records(*content), limits);
    std::string text;
    for (const auto &r : kept) {
      text += format_record(r).value_or("");
    }
    // Renamed over the old file while its lock is held: appenders waiting on the
    // old file see it unlinked and reopen.
    bool ok = util::write_file_atomic(path, text, 0600);
    close(fd);
    return ok;
  }
  return false;
}

std::string default_history_path() {
  return util::join(dirs::state(), "history");
}

} // namespace fod::adaptive
