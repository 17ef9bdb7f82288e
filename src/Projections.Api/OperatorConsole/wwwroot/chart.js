// Line charts in plain SVG (no library): one line per series over a fixed window of time, on a scale from 0 to a round
// number above the largest value. Series differ by dash pattern as well as colour, and a gap in the data (a lost
// connection) stays a gap instead of being drawn over.

const Svg = "http://www.w3.org/2000/svg";
const [Width, Height, Left, Right, Top, Bottom] = [640, 180, 64, 10, 10, 26];
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/**
 * @param {SVGSVGElement} svg
 * @param {{ name: string, points: { t: number, v: number }[] }[]} series
 * @param {{ now: number, windowMs: number, gapMs: number }} options
 */
export function drawChart(svg, series, { now, windowMs, gapMs }) {
  const from = now - windowMs;
  const visible = series.map((s) => ({ ...s, points: s.points.filter((p) => p.t >= from) }));
  const max = roundUp(Math.max(0, ...visible.flatMap((s) => s.points.map((p) => p.v))));
  const x = (t) => Left + ((t - from) / windowMs) * (Width - Left - Right);
  const y = (v) => Top + (1 - v / max) * (Height - Top - Bottom);

  const children = [];
  for (const share of [0, 0.5, 1]) {
    children.push(element("line", { class: "grid", x1: Left, x2: Width - Right, y1: y(max * share), y2: y(max * share) }));
    children.push(text(Left - 6, y(max * share) + 4, number.format(max * share), "end"));
  }

  children.push(text(Left, Height - 6, `${Math.round(windowMs / 60000)} min ago`, "start"));
  children.push(text(Width - Right, Height - 6, "now", "end"));
  visible.forEach((s, index) => {
    for (const segment of segments(s.points, gapMs)) {
      const points = segment.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
      children.push(segment.length === 1
        ? element("circle", { class: `series series-${index}`, cx: x(segment[0].t), cy: y(segment[0].v), r: 2 })
        : element("polyline", { class: `series series-${index}`, points }));
    }
  });
  svg.replaceChildren(...children);
}

/** The legend: each series' line style, name and latest value. */
export function drawLegend(list, series, format) {
  list.replaceChildren(...series.map((s, index) => {
    const item = document.createElement("li");
    const sample = document.createElementNS(Svg, "svg");
    sample.setAttribute("viewBox", "0 0 28 8");
    sample.setAttribute("aria-hidden", "true");
    sample.append(element("line", { class: `series series-${index}`, x1: 0, x2: 28, y1: 4, y2: 4 }));
    const last = s.points.at(-1);
    item.append(sample, ` ${s.name}: ${last === undefined ? "no data yet" : format(last.v)}`);
    return item;
  }));
}

function segments(points, gapMs) {
  const result = [];
  for (const point of points) {
    const current = result.at(-1);
    if (current && point.t - current.at(-1).t <= gapMs) {
      current.push(point);
    } else {
      result.push([point]);
    }
  }

  return result;
}

/** 1, 2 or 5 times a power of ten, at least the value (and at least 1). */
function roundUp(value) {
  if (value <= 1) {
    return 1;
  }

  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= value);
}

function element(name, attributes) {
  const node = document.createElementNS(Svg, name);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, String(value));
  }

  return node;
}

function text(x, y, content, anchor) {
  const node = element("text", { x, y, "text-anchor": anchor });
  node.textContent = content;
  return node;
}
