#pragma once
// Inline SVG charts of step durations, drawn as text: no script, no external resource, so
// a report made of them opens from disk and shows the same everywhere. Each chart is one
// <svg> element (well-formed XML; no xmlns, which HTML5 supplies for inline SVG). Every
// text in it is escaped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace perfguard {

// Escapes & < > " ' for HTML text and attribute values (and XML); bytes that are not UTF-8
// are percent-encoded first (core/text_encoding.h), since the page is UTF-8.
std::string escape_html(std::string_view text);

// The colours the charts and their legends share.
namespace chart_colour {
inline constexpr const char* ok = "#3366b3";
inline constexpr const char* breach = "#d62728";
inline constexpr const char* threshold = "#e07b00";
inline constexpr const char* baseline = "#2a9d3a";
inline constexpr const char* grid = "#e3e3e3";
inline constexpr const char* axis = "#555555";
}  // namespace chart_colour

// A horizontal (time chart) or vertical (histogram) reference line: the threshold, the
// baseline's p99.
struct ChartLine {
  double value_us = 0;
  std::string label;  // "threshold 1s"
  std::string colour;
  std::string css_class;  // "threshold", "baseline"
};

struct ChartPoint {
  std::int64_t time_us = 0;  // Unix µs
  double duration_us = 0;
  bool breach = false;
};

// Durations over time: a point per run (breaches in their own colour) joined by a faint
// line, with the reference lines across. The y axis turns logarithmic when the values and
// lines span more than a factor of 30 (a 20ms commit under a 1s threshold stays visible).
struct TimeChart {
  std::vector<ChartPoint> points;  // in time order
  std::vector<ChartLine> lines;
  std::int64_t from_us = 0, to_us = 0;  // the x range; widened when empty
  int width = 900, height = 280;
  std::string title;  // for screen readers (<title> of the svg)
};

std::string render_time_chart(const TimeChart& chart);

// The distribution of durations: `bins` bars across [min, max] (bars at or above the first
// line, the threshold, drawn as breaches), reference lines that fall in the range drawn
// across.
struct HistogramChart {
  std::vector<double> durations_us;
  std::vector<ChartLine> lines;
  int bins = 30;
  int width = 900, height = 200;
  std::string title;
};

std::string render_histogram(const HistogramChart& chart);

// An axis label for a duration in µs: `250us`, `40ms`, `1.5s`.
std::string duration_label(double us);

}  // namespace perfguard
