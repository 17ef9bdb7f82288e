// The Prometheus text format, as far as the console needs it: each metric's samples summed over their labels, and
// the labels of the first sample of each metric (target_info's say which process answered).

const Sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)/;
const Label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text) {
  const sums = new Map();
  const labels = new Map();
  for (const line of text.split("\n")) {
    const match = line.startsWith("#") ? null : Sample.exec(line);
    const value = match ? Number(match[3]) : NaN;
    if (!Number.isFinite(value)) {
      continue;
    }

    const name = match[1];
    sums.set(name, (sums.get(name) ?? 0) + value);
    if (match[2] && !labels.has(name)) {
      labels.set(name, Object.fromEntries([...match[2].matchAll(Label)].map((l) => [l[1], unescape(l[2])])));
    }
  }

  return {
    /** The metric's samples summed, or undefined when it has none (a counter shows only once it has counted). */
    value: (name) => sums.get(name),
    labels: (name) => labels.get(name) ?? {},
  };
}

const unescape = (value) => value.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
