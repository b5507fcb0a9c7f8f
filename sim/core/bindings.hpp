// Parameters bound to the members they fill, as ns-3's TypeId attributes
// are: one declaration (key, type, unit, default, range, source, help) next
// to the member gives the ParamTable what validation, `vringsim params`,
// --set and the reports' configuration echo read, and fills the member from
// a resolved configuration. Nothing else looks a parameter up by its name.
//
//   struct Options { uint32_t napi_budget = 64; static const Bindings<Options>& bindings(); };
//   ... Bindings<Options>{}.bind(&Options::napi_budget,
//                                ParamSpec::integer("guest.napi_budget", 64, "packets").range(1, 65536)...);
//   const Options o = Options::bindings().load(cfg);
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/core/config.hpp"
#include "sim/core/params.hpp"

namespace vringsim {

template <class T>
class Bindings {
 public:
  /// Binds `member` to the parameter `spec` declares; the value converts to
  /// the member's type (an integer parameter to any integer member...).
  template <class M>
  Bindings&& bind(M T::*member, ParamSpec spec) && {
    add(member, std::move(spec));
    return std::move(*this);
  }
  /// The same, for bindings built in a loop.
  template <class M>
  void add(M T::*member, ParamSpec spec) {
    entries_.push_back({std::move(spec), [member](T& t, const Json& v) { t.*member = v.get<M>(); }});
  }
  /// Binds `member` to a parameter whose value `convert` turns into the
  /// member's ("host.on_bad_chain": "drop" -> drop_bad_chains = true).
  template <class M, class Fn>
  Bindings&& bind(M T::*member, ParamSpec spec, Fn convert) && {
    entries_.push_back(
        {std::move(spec), [member, convert](T& t, const Json& v) { t.*member = static_cast<M>(convert(v)); }});
    return std::move(*this);
  }
  /// A parameter that fills no member here (read by another component's
  /// bindings, or only validated): declared all the same.
  Bindings&& declare_only(ParamSpec spec) && {
    entries_.push_back({std::move(spec), nullptr});
    return std::move(*this);
  }

  /// Adds every declaration to `table`, keys under `prefix` ("policy.coalesced.").
  void declare(ParamTable& table, const std::string& prefix = "") const {
    for (const Entry& e : entries_) {
      ParamSpec spec = e.spec;
      spec.key = prefix + spec.key;
      table.add(std::move(spec));
    }
  }
  /// Fills a T, starting from `init`, with every bound parameter's value in `cfg`.
  T load(const Config& cfg, const std::string& prefix = "", T init = T{}) const {
    for (const Entry& e : entries_)
      if (e.assign) e.assign(init, cfg.at(prefix + e.spec.key));
    return init;
  }
  /// The declared keys, in declaration order (without a prefix).
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.spec.key);
    return out;
  }

 private:
  struct Entry {
    ParamSpec spec;
    std::function<void(T&, const Json&)> assign;
  };
  std::vector<Entry> entries_;
};

}  // namespace vringsim
