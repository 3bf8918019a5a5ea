#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

#include "core/duration.h"
#include "core/text_encoding.h"

namespace perfguard {

namespace {

constexpr int kLeft = 70, kRight = 20, kTop = 14, kBottom = 30;
constexpr std::int64_t kMinuteUs = 60LL * 1000000;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
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

std::string svg_open(int width, int height, const std::string& css_class,
                     const std::string& title) {
  return "<svg class=\"" + css_class + "\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
         std::to_string(height) +
         "\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\"><title>" +
         escape_html(title) + "</title>";
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
  for (const auto& l : chart.lines) values.push_back(l.value_us);
  YScale ys = y_scale(values, top, bottom);

  std::string out = svg_open(w, h, "time-chart", chart.title);
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

  // Reference lines on top, labelled at their right end.
  std::vector<double> label_ys;
  for (const auto& l : chart.lines) {
    double y = ys.y(l.value_us);
    // Above the line; stacked above (or, at the top, below) a label it would overlap.
    double label_y = y - 4;
    for (double taken : label_ys) {
      if (std::abs(taken - label_y) < 12) label_y = taken - 12 < top + 8 ? taken + 12 : taken - 12;
    }
    label_ys.push_back(label_y);
    out += "<g class=\"" + escape_html(l.css_class) + "\">";
    out += line(left, y, right, y, escape_html(l.colour),
                " stroke-width=\"1.5\" stroke-dasharray=\"6 4\"");
    out += text(right - 2, label_y, "end", l.label, " fill=\"" + escape_html(l.colour) + "\"");
    out += "</g>";
  }
  out += "</svg>";
  return out;
}

std::string render_histogram(const HistogramChart& chart) {
  const int w = chart.width, h = chart.height;
  const double left = kLeft, right = w - kRight, top = kTop, bottom = h - kBottom;
  const int bins = std::max(1, chart.bins);
  std::string out = svg_open(w, h, "histogram", chart.title);

  double lo = 0, hi = 0;
  if (!chart.durations_us.empty()) {
    auto [mn, mx] = std::minmax_element(chart.durations_us.begin(), chart.durations_us.end());
    lo = *mn;
    hi = *mx;
  }
  if (hi - lo < 1) {
    double pad = std::max(1.0, lo * 0.05);
    lo = std::max(0.0, lo - pad);
    hi = hi + pad;
  }
  const double width = (hi - lo) / bins;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(bins), 0);
  for (double d : chart.durations_us) {
    int b = static_cast<int>((d - lo) / width);
    counts[static_cast<std::size_t>(std::clamp(b, 0, bins - 1))]++;
  }
  const std::int64_t most = std::max<std::int64_t>(
      1, chart.durations_us.empty() ? 1 : *std::max_element(counts.begin(), counts.end()));
  auto x_of = [&](double v) { return left + (v - lo) / (hi - lo) * (right - left); };
  auto y_of = [&](double c) { return bottom - c / static_cast<double>(most) * (bottom - top); };

  // Count grid.
  double count_step = std::max(1.0, nice_step(static_cast<double>(most) / 4));
  for (double c = 0; c <= static_cast<double>(most) + 1e-9; c += count_step) {
    double y = y_of(c);
    out += line(left, y, right, y, chart_colour::grid);
    out += text(left - 6, y + 4, "end", std::to_string(static_cast<std::int64_t>(c)),
                " fill=\"" + std::string(chart_colour::axis) + "\"");
  }
  // Duration ticks.
  double step = nice_step((hi - lo) / 6);
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    double x = x_of(v);
    out += line(x, bottom, x, bottom + 4, chart_colour::axis);
    out += text(x, bottom + 16, "middle", duration_label(v),
                " fill=\"" + std::string(chart_colour::axis) + "\"");
  }

  std::optional<double> threshold;
  for (const auto& l : chart.lines) {
    if (l.css_class == "threshold") threshold = l.value_us;
  }
  for (int b = 0; b < bins; ++b) {
    std::int64_t c = counts[static_cast<std::size_t>(b)];
    if (c == 0) continue;
    double x0 = x_of(lo + b * width), x1 = x_of(lo + (b + 1) * width);
    double y = y_of(static_cast<double>(c));
    bool over = threshold && lo + (b + 1) * width > *threshold;
    out += "<rect class=\"";
    out += over ? "bin breach" : "bin";
    out +=
        "\" x=\"" + num(x0 + 0.5) + "\" y=\"" + num(y) + "\" width=\"" +
        num(std::max(0.5, x1 - x0 - 1)) + "\" height=\"" + num(bottom - y) + "\" fill=\"" +
        (over ? chart_colour::breach : chart_colour::ok) + "\"><title>" +
        escape_html(duration_label(lo + b * width) + " to " + duration_label(lo + (b + 1) * width) +
                    ": " + std::to_string(c) + (c == 1 ? " run" : " runs")) +
        "</title></rect>";
  }
  out += line(left, bottom, right, bottom, chart_colour::axis);
  out += line(left, top, left, bottom, chart_colour::axis);

  double note_y = top + 10;
  for (const auto& l : chart.lines) {
    out += "<g class=\"" + escape_html(l.css_class) + "\">";
    if (l.value_us >= lo && l.value_us <= hi) {
      double x = x_of(l.value_us);
      out += line(x, top, x, bottom, escape_html(l.colour),
                  " stroke-width=\"1.5\" stroke-dasharray=\"6 4\"");
      out += text(x - 4, top + 10, "end", l.label, " fill=\"" + escape_html(l.colour) + "\"");
    } else {
      // Off the range: said in words rather than squashing the bars.
      out +=
          text(right - 2, note_y, "end",
               l.label + (l.value_us > hi ? " (beyond the slowest run)" : " (below the fastest)"),
               " fill=\"" + escape_html(l.colour) + "\"");
      note_y += 14;
    }
    out += "</g>";
  }
  out += "</svg>";
  return out;
}

}  // namespace perfguard
