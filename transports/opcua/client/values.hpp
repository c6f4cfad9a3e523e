#pragma once
/// Values for people and scripts: Variant to text and JSON, and text to a Variant of a given type
/// (what `tandem ua write` and the console need).

#include <string>

#include <nlohmann/json.hpp>

#include "transports/opcua/types.hpp"

namespace tandem::opcua {

/// JSON: numbers, booleans, strings; arrays as JSON arrays; DateTime as RFC 3339; NodeIds,
/// QualifiedNames and others in their text form; null for a null Variant.
nlohmann::json to_json(const Variant& v);
/// One line of text for a person.
std::string to_text(const Variant& v);
/// Parses `text` as a scalar of type `t` (Boolean: true/false/1/0; numbers with range checks;
/// String as is; DateTime RFC 3339; NodeId text form). BadTypeMismatch with a reason otherwise.
result<Variant> from_text(const std::string& text, VariantType t);
/// Looks a built-in type up by name ("Double", "double", "Int32"...); Null when unknown.
VariantType variant_type_from_name(const std::string& name);

} // namespace tandem::opcua
