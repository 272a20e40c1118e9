#pragma once
// `edpipe show` as text: an invocation's header and its waterfall (each detection, handler and
// job a bar on one time axis scaled to the width), a list of failed invocations, and the same
// tree as JSON. Text from the database is made printable first: a log line cannot move the
// cursor or change the terminal's colours.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "view/flow_graph.h"
#include "view/invocation_tree.h"

namespace edpipe::view {

struct TerminalStyle {
  int width = 100;      // columns
  bool color = false;   // ANSI colours (only on a terminal, never with NO_COLOR)
  bool all = false;     // list the events that were not detected one by one
  bool logs = false;    // log lines under their job
  bool stacks = false;  // whole stacks, not only the first line of each error
};

std::string render_invocation(const InvocationView& v, const TerminalStyle& style);
std::string render_summaries(const std::vector<InvocationSummary>& rows, const TerminalStyle& style);
// A chain's flow (flow_graph.h) as an indented tree, one node a line; `current` in bold.
std::string flow_text(const std::vector<FlowNode>& nodes, const TerminalStyle& style, const std::string& current);
// The tree as one JSON document (every field, every log line read).
std::string invocation_json(const InvocationView& v);

// `text` with control characters shown as `·` (a newline as `⏎`), cut to `columns`
// characters with `…`.
std::string printable(std::string_view text, size_t columns);
// Where a step sits on the axis: the start, else the end minus the duration.
std::optional<Timestamp> span_start(const Span& s);
std::optional<Timestamp> span_end(const Span& s);
// The axis of a waterfall: the earliest and the latest moment of the invocation's steps.
std::pair<Timestamp, Timestamp> time_axis(const InvocationView& v);

}  // namespace edpipe::view
