#include "transports/opcua/face/namespaces.hpp"

#include <algorithm>
#include <type_traits>

#include "transports/opcua/binary.hpp"

namespace tandem::opcua {

namespace {

template <class T> struct is_array_type : std::false_type {};
template <class T> struct is_array_type<Array<T>> : std::true_type {};
template <class T> struct is_optional_type : std::false_type {};
template <class T> struct is_optional_type<std::optional<T>> : std::true_type {};

/// Visits every namespace index of a message, structure by structure (their `fields` lists),
/// and applies `map` to it. Headers are left alone (the session's tokens are not the client's).
template <class Map> struct index_walker {
  Map map; ///< by value: callers pass temporaries

  void index(uint16_t& i) const { i = map(i); }

  void walk(NodeId& n) const { index(n.namespace_index); }
  void walk(ExpandedNodeId& n) const {
    if (n.namespace_uri.is_null() && n.server_index == 0) index(n.node_id.namespace_index);
  }
  void walk(QualifiedName& q) const { index(q.namespace_index); }
  void walk(DataValue& dv) const {
    if (dv.value) walk(*dv.value);
  }
  void walk(Variant& v) const {
    switch (v.type()) {
    case VariantType::NodeId:
      return each<NodeId>(v);
    case VariantType::ExpandedNodeId:
      return each<ExpandedNodeId>(v);
    case VariantType::QualifiedName:
      return each<QualifiedName>(v);
    case VariantType::DataValue:
      return each<DataValue>(v);
    case VariantType::Variant:
      if (auto* a = v.get_if<Array<Variant>>())
        for (auto& e : *a)
          walk(e);
      return;
    default:
      return;
    }
  }
  template <class T> void each(Variant& v) const {
    if (auto* s = v.get_if<T>()) walk(*s);
    if (auto* a = v.get_if<Array<T>>())
      for (auto& e : *a)
        walk(e);
  }
  template <class T> void walk(T& x) const {
    if constexpr (std::is_same_v<T, RequestHeader> || std::is_same_v<T, ResponseHeader>) {
      return;
    } else if constexpr (is_array_type<T>::value) {
      for (auto& e : x)
        walk(e);
    } else if constexpr (is_optional_type<T>::value) {
      if (x) walk(*x);
    } else if constexpr (is_structure<T>::value) {
      T::fields(x, [&](const char*, auto& field) { this->walk(field); });
    }
  }
};

template <class Map> index_walker<Map> walker(const Map& m) {
  return index_walker<Map>{m};
}

} // namespace

namespace_map::namespace_map(const std::vector<std::string>& face,
                             const std::vector<std::string>& server) {
  auto find = [](const std::vector<std::string>& in, const std::string& uri) -> uint16_t {
    for (size_t i = 2; i < in.size() && i < missing; ++i)
      if (in[i] == uri) return static_cast<uint16_t>(i);
    return missing;
  };
  to_server_.resize(std::max<size_t>(face.size(), 2));
  to_face_.resize(std::max<size_t>(server.size(), 2));
  for (size_t i = 0; i < to_server_.size() && i < missing; ++i)
    to_server_[i] = i < 2 ? static_cast<uint16_t>(i) : find(server, face[i]);
  for (size_t i = 0; i < to_face_.size() && i < missing; ++i)
    to_face_[i] = i < 2 ? static_cast<uint16_t>(i) : find(face, server[i]);
  identity_ = true;
  for (size_t i = 0; i < to_server_.size(); ++i)
    if (to_server_[i] != i) identity_ = false;
  for (size_t i = 0; i < to_face_.size(); ++i)
    if (to_face_[i] != i) identity_ = false;
}

uint16_t namespace_map::to_server(uint16_t face_index) const {
  if (identity_) return face_index;
  return face_index < to_server_.size() ? to_server_[face_index] : missing;
}

uint16_t namespace_map::to_face(uint16_t server_index) const {
  if (identity_) return server_index;
  // A server index the face has not learnt yet stays unknown to the face's clients too.
  return server_index < to_face_.size() ? to_face_[server_index] : missing;
}

void namespace_map::to_server(Request& req) const {
  if (identity_) return;
  auto w = walker([this](uint16_t i) { return to_server(i); });
  std::visit([&](auto& r) { w.walk(r); }, req);
}

void namespace_map::to_face(Response& resp) const {
  if (identity_) return;
  auto w = walker([this](uint16_t i) { return to_face(i); });
  std::visit([&](auto& r) { w.walk(r); }, resp);
}

void namespace_map::to_face(DataValue& dv) const {
  if (identity_) return;
  auto w = walker([this](uint16_t i) { return to_face(i); });
  w.walk(dv);
}

bool learn_namespaces(std::vector<std::string>& face, const std::vector<std::string>& server) {
  bool grew = false;
  if (face.empty()) face.push_back("http://opcfoundation.org/UA/");
  for (size_t i = 2; i < server.size(); ++i) {
    if (std::find(face.begin() + std::min<size_t>(2, face.size()), face.end(), server[i]) !=
        face.end())
      continue;
    while (face.size() < 2)
      face.push_back(""); // index 1 is the face's own, filled by its owner
    face.push_back(server[i]);
    grew = true;
  }
  return grew;
}

} // namespace tandem::opcua
