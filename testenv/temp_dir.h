// SPDX-License-Identifier: Apache-2.0
// A throwaway directory for one test (or one test binary): made fresh under $TMPDIR (default /tmp), removed with
// everything in it on destruction.
#pragma once

#include <string>

namespace netmon::testenv {

class TempDir {
 public:
  TempDir();  // throws std::runtime_error if the directory cannot be made
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `content` to <path>/<name> (replacing it) and returns that file's path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace netmon::testenv
