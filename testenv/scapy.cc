// SPDX-License-Identifier: Apache-2.0
#include "testenv/scapy.h"

#include "common/str_cat.h"

namespace netmon::testenv {

std::string ScapyScript(const std::string& name) {
  return StrCat(NETMON_TESTENV_SCAPY_DIR, "/", name);
}

std::vector<std::string> ScapyArgv(const std::string& name, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kSystemPython, ScapyScript(name)};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace netmon::testenv
