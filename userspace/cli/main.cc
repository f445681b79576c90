// SPDX-License-Identifier: Apache-2.0
// netmonctl: the operator's command line for netmon (docs/architecture.md §2). See `netmonctl --help`.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/interrupt.h"

int main(int argc, char** argv) {
  netmon::cli::Interrupt::Get().Install();
  std::vector<std::string> args(argv + 1, argv + argc);
  bool terminal = isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1;
  return netmon::cli::Run(args, terminal, std::getenv("NETMON_SECURITY"));
}
