// Prometheus metrics without a dependency: counters, histograms and scrape-time gauges rendered in
// the text exposition format 0.0.4. Recording is an integer increment on an object made up front,
// so hot paths (the proxy's /oauth2/auth) allocate nothing.

export class Counter {
  value = 0;
  inc(): void {
    this.value++;
  }
}

/** Seconds; the default buckets suit an HTTP server whose answers take 0.5 ms to a few seconds. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Histogram {
  readonly buckets: readonly number[];
  /** counts[i]: observations ≤ buckets[i] (not cumulative; cumulated when rendered). */
  readonly counts: number[];
  count = 0;
  sum = 0;
  constructor(buckets: readonly number[]) {
    this.buckets = buckets;
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.count++;
    this.sum += value;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

type Labels = Readonly<Record<string, string>>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(lines: string[]): Promise<void> | void;
}

// Exposition format: label values escape backslash, double quote and newline.
const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Labels, extra?: [string, string]): string => {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
};
const number = (value: number): string => (Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN');

export class MetricsRegistry {
  private readonly families: Family[] = [];

  /** A counter per label value, all made now (so every series shows from the first scrape). */
  counters<V extends string>(name: string, help: string, label: string, values: readonly V[]): Record<V, Counter> {
    const made = Object.fromEntries(values.map((value) => [value, new Counter()])) as Record<V, Counter>;
    this.families.push({
      name, help, type: 'counter',
      render: (lines) => { for (const value of values) lines.push(`${name}${labelText({ [label]: value })} ${made[value].value}`); },
    });
    return made;
  }

  counter(name: string, help: string): Counter {
    const made = new Counter();
    this.families.push({ name, help, type: 'counter', render: (lines) => void lines.push(`${name} ${made.value}`) });
    return made;
  }

  /** Histograms keyed by one label; `get` makes a series on first use (a bounded set: route patterns). */
  histograms(name: string, help: string, label: string, buckets: readonly number[] = LATENCY_BUCKETS_SECONDS): { get(value: string): Histogram } {
    const series = new Map<string, Histogram>();
    this.families.push({
      name, help, type: 'histogram',
      render: (lines) => {
        for (const [value, h] of series) {
          const labels = { [label]: value };
          let cumulative = 0;
          h.buckets.forEach((le, i) => {
            cumulative += h.counts[i];
            lines.push(`${name}_bucket${labelText(labels, ['le', number(le)])} ${cumulative}`);
          });
          lines.push(`${name}_bucket${labelText(labels, ['le', '+Inf'])} ${h.count}`);
          lines.push(`${name}_sum${labelText(labels)} ${number(h.sum)}`);
          lines.push(`${name}_count${labelText(labels)} ${h.count}`);
        }
      },
    });
    return {
      get(value) {
        let h = series.get(value);
        if (!h) series.set(value, (h = new Histogram(buckets)));
        return h;
      },
    };
  }

  /** A value read at scrape time (say, a count from the database), never per request. */
  gauge(name: string, help: string, read: () => Promise<number> | number, labels: Labels = {}): void {
    this.families.push({ name, help, type: 'gauge', render: async (lines) => void lines.push(`${name}${labelText(labels)} ${number(await read())}`) });
  }

  /** The text exposition format (Content-Type: text/plain; version=0.0.4). */
  async render(): Promise<string> {
    const lines: string[] = [];
    for (const family of this.families) {
      const body: string[] = [];
      try {
        await family.render(body);
      } catch {
        continue; // a gauge whose source failed is left out of this scrape rather than failing it
      }
      lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${family.name} ${family.type}`, ...body);
    }
    return lines.join('\n') + '\n';
  }
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
