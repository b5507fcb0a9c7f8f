#include "app/schema_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/params.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {

namespace {

constexpr const char* kDialect = "https://json-schema.org/draft/2020-12/schema";

Json with_null(Json schema, const Json& def) {
  // A parameter whose default is null ("no limit") may be written as null.
  if (def.is_null() && schema.contains("type")) schema["type"] = Json::array({schema["type"], "null"});
  return schema;
}

/// One parameter's value, as its declaration constrains it (the checks a
/// declaration adds in code, .must(), are the loader's: a valid document can
/// still be refused, with a message).
Json value_schema(const ParamSpec& p) {
  Json s;
  auto bounds = [&p](Json& t) {
    if (p.int_min) t["minimum"] = *p.int_min;  // exact: 2^63 - 1, not 9.223372036854776e18
    else if (p.min) t["minimum"] = *p.min;
    if (p.int_max) t["maximum"] = *p.int_max;
    else if (p.max) t["maximum"] = *p.max;
  };
  switch (p.type) {
    case ParamType::Integer: s = {{"type", "integer"}}; bounds(s); break;
    case ParamType::Number: s = {{"type", "number"}}; bounds(s); break;
    case ParamType::Boolean: s = {{"type", "boolean"}}; break;
    case ParamType::String:
      s = {{"type", "string"}};
      if (!p.choices.empty()) s["enum"] = p.choices;
      if (!p.pattern.empty()) s["pattern"] = p.pattern;
      break;
    case ParamType::NumberList: {
      Json item = {{"type", "number"}};
      bounds(item);
      s = {{"type", "array"}, {"items", item}};
      break;
    }
    case ParamType::Strings:
    case ParamType::Names: {
      Json item = {{"type", "string"}};
      if (!p.item_choices.empty()) item["enum"] = p.item_choices;
      s = {{"type", "array"}, {"items", item}};
      break;
    }
    case ParamType::Object: s = {{"type", "object"}}; break;
  }
  s = with_null(std::move(s), p.default_value);
  std::string text = p.description;
  if (!p.unit.empty()) text += fmt::format(" [{}]", p.unit);
  if (!p.source.empty()) text += fmt::format(" (default from: {})", p.source);
  s["description"] = text;
  if (!p.default_value.is_null()) s["default"] = p.default_value;
  return s;
}

Json section() { return Json{{"type", "object"}, {"properties", Json::object()}, {"additionalProperties", false}}; }

Json scenario_schema() {
  Json root = section();
  root["$schema"] = kDialect;
  root["$id"] = "https://vringsim.example/schema/scenario.json";
  root["title"] = "vringsim scenario";
  root["description"] = "A scenario file (vringsim run FILE). Generated from the parameter declarations "
                        "(vringsim params); unknown keys are errors.";
  root["required"] = Json::array();
  for (const ParamSpec* p : param_table().all()) {
    Json* node = &root;
    std::string rest = p->key;
    for (size_t dot; (dot = rest.find('.')) != std::string::npos; rest = rest.substr(dot + 1)) {
      const std::string part = rest.substr(0, dot);
      Json& props = (*node)["properties"];
      if (!props.contains(part)) props[part] = section();
      node = &props[part];
    }
    (*node)["properties"][rest] = value_schema(*p);
    if (p->required) {
      if (!node->contains("required")) (*node)["required"] = Json::array();
      (*node)["required"].push_back(rest);
    }
  }
  // The topology section is lists of named nodes, checked by its own parser.
  root["properties"]["topology"] = {
      {"type", "object"},
      {"description", "guests, queues and host cores (docs/guide/capacity-planning.md); checked when the scenario loads"}};
  return root;
}

Json sweep_schema() {
  const Json axis = {
      {"type", "object"},
      {"required", {"key"}},
      {"properties",
       {{"key", {{"type", "string"}, {"description", "a scenario key (vringsim params); not seed"}}},
        {"values", {{"type", "array"}, {"minItems", 1}, {"description", "the values, each valid for the key"}}},
        {"min", {{"type", "number"}, {"description", "random sampling: the range's lower end"}}},
        {"max", {{"type", "number"}, {"description", "random sampling: the range's upper end"}}},
        {"log", {{"type", "boolean"}, {"description", "random sampling: uniform in log space"}}},
        {"integer", {{"type", "boolean"}, {"description", "random sampling: round to integers"}}}}},
      {"additionalProperties", false}};
  return {
      {"$schema", kDialect},
      {"$id", "https://vringsim.example/schema/sweep.json"},
      {"title", "vringsim sweep"},
      {"description", "A sweep file (vringsim sweep SPEC): a base scenario and the axes to vary."},
      {"type", "object"},
      {"required", {"name", "base", "axes"}},
      {"properties",
       {{"schema_version", {{"const", 1}}},
        {"name", {{"type", "string"}, {"minLength", 1}}},
        {"description", {{"type", "string"}}},
        {"base",
         {{"type", {"string", "object"}},
          {"description", "a scenario file (relative to the sweep file) or a scenario object"}}},
        {"combine", {{"enum", {"grid", "zip", "random"}}, {"default", "grid"}}},
        {"axes", {{"type", "array"}, {"minItems", 1}, {"items", axis}}},
        {"samples", {{"type", "integer"}, {"minimum", 1}, {"description", "combine random: points to draw"}}},
        {"replications", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100000}, {"default", 1}}},
        {"seed", {{"type", "integer"}, {"minimum", 0}, {"default", 1}}},
        {"timeout_s", {{"type", "number"}, {"minimum", 0}, {"description", "per run; 0: none"}}}}},
      {"additionalProperties", false}};
}

