import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from '../../src/metrics/registry.ts';

describe('metrics registry', () => {
  it('renders labelled counters with HELP and TYPE, every value from the first scrape', async () => {
    const registry = new MetricsRegistry();
    const counters = registry.counters('x_total', 'Things', 'status', ['202', '401']);
    counters['202'].inc();
    counters['202'].inc();
    assert.equal(await registry.render(), '# HELP x_total Things\n# TYPE x_total counter\nx_total{status="202"} 2\nx_total{status="401"} 0\n');
  });

  it('renders histogram buckets cumulatively, with +Inf, sum and count', async () => {
    const registry = new MetricsRegistry();
    const h = registry.histograms('d_seconds', 'Durations', 'route', [0.1, 1]).get('/a');
    h.observe(0.05);
    h.observe(0.5);
    h.observe(3);
    const text = await registry.render();
    assert.match(text, /^d_seconds_bucket\{route="\/a",le="0.1"\} 1$/m);
    assert.match(text, /^d_seconds_bucket\{route="\/a",le="1"\} 2$/m);
    assert.match(text, /^d_seconds_bucket\{route="\/a",le="\+Inf"\} 3$/m);
    assert.match(text, /^d_seconds_sum\{route="\/a"\} 3.55$/m);
    assert.match(text, /^d_seconds_count\{route="\/a"\} 3$/m);
  });

  it('reads gauges at scrape time and escapes label values', async () => {
    const registry = new MetricsRegistry();
    let sessions = 1;
    registry.gauge('g', 'Gauge', () => sessions, { v: 'a"b\\c' });
    assert.match(await registry.render(), /^g\{v="a\\"b\\\\c"\} 1$/m);
    sessions = 5;
    assert.match(await registry.render(), /^g\{v="a\\"b\\\\c"\} 5$/m);
  });

  it('leaves out a gauge whose source fails instead of failing the scrape', async () => {
    const registry = new MetricsRegistry();
    registry.gauge('broken', 'Broken', () => { throw new Error('database down'); });
    registry.counter('ok_total', 'Fine').inc();
    const text = await registry.render();
    assert.doesNotMatch(text, /broken/);
    assert.match(text, /^ok_total 1$/m);
  });
});
