// vringsim schema [scenario|sweep|calibration]: a JSON Schema (draft
// 2020-12) of each input file, so that editors complete and check them.
// The scenario schema is generated from the parameter declarations (the
// same ones `vringsim params` lists and the loader enforces); checks that a
// declaration adds in code are the loader's alone, so a document the schema
// accepts may still be refused, with a message naming the key.
#pragma once

#include <string>

#include "app/command.hpp"
#include "sim/core/params.hpp"

namespace vringsim {

Json json_schema(const std::string& kind);
int cmd_schema(const std::string& kind);

/// `vringsim schema`: adds the command to `app` (app/command.hpp).
Command schema_command(CLI::App& app);

}  // namespace vringsim
