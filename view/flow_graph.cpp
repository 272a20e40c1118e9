#include "view/flow_graph.h"

#include <map>
#include <set>

namespace edpipe::view {
namespace {

struct Builder {
  std::map<std::string, const InvocationView*> by_id;
  std::set<std::string> drawn;  // invocations already in the tree
  std::vector<FlowNode> nodes;

  size_t add(FlowNode n, std::optional<size_t> parent) {
    nodes.push_back(std::move(n));
    const size_t at = nodes.size() - 1;
    if (parent) nodes[*parent].children.push_back(at);
    return at;
  }

  void invocation(const std::string& id, int depth, std::optional<size_t> parent) {
    const auto it = by_id.find(id);
    if (it == by_id.end() || drawn.count(id)) {
      FlowNode n{FlowNode::Kind::Invocation, id, id, it == by_id.end() ? "not read" : "shown above", "", {}, {}, false, depth, {}};
      add(std::move(n), parent);
      return;
    }
    drawn.insert(id);
    const InvocationView& v = *it->second;
    const size_t self = add({FlowNode::Kind::Invocation, v.id, v.id, v.function, v.status, v.span.duration_ms, v.error, true, depth, {}},
                            parent);
    size_t folded = 0;
    for (const auto& e : v.events) {
      if (e.status == "not_detected" && e.jobs.empty()) {
        ++folded;
        continue;
      }
      const Span& s = e.handler.start || e.handler.end ? e.handler : e.detection;
      const size_t ev = add({FlowNode::Kind::Event, e.id, v.id, e.name, e.status, s.duration_ms,
                             e.handler_error ? e.handler_error : e.detection_error, true, depth + 1, {}},
                            self);
      for (const auto& j : e.jobs) {
        const size_t job = add({FlowNode::Kind::Job, j.id, v.id, j.name, j.status, j.span.duration_ms, j.error, true, depth + 2, {}}, ev);
        for (const auto& caused : j.triggered) invocation(caused, depth + 3, job);
      }
    }
    if (folded)
      add({FlowNode::Kind::Folded, "", v.id, std::to_string(folded) + (folded == 1 ? " event" : " events") + " not detected", "not_detected", {}, {}, true, depth + 1, {}},
          self);
  }
};

}  // namespace

const char* kind_name(FlowNode::Kind kind) noexcept {
  static const char* const kNames[] = {"invocation", "event", "job", "events"};
  return kNames[static_cast<int>(kind)];
}

std::vector<FlowNode> flow_tree(const std::vector<InvocationView>& chain) {
  if (chain.empty()) return {};
  Builder b;
  for (const auto& v : chain) b.by_id.emplace(v.id, &v);
  b.invocation(chain.front().id, 0, std::nullopt);
  return std::move(b.nodes);
}

}  // namespace edpipe::view
