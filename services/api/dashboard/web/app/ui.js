// What every page uses: the html tag, loading and error states, data hooks, small widgets.
import { h } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { api, searchParams } from './api.js';

export const html = htm.bind(h);

// The current hash route: path and query, re-read when the hash changes.
export function parseHash() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  return { path: path || '/', query: Object.fromEntries(new URLSearchParams(query)) };
}

export function go(path, query) {
  const params = searchParams(query).toString();
  location.hash = `#${path}${params ? `?${params}` : ''}`;
}

// Calls load() now, again when deps change, and every `every` ms if given; keeps the
// last good data while a refresh runs, so live lists do not flicker.
export function useLoad(load, deps, every = 0) {
  const [state, setState] = useState({ loading: true, error: null, data: null });
  const latest = useRef(0);
  const run = useCallback(async () => {
    const ticket = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (ticket === latest.current) setState({ loading: false, error: null, data });
    } catch (error) {
      if (ticket === latest.current) setState((s) => ({ ...s, loading: false, error }));
    }
  }, deps);
  useEffect(() => {
    setState({ loading: true, error: null, data: null });
    run();
    if (!every) return undefined;
    const timer = setInterval(run, every);
    return () => clearInterval(timer);
  }, [run, every]);
  return { ...state, reload: run };
}

export function Loading() {
  return html`<p class="loading" role="status">Loading…</p>`;
}

export function Failure({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.code || 'ERROR'}</strong> ${error.message}
  </div>`;
}

// A button whose action runs once at a time and shows its error next to it.
export function Action({ label, run, kind = '', confirm: question, done }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const click = async () => {
    if (question && !window.confirm(question)) return;
    setBusy(true);
    setError(null);
    try {
      const result = await run();
      if (done) done(result);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="action">
    <button type="button" class=${kind} disabled=${busy} onClick=${click}>${busy ? `${label}…` : label}</button>
    ${error && html`<span class="error inline" role="alert">${error.message}</span>`}
  </span>`;
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function Badge({ value }) {
  if (!value) return html`<span class="badge">—</span>`;
  return html`<span class=${`badge ${String(value).toLowerCase()}`}>${value}</span>`;
}

export function Json({ value }) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return html`<pre class="json">${text}</pre>`;
}

export function Copy({ text }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      window.prompt('Copy this:', text);
    }
  };
  return html`<button class="small" onClick=${copy} title="Copy">${copied ? 'Copied' : 'Copy'}</button>`;
}

export function Pager({ pagination, onPage }) {
  if (!pagination) return null;
  return html`<nav class="pager">
    <button disabled=${!pagination.prev} onClick=${() => onPage(pagination.prev)}>← Newer</button>
    <button disabled=${!pagination.next} onClick=${() => onPage(pagination.next)}>Older →</button>
  </nav>`;
}

// The project's sources, connections and destinations by id, for names in lists.
export function useNames() {
  const { data } = useLoad(async () => {
    const [sources, connections, destinations] = await Promise.all(
      ['sources', 'connections', 'destinations'].map((kind) =>
        api(`/${kind}`, { query: { limit: 250 } }),
      ),
    );
    const byId = (page) => Object.fromEntries(page.models.map((m) => [m.id, m]));
    return {
      sources: byId(sources),
      connections: byId(connections),
      destinations: byId(destinations),
    };
  }, []);
  return data || NO_NAMES;
}

const NO_NAMES = { sources: {}, connections: {}, destinations: {} };

// A resource's name from useNames(), or its id when it is not (yet) known.
export function nameOf(names, kind, id) {
  const found = (names[kind] || {})[id];
  return found ? found.name : id;
}

// Time ranges as the lists and charts take them.
export const RANGES = { '1h': 3600, '24h': 86400, '7d': 604800, '30d': 2592000 };

export function rangeQuery(range, from, to, field = 'created_at') {
  if (range === 'custom') {
    return {
      [`${field}[gte]`]: from ? new Date(from).toISOString() : '',
      [`${field}[lte]`]: to ? new Date(to).toISOString() : '',
    };
  }
  const seconds = RANGES[range];
  if (!seconds) return {};
  return { [`${field}[gte]`]: new Date(Date.now() - seconds * 1000).toISOString() };
}

export function TimeRange({ value, onChange }) {
  const set = (patch) => onChange({ ...value, ...patch });
  return html`<span class="time-range">
    <select aria-label="Time range" value=${value.range || 'all'}
      onChange=${(e) => set({ range: e.target.value })}>
      <option value="all">Any time</option>
      <option value="1h">Last hour</option>
      <option value="24h">Last 24 hours</option>
      <option value="7d">Last 7 days</option>
      <option value="30d">Last 30 days</option>
      <option value="custom">Between…</option>
    </select>
    ${value.range === 'custom' && html`
      <input type="datetime-local" aria-label="From" value=${value.from || ''}
        onChange=${(e) => set({ from: e.target.value })} />
      <input type="datetime-local" aria-label="To" value=${value.to || ''}
        onChange=${(e) => set({ to: e.target.value })} />`}
  </span>`;
}
