// Metrics: requests, events, attempts, error rate and latency over time, split by a dimension.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from './api.js';
import { html, useLoad, useNames, nameOf, Loading, Failure, RANGES, go } from './ui.js';

const GRANULARITY = { '1h': '1m', '24h': '1h', '7d': '6h', '30d': '1d' };
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

// What each chart asks for: kind, measures, and which dimensions it can split by.
const CHARTS = [
  { id: 'requests', title: 'Requests', kind: 'requests', measures: ['count'], split: { source: 'source_id' } },
  { id: 'events', title: 'Events', kind: 'events', measures: ['count'], split: { source: 'source_id', connection: 'webhook_id', destination: 'destination_id' } },
  { id: 'attempts', title: 'Attempts', kind: 'attempts', measures: ['count'], split: { connection: 'webhook_id', destination: 'destination_id' } },
  { id: 'error-rate', title: 'Error rate (attempts)', kind: 'attempts', measures: ['error_rate'], split: { connection: 'webhook_id', destination: 'destination_id' } },
  { id: 'latency', title: 'Delivery latency (ms)', kind: 'attempts', measures: ['response_latency_p50', 'response_latency_p95', 'response_latency_p99'], split: {} },
];

// Rows of the metrics API -> uPlot's columns: times, then one series per measure or
// per dimension value.
export function columns(rows, measures, dimension, label) {
  const times = [...new Set(rows.map((r) => r.time_bucket))].sort();
  const index = new Map(times.map((t, i) => [t, i]));
  const series = new Map();
  for (const row of rows) {
    for (const measure of measures) {
      const key = dimension ? label(row.dimensions[dimension]) : measure;
      if (!series.has(key)) series.set(key, new Array(times.length).fill(null));
      series.get(key)[index.get(row.time_bucket)] = row.metrics[measure];
    }
  }
  return { times: times.map((t) => Date.parse(t) / 1000), series };
}

function Chart({ spec, range, split, names }) {
  const box = useRef(null);
  const dimension = spec.split[split] || '';
  const kinds = { source_id: 'sources', webhook_id: 'connections', destination_id: 'destinations' };
  const label = (id) => nameOf(names, kinds[dimension], id) || '—';
  const [span, setSpan] = useState([0, 0]);
  const { loading, error, data } = useLoad(() => {
    const end = Date.now();
    const start = end - RANGES[range] * 1000;
    setSpan([start / 1000, end / 1000]);
    return api(`/metrics/${spec.kind}`, { query: {
      'date_range[gte]': new Date(start).toISOString(),
      'date_range[lte]': new Date(end).toISOString(),
      granularity: GRANULARITY[range],
      measures: spec.measures,
      dimensions: dimension || undefined,
    } });
  }, [spec.id, range, dimension], 30000);
  const [width, setWidth] = useState(600);
  useEffect(() => {
    const resize = () => box.current && setWidth(box.current.clientWidth);
    resize();
    window.addEventListener('resize', resize);
    return () => window.removeEventListener('resize', resize);
  }, []);
  useEffect(() => {
    if (!data || data.length === 0 || !box.current) return undefined;
    const { times, series } = columns(data, spec.measures, dimension, label);
    const legend = [...series.keys()];
    const plot = new uPlot({
      width: Math.max(260, width),
      height: 200,
      series: [{}, ...legend.map((n, i) => ({
        label: n, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, points: { show: true },
      }))],
      axes: [{}, { size: 50 }],
      // the whole range asked for, even where only some buckets have data
      scales: { x: { time: true, range: () => span } },
    }, [times, ...legend.map((n) => series.get(n))], box.current);
    return () => plot.destroy();
  }, [data, width, names]);
  return html`<article class="chart" data-chart=${spec.id}>
    <h2>${spec.title} ${split && !dimension && html`<small class="hint">(not split per ${split})</small>`}</h2>
    <${Failure} error=${error} />
    ${loading && !data && html`<${Loading} />`}
    ${data && data.length === 0 && html`<p class="empty">No data in this range.</p>`}
    <div ref=${box} class="plot"></div>
  </article>`;
}

export function Metrics({ query }) {
  const names = useNames();
  const range = RANGES[query.range] ? query.range : '24h';
  const split = query.split || '';
  const set = (patch) => go('/metrics', { range, split, ...patch });
  return html`<section>
    <div class="title"><h1>Metrics</h1></div>
    <div class="filters">
      <select aria-label="Range" value=${range} onChange=${(e) => set({ range: e.target.value })}>
        ${Object.keys(RANGES).map((r) => html`<option value=${r}>last ${r}</option>`)}
      </select>
      <select aria-label="Split by" value=${split} onChange=${(e) => set({ split: e.target.value })}>
        <option value="">all together</option>
        <option value="source">per source</option>
        <option value="connection">per connection</option>
        <option value="destination">per destination</option>
      </select>
    </div>
    <div class="charts">${CHARTS.map((spec) => html`<${Chart} key=${spec.id} spec=${spec} range=${range} split=${split} names=${names} />`)}</div>
  </section>`;
}
