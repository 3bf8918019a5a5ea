#include "report/svg.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <tuple>

#include "core/duration.h"
#include "core/text_encoding.h"

namespace perfguard {

namespace {

constexpr int kLeft = 70, kRight = 20, kTop = 14, kBottom = 30;
constexpr std::int64_t kMinuteUs = 60LL * 1000000;

// A coordinate to a tenth of a pixel, as "%.1f" prints it (to_chars: several times faster,
// and there are tens of thousands of them on a page).
std::string num(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
  if (ec != std::errc()) return "0.0";
  return std::string(buf, end);
}

// 1, 2 or 5 times a power of ten, at least `raw`.
double nice_step(double raw) {
  if (!(raw > 0)) return 1;
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

struct YScale {
  double lo = 0, hi = 1;
  bool log = false;
  double top = 0, bottom = 0;  // pixels

  double y(double v) const {
    double f =
        log ? (std::log10(std::max(v, lo)) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
            : (v - lo) / (hi - lo);
    f = std::clamp(f, 0.0, 1.0);
    return bottom - f * (bottom - top);
  }

  std::vector<double> ticks() const {
    std::vector<double> out;
    if (log) {
      for (int e = static_cast<int>(std::floor(std::log10(lo)));
           e <= static_cast<int>(std::ceil(std::log10(hi))); ++e) {
        for (double m : {1.0, 2.0, 5.0}) {
          double v = m * std::pow(10.0, e);
          if (v >= lo && v <= hi) out.push_back(v);
        }
      }
      return out;
    }
    double step = nice_step((hi - lo) / 5);
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push_back(v);
    }
    return out;
  }
};

YScale y_scale(const std::vector<double>& values, double top, double bottom) {
  YScale s;
  s.top = top;
  s.bottom = bottom;
  double vmax = 0, vmin = 0;
  bool any = false;
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) continue;
    vmax = any ? std::max(vmax, v) : v;
    vmin = any ? std::min(vmin, v) : v;
    any = true;
  }
  if (!any) {
    s.hi = 1000;  // 1ms: an empty chart still has a readable axis
    return s;
  }
  vmin = std::max(vmin, 1.0);
  if (vmax / vmin > 30) {
    s.log = true;
    s.lo = std::pow(10.0, std::floor(std::log10(vmin)));
    s.hi = std::pow(10.0, std::log10(vmax) + 0.08);  // a little room above the top value
    return s;
  }
  s.hi = nice_step(vmax * 1.1 / 5) * 5;
  if (s.hi < vmax * 1.05) s.hi = vmax * 1.1;
  return s;
}

std::string utc(std::int64_t unix_us, const char* format) {
  std::time_t t = static_cast<std::time_t>(unix_us / 1000000 - (unix_us % 1000000 < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string text(double x, double y, const std::string& anchor, const std::string& body,
                 const std::string& extra = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\"" + extra +
         ">" + escape_html(body) + "</text>";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& stroke,
                 const std::string& extra = "") {
  return "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" +
         num(y2) + "\" stroke=\"" + stroke + "\"" + extra + "/>";
}

// The chart's element, named for assistive technology by its <title> and described by its
// <desc> (role img: a screen reader reads those, not the marks inside).
std::string svg_open(int width, int height, const std::string& css_class, const std::string& id,
                     const std::string& title, const std::string& description) {
  const std::string title_id = escape_html(id + "-title"), desc_id = escape_html(id + "-desc");
  return "<svg class=\"" + css_class + "\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
         std::to_string(height) + "\" role=\"img\" aria-labelledby=\"" + title_id + "\"" +
         (description.empty() ? "" : " aria-describedby=\"" + desc_id + "\"") +
         " font-family=\"sans-serif\" font-size=\"11\"><title id=\"" + title_id + "\">" +
         escape_html(title) + "</title>" +
         (description.empty()
              ? ""
              : "<desc id=\"" + desc_id + "\">" + escape_html(description) + "</desc>");
}

constexpr double kLabelHeight = 14;  // an 11px text line and a pixel of air

// A marker's label in its box (place_labels), with a white halo so that it reads over the
// points and bars beneath.
std::string marker_label(const LabelBox& box, const std::string& body, const std::string& fill,
                         const std::string& css_class = "marker-label") {
  return "<text class=\"" + css_class + "\" x=\"" + num(box.x0) + "\" y=\"" + num(box.y1 - 3.5) +
         "\" text-anchor=\"start\" fill=\"" + escape_html(fill) +
         "\" stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">" +
         escape_html(body) + "</text>";
}

// A box of a label's width whose right edge is at x and bottom at y.
LabelBox box_ending_at(const std::string& body, double x, double y) {
  return {x - label_width(body), y - kLabelHeight, x, y};
}

std::string text_colour(const ChartLine& l) {
  return l.text_colour.empty() ? l.colour : l.text_colour;
}

}  // namespace

std::string escape_html(std::string_view bytes) {
  // The page is UTF-8: bytes that are not are percent-encoded, as in the machine formats.
  const std::string s = encode_text(bytes);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

double label_width(std::string_view text) {
  double w = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte: one character
    w += c == ' ' || c == '.' || c == ',' || c == ':' ? 3.6 : c >= 'A' && c <= 'Z' ? 8.0 : 7.0;
  }
  return w + 2;
}

std::vector<LabelBox> place_labels(const std::vector<LabelBox>& wanted, double left, double top,
                                   double right, double bottom) {
  std::vector<LabelBox> placed;
  for (LabelBox box : wanted) {
    const double w = box.x1 - box.x0, h = box.y1 - box.y0;
    // Inside the chart, the left edge winning when the label is wider than the chart.
    box.x1 = std::min(box.x1, right);
    box.x0 = std::max(box.x1 - w, left);
    box.x1 = box.x0 + w;
    box.y0 = std::clamp(box.y0, top, std::max(top, bottom - h));
    box.y1 = box.y0 + h;
    auto clear = [&](const LabelBox& b) {
      if (b.y0 < top - 0.01 || b.y1 > bottom + 0.01) return false;
      return std::none_of(placed.begin(), placed.end(),
                          [&](const LabelBox& p) { return p.intersects(b); });
    };
    LabelBox chosen = box;
    const int rows = std::max(1, static_cast<int>((bottom - top) / h));
    for (int k = 0; k <= 2 * rows; ++k) {
      const int shift = k % 2 == 1 ? (k + 1) / 2 : -(k / 2);  // 0, +1, -1, +2, -2, …
      LabelBox b = box;
      b.y0 += shift * h;
      b.y1 += shift * h;
      if (clear(b)) {
        chosen = b;
        break;
      }
    }
    placed.push_back(chosen);
  }
  return placed;
}

std::string duration_label(double us) {
  return format_duration(Duration{static_cast<std::int64_t>(std::llround(us))});
}

std::string render_time_chart(const TimeChart& chart) {
  const int w = chart.width, h = chart.height;
  const double left = kLeft, right = w - kRight, top = kTop, bottom = h - kBottom;
  std::int64_t from = chart.from_us, to = chart.to_us;
  if (to <= from) {
    from -= 30 * kMinuteUs;
    to = from + 60 * kMinuteUs;
  }
  auto x_of = [&](std::int64_t t) {
    return left + static_cast<double>(t - from) / static_cast<double>(to - from) * (right - left);
  };

  std::vector<double> values;
  for (const auto& p : chart.points) values.push_back(p.duration_us);
  for (const auto& r : chart.rolling) values.push_back(r.p95_us);
  for (const auto& l : chart.lines) values.push_back(l.value_us);
  YScale ys = y_scale(values, top, bottom);

  std::string out = svg_open(w, h, "time-chart", chart.id, chart.title, chart.description);
  // Grid and y labels.
  for (double v : ys.ticks()) {
    double y = ys.y(v);
    out += line(left, y, right, y, chart_colour::grid);
    out += text(left - 6, y + 4, "end", duration_label(v),
                " fill=\"" + std::string(chart_colour::axis) + "\"");
  }
  // Time ticks: the smallest step that gives at most seven.
  static constexpr std::int64_t steps_min[] = {1,    5,    15,    30,    60,    180,    360,   720,
                                               1440, 2880, 10080, 20160, 43200, 129600, 525600};
  std::int64_t step = steps_min[std::size(steps_min) - 1] * kMinuteUs;
  for (std::int64_t m : steps_min) {
    if ((to - from) / (m * kMinuteUs) <= 6) {
      step = m * kMinuteUs;
      break;
    }
  }
  const char* tick_format = step >= 1440 * kMinuteUs ? "%Y-%m-%d" : "%m-%d %H:%M";
  int ticks = 0;
  for (std::int64_t t = (from / step + 1) * step; t <= to; t += step, ++ticks) {
    double x = x_of(t);
    out += line(x, top, x, bottom, chart_colour::grid);
    out += text(x, bottom + 16, "middle", utc(t, tick_format),
                " fill=\"" + std::string(chart_colour::axis) + "\"");
  }
  if (ticks == 0) {  // under a minute: the two ends, to the second
    out += text(left, bottom + 16, "start", utc(from, "%m-%d %H:%M:%S"),
                " fill=\"" + std::string(chart_colour::axis) + "\"");
    out += text(right, bottom + 16, "end", utc(to, "%m-%d %H:%M:%S"),
                " fill=\"" + std::string(chart_colour::axis) + "\"");
  }
  out += line(left, bottom, right, bottom, chart_colour::axis);
  out += line(left, top, left, bottom, chart_colour::axis);
  if (ys.log) {
    out += text(left - 6, bottom + 16, "end", "log scale",
                " fill=\"" + std::string(chart_colour::axis) + "\" font-style=\"italic\"");
  }

  // The runs: a faint line through them, then a point each.
  if (chart.points.size() > 1) {
    std::string pts;
    for (const auto& p : chart.points) {
      pts += num(x_of(p.time_us)) + "," + num(ys.y(p.duration_us)) + " ";
    }
    pts.pop_back();
    out += "<polyline class=\"run-line\" points=\"" + pts + "\" fill=\"none\" stroke=\"" +
           chart_colour::ok + "\" stroke-opacity=\"0.35\" stroke-width=\"1\"/>";
  }
  for (const auto& p : chart.points) {
    out += "<circle class=\"";
    out += p.breach ? "breach" : "run";
    out += "\" cx=\"" + num(x_of(p.time_us)) + "\" cy=\"" + num(ys.y(p.duration_us)) + "\" r=\"" +
           (p.breach ? "4" : "2.5") + "\" fill=\"" +
           (p.breach ? chart_colour::breach : chart_colour::ok) + "\"><title>" +
           escape_html(utc(p.time_us, "%Y-%m-%d %H:%M:%S UTC") + ": " +
                       duration_label(p.duration_us) + (p.breach ? " (breach)" : "")) +
           "</title></circle>";
  }

  // The rolling median and p95 over the points, broken where the window held too few runs.
  if (!chart.rolling.empty()) {
    std::string median, p95;
    for (const auto& r : chart.rolling) {
      const char* move = median.empty() || r.gap_before ? "M" : "L";
      median += move + num(x_of(r.time_us)) + " " + num(ys.y(r.median_us)) + " ";
      p95 += move + num(x_of(r.time_us)) + " " + num(ys.y(r.p95_us)) + " ";
    }
    // Each on a white casing, so that it reads over the points beneath.
    for (const auto& [d, css_class, colour] :
         {std::tuple{&p95, "rolling p95", chart_colour::p95},
          std::tuple{&median, "rolling median", chart_colour::median}}) {
      out += "<path class=\"casing\" d=\"" + *d +
             "\" fill=\"none\" stroke=\"#fff\" stroke-opacity=\"0.85\" stroke-width=\"4.5\" "
             "stroke-linejoin=\"round\"/>";
      out += "<path class=\"" + std::string(css_class) + "\" d=\"" + *d +
             "\" fill=\"none\" stroke=\"" + colour +
             "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>";
    }
  }

  // Reference lines on top, labelled above their right end; labels that would overlap are
  // stacked (place_labels), and none leaves the plot.
  std::vector<LabelBox> wanted;
  for (const auto& l : chart.lines)
    wanted.push_back(box_ending_at(l.label, right - 2, ys.y(l.value_us) - 1));
  const std::vector<LabelBox> boxes = place_labels(wanted, left + 2, top, right - 2, bottom);
  for (std::size_t i = 0; i < chart.lines.size(); ++i) {
    const ChartLine& l = chart.lines[i];
    double y = ys.y(l.value_us);
    out += "<g class=\"" + escape_html(l.css_class) + "\">";
    out += line(left, y, right, y, escape_html(l.colour),
                " stroke-width=\"1.5\" stroke-dasharray=\"6 4\"");
    out += marker_label(boxes[i], l.label, text_colour(l));
    out += "</g>";
  }
  out += "</svg>";
  return out;
}

// Why fold the tail rather than only take a logarithmic axis: durations of a step are mostly
// alike with a few far out (a commit waiting on a lock for a minute), and a log axis from the
// fastest to such an outlier still squeezes the bulk into a bar or two. Folding keeps the
// axis for the runs that make up the distribution, up to kTailFoldFactor times its p99, and
// counts the few beyond in one bar of their own, labelled with where it starts. Within the
// axis, a bulk that spans a wide range (more than kLogRatio times from the fastest to the
// end) is binned on a log axis, as durations tend to be log-normal.
namespace {
constexpr double kLogRatio = 20;
}  // namespace

HistogramBins histogram_bins(const std::vector<double>& durations_us, int bins,
                             double fold_quantile) {
  HistogramBins out;
  bins = std::max(1, bins);
  double lo = 0, hi = 0;
  std::vector<double> finite;
  finite.reserve(durations_us.size());
  for (double d : durations_us) {
    if (std::isfinite(d)) finite.push_back(std::max(0.0, d));
  }
  if (!finite.empty()) {
    auto [mn, mx] = std::minmax_element(finite.begin(), finite.end());
    lo = *mn;
    hi = *mx;
    // The quantile by nearest rank.
    const double rank =
        std::ceil(std::clamp(fold_quantile, 0.0, 1.0) * static_cast<double>(finite.size()));
    const auto index =
        static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(finite.size())) - 1);
    std::nth_element(finite.begin(), finite.begin() + static_cast<std::ptrdiff_t>(index),
                     finite.end());
    const double fold_at = std::max(finite[index] * kTailFoldFactor, lo + 1);
    if (hi > fold_at) {
      out.tail_from = fold_at;
      out.tail_max = hi;
      hi = fold_at;
    }
  }
  if (hi - lo < 1) {
    double pad = std::max(1.0, lo * 0.05);
    lo = std::max(0.0, lo - pad);
    hi = hi + pad;
  }
  out.log = lo >= 1 && hi / lo > kLogRatio;
  for (int b = 0; b <= bins; ++b) {
    const double f = static_cast<double>(b) / bins;
    out.edges.push_back(out.log ? lo * std::pow(hi / lo, f) : lo + (hi - lo) * f);
  }
  out.edges.back() = hi;
  out.counts.assign(static_cast<std::size_t>(bins), 0);
  const double log_lo = std::log(std::max(lo, 1.0)), log_span = std::log(hi / std::max(lo, 1.0));
  for (double d : finite) {
    if (out.tail_max > 0 && d > out.tail_from) {
      ++out.tail;
      continue;
    }
    const double f =
        out.log ? (std::log(std::max(d, lo)) - log_lo) / log_span : (d - lo) / (hi - lo);
    const int b = static_cast<int>(f * bins);
    out.counts[static_cast<std::size_t>(std::clamp(b, 0, bins - 1))]++;
  }
  return out;
}

std::string render_histogram(const HistogramChart& chart) {
  const int w = chart.width, h = chart.height;
  const HistogramBins hb = histogram_bins(chart.durations_us, chart.bins, chart.fold_quantile);
  const bool folded = hb.tail > 0;
  const int bins = static_cast<int>(hb.counts.size());
  const double lo = hb.edges.front(), hi = hb.edges.back();
  // The folded tail's bar sits apart at the right end.
  constexpr double kTailWidth = 60, kTailGap = 26;
  const double left = kLeft, right = w - kRight, top = kTop + 4, bottom = h - kBottom;
  const double body_right = folded ? right - kTailWidth - kTailGap : right;
  const double tail_x0 = body_right + kTailGap;
  std::string out = svg_open(w, h, "histogram", chart.id, chart.title, chart.description);

  std::int64_t most = std::max<std::int64_t>(1, hb.tail);
  for (auto c : hb.counts) most = std::max(most, c);
  auto x_of = [&](double v) {
    const double f =
        hb.log ? std::log(std::max(v, lo) / lo) / std::log(hi / lo) : (v - lo) / (hi - lo);
    return left + std::clamp(f, 0.0, 1.0) * (body_right - left);
  };
  // Any bar with a run is at least 2px high, so a lone outlier stays visible.
  auto y_of = [&](double c) {
    const double y = bottom - c / static_cast<double>(most) * (bottom - top);
    return c > 0 ? std::min(y, bottom - 2) : y;
  };
  const std::string axis_fill = " fill=\"" + std::string(chart_colour::axis) + "\"";

  // Count grid.
  double count_step = std::max(1.0, nice_step(static_cast<double>(most) / 4));
  for (double c = 0; c <= static_cast<double>(most) + 1e-9; c += count_step) {
    double y = bottom - c / static_cast<double>(most) * (bottom - top);
    out += line(left, y, right, y, chart_colour::grid);
    out += text(left - 6, y + 4, "end", std::to_string(static_cast<std::int64_t>(c)), axis_fill);
  }
  // Duration ticks, none so close to the tail's label that they would touch it.
  const std::string tail_label = folded ? "> " + duration_label(hb.tail_from) : "";
  const double tail_centre = tail_x0 + kTailWidth / 2;
  const LabelBox tail_box{tail_centre - label_width(tail_label) / 2, bottom,
                          tail_centre + label_width(tail_label) / 2, bottom + 20};
  std::vector<double> ticks;
  if (hb.log) {
    for (int e = static_cast<int>(std::floor(std::log10(lo)));
         e <= static_cast<int>(std::ceil(std::log10(hi))); ++e) {
      for (double m : {1.0, 2.0, 5.0}) {
        double v = m * std::pow(10.0, e);
        if (v >= lo && v <= hi * (1 + 1e-9)) ticks.push_back(v);
      }
    }
  } else {
    double step = nice_step((hi - lo) / 6);
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
      ticks.push_back(v);
  }
  for (double v : ticks) {
    double x = x_of(v);
    const std::string label = duration_label(v);
    const LabelBox box{x - label_width(label) / 2, bottom, x + label_width(label) / 2, bottom + 20};
    if (folded && box.intersects(tail_box)) continue;
    out += line(x, bottom, x, bottom + 4, chart_colour::axis);
    out += text(x, bottom + 16, "middle", label, axis_fill);
  }
  if (hb.log) {
    out += text(left - 6, bottom + 16, "end", "log scale", axis_fill + " font-style=\"italic\"");
  }

  std::optional<double> threshold;
  for (const auto& l : chart.lines) {
    if (l.css_class == "threshold") threshold = l.value_us;
  }
  auto bar = [&](double x0, double x1, std::int64_t c, bool over, const std::string& css_class,
                 const std::string& tip) {
    double y = y_of(static_cast<double>(c));
    return "<rect class=\"" + css_class + (over ? " breach" : "") + "\" x=\"" + num(x0 + 0.5) +
           "\" y=\"" + num(y) + "\" width=\"" + num(std::max(0.5, x1 - x0 - 1)) + "\" height=\"" +
           num(bottom - y) + "\" fill=\"" + (over ? chart_colour::breach : chart_colour::ok) +
           "\"><title>" +
           escape_html(tip + ": " + std::to_string(c) + (c == 1 ? " run" : " runs")) +
           "</title></rect>";
  };
  for (int b = 0; b < bins; ++b) {
    std::int64_t c = hb.counts[static_cast<std::size_t>(b)];
    if (c == 0) continue;
    const double from = hb.edges[static_cast<std::size_t>(b)],
                 to = hb.edges[static_cast<std::size_t>(b) + 1];
    out += bar(x_of(from), x_of(to), c, threshold && to > *threshold, "bin",
               duration_label(from) + " to " + duration_label(to));
  }
  std::vector<LabelBox> wanted;
  std::vector<std::string> bodies, fills;
  if (folded) {
    const bool over = threshold && hb.tail_max > *threshold;
    out += bar(tail_x0, tail_x0 + kTailWidth, hb.tail, over, "bin tail",
               tail_label + " (to " + duration_label(hb.tail_max) + ")");
    // A dashed break between the axis and the tail, the tail's start below it and its count
    // above.
    out += line(body_right + kTailGap / 2, top, body_right + kTailGap / 2, bottom,
                chart_colour::axis, " stroke-dasharray=\"2 3\"");
    out +=
        text(tail_centre, bottom + 16, "middle", tail_label, " class=\"tail-label\"" + axis_fill);
    const std::string count = std::to_string(hb.tail) + (hb.tail == 1 ? " run" : " runs");
    const double count_w = label_width(count);
    wanted.push_back({tail_centre - count_w / 2,
                      y_of(static_cast<double>(hb.tail)) - 2 - kLabelHeight,
                      tail_centre + count_w / 2, y_of(static_cast<double>(hb.tail)) - 2});
    bodies.push_back(count);
    fills.push_back(over ? chart_colour::breach_text : chart_colour::axis);
  }
  out += line(left, bottom, right, bottom, chart_colour::axis);
  out += line(left, top, left, bottom, chart_colour::axis);

  // Reference lines: across where they fall in the axis, in words otherwise, every label
  // placed clear of the others.
  std::vector<std::string> marks;
  for (const auto& l : chart.lines) {
    std::string body = l.label;
    if (l.value_us >= lo && l.value_us <= hi) {
      double x = x_of(l.value_us);
      marks.push_back(line(x, top, x, bottom, escape_html(l.colour),
                           " stroke-width=\"1.5\" stroke-dasharray=\"6 4\""));
      const LabelBox b = box_ending_at(body, x - 4, top + kLabelHeight);
      // Left of its line, or right of it where the left has no room.
      wanted.push_back(b.x0 >= left + 2 ? b : LabelBox{x + 4, b.y0, x + 4 + (b.x1 - b.x0), b.y1});
    } else {
      marks.emplace_back();
      body += folded && l.value_us > hi && l.value_us <= hb.tail_max
                  ? " (in the " + tail_label + " bar)"
              : l.value_us > hi ? " (beyond the slowest run)"
                                : " (below the fastest)";
      wanted.push_back(box_ending_at(body, body_right - 2, top + kLabelHeight));
    }
    bodies.push_back(body);
    fills.push_back(text_colour(l));
  }
  const std::vector<LabelBox> boxes = place_labels(wanted, left + 2, top - 4, right, bottom);
  const std::size_t first_line = folded ? 1 : 0;
  if (folded) out += marker_label(boxes[0], bodies[0], fills[0], "marker-label tail-count");
  for (std::size_t i = 0; i < chart.lines.size(); ++i) {
    const std::size_t k = first_line + i;
    out += "<g class=\"" + escape_html(chart.lines[i].css_class) + "\">" + marks[i] +
           marker_label(boxes[k], bodies[k], fills[k]) + "</g>";
  }
  out += "</svg>";
  return out;
}

}  // namespace perfguard
