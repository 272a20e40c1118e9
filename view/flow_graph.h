#pragma once
// The flow of a chain of invocations: each invocation → its events (those detected or failed; the
// rest folded into one node) → their jobs → the invocations those jobs caused, and on. One tree of
// plain nodes, drawn as SVG by the pages (flow_svg, html_report.h) and as text by `edpipe show
// --flow` (flow_text, terminal_view.h): both walk the same nodes.
#include <optional>
#include <string>
#include <vector>

#include "view/invocation_tree.h"

namespace edpipe::view {

struct FlowNode {
  enum class Kind { Invocation, Event, Job, Folded };
  Kind kind = Kind::Invocation;
  std::string id;             // the invocation's, event's or job's id ("" for a folded node)
  std::string invocation_id;  // the invocation it belongs to (its own for an invocation)
  std::string name;           // function, event or job name; "3 not detected" when folded
  std::string status;
  std::optional<int64_t> duration_ms;
  std::optional<std::string> error;
  bool loaded = true;  // an invocation a job caused that the chain read did not include
  int depth = 0;
  std::vector<size_t> children;  // indexes into the tree
};

// "invocation", "event", "job", "events" (a folded node: the events not detected).
const char* kind_name(FlowNode::Kind kind) noexcept;

// The tree of `chain` (invocations as ViewReader::chain reads them), its first one the root, in
// pre-order. A caused invocation missing from `chain` (past the bound, or not loaded) is a leaf
// with `loaded` false; one seen before (a cycle) is not followed again.
std::vector<FlowNode> flow_tree(const std::vector<InvocationView>& chain);

}  // namespace edpipe::view
