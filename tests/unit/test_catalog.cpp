// The package catalog (mappings/mappings.d/*.yaml) is data that ships to every user:
// these tests hold each file to the rules the catalog promises in its header.

#include "mapping/entry.hpp"
#include "mapping/loader.hpp"
#include "mapping/validate.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <yaml-cpp/yaml.h>

#ifndef FOD_SOURCE_DIR
#error "FOD_SOURCE_DIR must name the source tree (set in tests/CMakeLists.txt)"
#endif

namespace {

namespace fs = std::filesystem;

struct CatalogFile {
  std::string path;
  std::string text;
  std::vector<std::string> lines;
};

std::vector<CatalogFile> catalog_files() {
  const fs::path dir = fs::path(FOD_SOURCE_DIR) / "mappings" / "mappings.d";
  std::vector<CatalogFile> files;
  for (const auto &item : fs::directory_iterator(dir)) {
    if (item.path().extension() != ".yaml") {
      continue;
    }
    std::ifstream in(item.path());
    std::stringstream buffer;
    buffer << in.rdbuf();
    CatalogFile file{item.path().string(), buffer.str(), {}};
    std::istringstream lines(file.text);
    for (std::string line; std::getline(lines, line);) {
      file.lines.push_back(line);
    }
    files.push_back(std::move(file));
  }
  std::sort(files.begin(), files.end(),
            [](const CatalogFile &a, const CatalogFile &b) { return a.path < b.path; });
  return files;
}

// The comment lines directly above 1-based line `line` (no blank line between), joined.
std::string comment_above(const CatalogFile &file, int line) {
  std::vector<std::string> block;
  for (int i = line - 2; i >= 0; --i) {
    const std::string &text = file.lines[static_cast<size_t>(i)];
    auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] != '#') {
      break;
    }
    block.insert(block.begin(), text.substr(first));
  }
  std::string joined;
  for (const auto &text : block) {
    joined += text + "\n";
  }
  return joined;
}

// True when word occurs in text and is not merely the start of a longer path or name.
bool mentions(const std::string &text, const std::string &word) {
  auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '/' ||
           c == '-';
  };
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    auto end = at + word.size();
    // A trailing '.' ends a sentence, not a path.
    bool ends = end == text.size() || !is_name_char(text[end]) ||
                (text[end] == '.' && (end + 1 == text.size() || !is_name_char(text[end + 1])));
    bool starts = at == 0 || !is_name_char(text[at - 1]);
    if (starts && ends) {
      return true;
    }
  }
  return false;
}

} // namespace

TEST_CASE("catalog: every file loads without a single diagnostic", "[unit][catalog]") {
  auto files = catalog_files();
  REQUIRE(files.size() >= 5);
  for (const auto &file : files) {
    INFO(file.path);
    fod::mapping::Mapping mapping;
    fod::mapping::apply_mapping_text(file.text, "package", file.path, mapping);
    CHECK(mapping.diagnostics == std::vector<std::string>{});
    CHECK_FALSE(mapping.entries.empty());
  }
}

TEST_CASE("catalog: maps at least 60 commands, each name defined once across all files",
          "[unit][catalog]") {
  std::map<std::string, std::string> defined_in;
  for (const auto &file : catalog_files()) {
    // Counted from the YAML itself: the loader would let a repeated key replace the first.
    YAML::Node root = YAML::Load(file.text);
    for (const auto &item : root["commands"]) {
      const auto name = item.first.Scalar();
      INFO(name << " in " << file.path);
      auto [it, inserted] = defined_in.emplace(name, file.path);
      CHECK((inserted ? std::string() : "already defined in " + it->second) == "");
    }
  }
  CHECK(defined_in.size() >= 60);
}

TEST_CASE("catalog: every image is fully qualified and pinned to a tag or digest",
          "[unit][catalog]") {
  for (const auto &file : catalog_files()) {
    fod::mapping::Mapping mapping;
    fod::mapping::apply_mapping_text(file.text, "package", file.path, mapping);
    for (const auto &[name, entry] : mapping.entries) {
      INFO(name << " in " << file.path << ": " << entry.image);
      CHECK(fod::mapping::check_image_reference(entry.image) == std::nullopt);
      // A registry host first: short names resolve differently per engine and configuration.
      auto slash = entry.image.find('/');
      REQUIRE(slash != std::string::npos);
      CHECK(entry.image.substr(0, slash).find('.') != std::string::npos);
      // "latest" is a tag, but it pins nothing.
      auto name_part = entry.image.substr(0, entry.image.find('@'));
      const bool latest =
          name_part.size() >= 7 && name_part.compare(name_part.size() - 7, 7, ":latest") == 0;
      CHECK_FALSE(latest);
    }
  }
}

TEST_CASE("catalog: every entry states its network explicitly", "[unit][catalog]") {
  for (const auto &file : catalog_files()) {
    YAML::Node root = YAML::Load(file.text);
    for (const auto &item : root["commands"]) {
      INFO(item.first.Scalar() << " in " << file.path);
      const YAML::Node network = item.second["network"];
      REQUIRE(network.IsDefined());
      CHECK(fod::mapping::parse_network(network.Scalar()).has_value());
    }
  }
}

TEST_CASE("catalog: a comment above each entry explains every capability and mount",
          "[unit][catalog]") {
  int explained = 0;
  for (const auto &file : catalog_files()) {
    fod::mapping::Mapping mapping;
    fod::mapping::apply_mapping_text(file.text, "package", file.path, mapping);
    for (const auto &[name, entry] : mapping.entries) {
      if (entry.capabilities.empty() && entry.mounts.empty()) {
        continue;
      }
      INFO(name << " at " << file.path << ":" << entry.origin.line);
      const std::string comment = comment_above(file, entry.origin.line);
      INFO("comment above it:\n" << comment);
      for (const auto &capability : entry.capabilities) {
        INFO("capability " << capability);
        CHECK(mentions(comment, capability));
      }
      for (const auto &mount : entry.mounts) {
        INFO("mount " << mount.path);
        CHECK(mentions(comment, mount.path));
      }
      ++explained;
    }
  }
  CHECK(explained > 0);
}

TEST_CASE("catalog: the comment check finds what is missing", "[unit][catalog]") {
  CatalogFile file{
      "inline.yaml",
      "",
      {"commands:", "  # ~/.kube: kubeconfig", "  kubectl:", "", "  # NET_RAW only", "  tcpdump:"}};
  CHECK(mentions(comment_above(file, 3), "~/.kube"));
  CHECK_FALSE(mentions(comment_above(file, 3), "~/.ku"));
  CHECK_FALSE(mentions(comment_above(file, 3), "~/.kube/cache"));
  CHECK(mentions(comment_above(file, 6), "NET_RAW"));
  CHECK_FALSE(mentions(comment_above(file, 6), "NET_ADMIN"));
  CHECK(comment_above(file, 1).empty());
}
