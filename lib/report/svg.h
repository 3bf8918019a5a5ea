#pragma once
// Inline SVG charts of step durations, drawn as text: no script, no external resource, so
// a report made of them opens from disk and shows the same everywhere. Each chart is one
// <svg> element (well-formed XML; no xmlns, which HTML5 supplies for inline SVG) with a
// <title> and a <desc> (the figures in words) that aria-labelledby names, so a screen
// reader reads what the picture shows. Every text in it is escaped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace perfguard {

// Escapes & < > " ' for HTML text and attribute values (and XML); bytes that are not UTF-8
// are percent-encoded first (core/text_encoding.h), since the page is UTF-8.
std::string escape_html(std::string_view text);

// The colours the charts and their legends share. Lines and marks may be light; a text
// drawn in a colour uses its `_text` shade, which keeps a contrast of at least 4.5:1 on white
// (WCAG AA for small text).
namespace chart_colour {
inline constexpr const char* ok = "#3366b3";
inline constexpr const char* breach = "#d62728";
inline constexpr const char* breach_text = "#b01d1e";
inline constexpr const char* threshold = "#e07b00";
inline constexpr const char* threshold_text = "#9a4f00";
inline constexpr const char* baseline = "#2a9d3a";
inline constexpr const char* baseline_text = "#1b6b27";
inline constexpr const char* median = "#1a1a1a";
inline constexpr const char* p95 = "#8e3fa6";
inline constexpr const char* tail = "#6b6b6b";
inline constexpr const char* grid = "#e3e3e3";
inline constexpr const char* axis = "#555555";
}  // namespace chart_colour

// A horizontal (time chart) or vertical (histogram) reference line: the threshold, the
// baseline's p99.
struct ChartLine {
  double value_us = 0;
  std::string label;  // "threshold 1s"
  std::string colour;
  std::string css_class;    // "threshold", "baseline"
  std::string text_colour;  // of its label; empty: `colour`
};

// A label's box in a chart's pixels, from its left edge and top to its right edge and bottom.
struct LabelBox {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool intersects(const LabelBox& o) const {
    return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1;
  }
};

// The width a text takes in the charts' 11px sans-serif, erring wide (a DejaVu or Liberation
// Sans digit is 0.55 to 0.64 em).
double label_width(std::string_view text);

// Places labels, each wanted at a box (the caller's `wanted`, of label_width), so that none
// intersects another or leaves [left, right] x [top, bottom]: a box is first pushed inside,
// then moved by whole label heights (down first, then up, then further) until it is clear of
// those placed before it. The result is in the order given.
std::vector<LabelBox> place_labels(const std::vector<LabelBox>& wanted, double left, double top,
                                   double right, double bottom);

// A rolling median and p95 at one time (the window that ends there); gap_before: no line
// from the point before (too few runs in between).
struct RollingPoint {
  std::int64_t time_us = 0;
  double median_us = 0, p95_us = 0;
  bool gap_before = false;
};

struct ChartPoint {
  std::int64_t time_us = 0;  // Unix µs
  double duration_us = 0;
  bool breach = false;
};

// Durations over time: a point per run (breaches in their own colour) joined by a faint
// line, the rolling median and p95 (when given) as lines over them, and the reference lines
// across. The y axis turns logarithmic when the values and lines span more than a factor of
// 30 (a 20ms commit under a 1s threshold stays visible).
struct TimeChart {
  std::vector<ChartPoint> points;     // in time order
  std::vector<RollingPoint> rolling;  // in time order; empty: no rolling lines
  std::vector<ChartLine> lines;
  std::int64_t from_us = 0, to_us = 0;  // the x range; widened when empty
  int width = 900, height = 280;
  std::string id;           // unique in the page: the ids of its title and desc start with it
  std::string title;        // <title> of the svg
  std::string description;  // <desc>: the figures in words
};

std::string render_time_chart(const TimeChart& chart);

// The distribution of durations: `bins` bars across [min, f] where f is kTailFoldFactor
// times the `fold_quantile` (p99) of the durations, and the runs above f, if any, in one bar
// of their own at the right labelled "> f" (render_histogram says why). Bars above the threshold
// (the line of class "threshold") are drawn as breaches; reference lines in the range are drawn
// across, the others said in words.
inline constexpr double kTailFoldFactor = 1.5;

struct HistogramChart {
  std::vector<double> durations_us;
  std::vector<ChartLine> lines;
  int bins = 30;
  double fold_quantile = 0.99;
  int width = 900, height = 200;
  std::string id;
  std::string title;
  std::string description;
};

std::string render_histogram(const HistogramChart& chart);

// What render_histogram draws, for its <desc> and for tests: the bars' edges and counts
// (edges.size() == counts.size() + 1), and the folded tail's (`tail_from` is f; a tail of 0
// runs when nothing was folded), and whether the duration axis is logarithmic.
struct HistogramBins {
  std::vector<double> edges;
  std::vector<std::int64_t> counts;
  double tail_from = 0, tail_max = 0;
  std::int64_t tail = 0;
  bool log = false;
};

HistogramBins histogram_bins(const std::vector<double>& durations_us, int bins,
                             double fold_quantile);

// An axis label for a duration in µs: `250us`, `40ms`, `1.5s`.
std::string duration_label(double us);

}  // namespace perfguard