Json calibration_schema() {
  const Json point = {
      {"type", "object"},
      {"required", {"scenario", "measured"}},
      {"properties",
       {{"scenario", {{"type", "string"}, {"description", "scenario file, relative to this file"}}},
        {"measured", {{"type", "number"}, {"exclusiveMinimum", 0}, {"description", "the measured value of the metric"}}},
        {"set", {{"type", "object"}, {"description", "scenario keys to override for this point"}}}}},
      {"additionalProperties", false}};
  const Json param = {{"type", "object"},
                      {"properties", {{"initial", {{"type", "number"}}}, {"min", {{"type", "number"}}},
                                      {"max", {{"type", "number"}}},
                                      {"step", {{"type", "number"}, {"exclusiveMinimum", 0}}}}},
                      {"additionalProperties", false}};
  return {{"$schema", kDialect},
          {"$id", "https://vringsim.example/schema/calibration.json"},
          {"title", "vringsim calibration measurements"},
          {"description", "A measurement file (vringsim calibrate FILE): cost parameters to fit and measured points."},
          {"type", "object"},
          {"required", {"parameters", "points"}},
          {"properties",
           {{"schema_version", {{"const", 1}}},
            {"name", {{"type", "string"}}},
            {"description", {{"type", "string"}}},
            {"parameters",
             {{"type", "object"}, {"minProperties", 1}, {"additionalProperties", param},
              {"description", "real-valued scenario keys (costs.*) to fit"}}},
            {"points", {{"type", "array"}, {"minItems", 1}, {"items", point}}},
            {"metric", {{"type", "string"}, {"default", "throughput.delivered_gbps"}}},
            {"preset",
             {{"type", "string"},
              {"minLength", 1},
              {"description", "a cost preset file (relative to this file) the fit updates: --out writes it back whole"}}},
            {"tolerance", {{"type", "number"}, {"exclusiveMinimum", 0}, {"exclusiveMaximum", 1}}},
            {"max_iterations", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}}}},
          {"additionalProperties", false}};
}

}  // namespace

Json json_schema(const std::string& kind) {
  if (kind == "scenario") return scenario_schema();
  if (kind == "sweep") return sweep_schema();
  if (kind == "calibration") return calibration_schema();
  throw InputError(fmt::format("schema \"{}\": expected scenario, sweep or calibration", brief(kind)));
}

int cmd_schema(const std::string& kind) {
  std::cout << json_schema(kind).dump(2) << "\n";
  return kExitOk;
}

Command schema_command(CLI::App& app) {
  auto kind = std::make_shared<std::string>("scenario");
  auto* cli = app.add_subcommand("schema", "a JSON Schema (draft 2020-12) of scenario, sweep or calibration files");
  cli->add_option("kind", *kind, "scenario (default), sweep or calibration")
      ->check(CLI::IsMember({"scenario", "sweep", "calibration"}));
  return {cli, [kind] { return cmd_schema(*kind); }};
}

}  // namespace vringsim
