// SPDX-License-Identifier: Apache-2.0
// Where the scapy helpers (testenv/scapy/) live, and the interpreter that has scapy: Debian's python3-scapy is
// installed for /usr/bin/python3 only, not for whatever python3 comes first in PATH.
#pragma once

#include <string>
#include <vector>

namespace netmon::testenv {

inline constexpr char kSystemPython[] = "/usr/bin/python3";

// Absolute path of a script in testenv/scapy/, e.g. ScapyScript("send_crafted.py").
std::string ScapyScript(const std::string& name);

// argv that runs a scapy script with the right interpreter: {kSystemPython, ScapyScript(name), args...}.
std::vector<std::string> ScapyArgv(const std::string& name, const std::vector<std::string>& args);

}  // namespace netmon::testenv
