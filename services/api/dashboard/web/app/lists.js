// Requests, events and attempts: filtered, paged, live lists; bulk retry of a filtered list.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, searchParams } from './api.js';
import {
  html, useLoad, useNames, nameOf, Loading, Failure, Badge, Pager, TimeRange, rangeQuery, when, go,
} from './ui.js';

const LIVE_MS = 3000;
const PAGE = 50;

const KINDS = {
  requests: {
    title: 'Requests',
    filters: [
      { name: 'status', label: 'Status', options: ['accepted', 'rejected'] },
      { name: 'source_id', label: 'Source', from: 'sources' },
    ],
    columns: ['Received', 'Source', 'Status', 'Verified', 'Events', 'Ignored'],
    row: (r, names) => [
      html`<a href=${`#/requests/${r.id}`}>${when(r.created_at)}</a>`,
      nameOf(names, 'sources', r.source_id),
      r.rejection_cause ? html`<${Badge} value=${r.rejection_cause} />` : html`<${Badge} value="ACCEPTED" />`,
      r.verified === null ? '—' : r.verified ? 'yes' : 'no',
      r.events_count,
      r.ignored_count,
    ],
    bulk: 'requests',
  },
  events: {
    title: 'Events',
    filters: [
      { name: 'status', label: 'Status', options: ['QUEUED', 'SCHEDULED', 'HOLD', 'SUCCESSFUL', 'FAILED'] },
      { name: 'webhook_id', label: 'Connection', from: 'connections' },
      { name: 'source_id', label: 'Source', from: 'sources' },
      { name: 'destination_id', label: 'Destination', from: 'destinations' },
      { name: 'error_code', label: 'Error code', text: true },
    ],
    columns: ['Created', 'Status', 'Connection', 'Destination', 'Attempts', 'Response', 'Last attempt'],
    row: (e, names) => [
      html`<a href=${`#/events/${e.id}`}>${when(e.created_at)}</a>`,
      html`<${Badge} value=${e.status} />`,
      nameOf(names, 'connections', e.webhook_id),
      nameOf(names, 'destinations', e.destination_id),
      e.attempts,
      e.error_detail || e.response_status || '—',
      when(e.last_attempt_at),
    ],
    bulk: 'events',
  },
  attempts: {
    title: 'Attempts',
    filters: [
      { name: 'status', label: 'Status', options: ['SUCCESSFUL', 'FAILED'] },
      { name: 'destination_id', label: 'Destination', from: 'destinations' },
      { name: 'trigger', label: 'Trigger', options: ['INITIAL', 'AUTOMATIC', 'MANUAL', 'BULK_RETRY', 'UNPAUSE', 'BACKFILL'] },
      { name: 'event_id', label: 'Event id', text: true },
    ],
    columns: ['At', 'Status', 'Event', 'Destination', '#', 'Trigger', 'Response', 'Latency'],
    row: (a, names) => [
      when(a.created_at),
      html`<${Badge} value=${a.status} />`,
      html`<a href=${`#/events/${a.event_id}`}>${a.event_id}</a>`,
      nameOf(names, 'destinations', a.destination_id),
      a.attempt_number,
      a.trigger,
      a.error_detail || a.response_status || '—',
      a.response_latency === null ? '—' : `${a.response_latency} ms`,
    ],
  },
};

// The API's filters out of the page's query (the time range becomes created_at bounds).
export function apiFilters(query) {
  const { range, from, to, ...filters } = query;
  return { ...filters, ...rangeQuery(range, from, to) };
}

function Filters({ kind, query, names }) {
  const [term, setTerm] = useState(query.search_term || '');
  const set = (patch) => go(`/${kind}`, { ...query, ...patch });
  return html`<form class="filters" onSubmit=${(e) => { e.preventDefault(); set({ search_term: term }); }}>
    ${KINDS[kind].filters.map((f) => f.text
      ? html`<input name=${f.name} aria-label=${f.label} placeholder=${f.label} value=${query[f.name] || ''}
          onChange=${(e) => set({ [f.name]: e.target.value })} />`
      : html`<select name=${f.name} aria-label=${f.label} value=${query[f.name] || ''}
          onChange=${(e) => set({ [f.name]: e.target.value })}>
          <option value="">${f.label}: any</option>
          ${(f.options || Object.values(names[f.from]).map((r) => r.id)).map((v) => html`<option value=${v}>
            ${f.from ? nameOf(names, f.from, v) : v}</option>`)}
        </select>`)}
    <${TimeRange} value=${query} onChange=${(v) => set(v)} />
    <input type="search" name="search_term" placeholder="Search headers and body" value=${term}
      onInput=${(e) => setTerm(e.target.value)} />
    <button type="submit">Search</button>
    ${Object.keys(query).length > 0 && html`<button type="button" onClick=${() => go(`/${kind}`)}>Clear</button>`}
  </form>`;
}

export function List({ kind, query }) {
  const spec = KINDS[kind];
  const names = useNames();
  const [cursor, setCursor] = useState(null);
  const seen = useRef(null);
  const filters = JSON.stringify(query);
  useEffect(() => { setCursor(null); seen.current = null; }, [filters]);
  const live = cursor === null;
  const { loading, error, data } = useLoad(
    () => api(`/${kind}`, { query: { ...apiFilters(query), limit: PAGE, ...(cursor || {}) } }),
    [kind, filters, JSON.stringify(cursor)],
    live ? LIVE_MS : 0,
  );
  // Rows that arrived since the previous refresh are highlighted.
  const previous = seen.current;
  const fresh = new Set();
  if (data) {
    if (previous) data.models.forEach((m) => { if (!previous.has(m.id)) fresh.add(m.id); });
    seen.current = new Set([...(previous || []), ...data.models.map((m) => m.id)]);
  }
  return html`<section>
    <div class="title">
      <h1>${spec.title}</h1>
      <span class=${live ? 'live on' : 'live'} title="New rows appear without a reload">
        ${live ? '● live' : 'paused while paging'}</span>
    </div>
    <${Filters} kind=${kind} query=${query} names=${names} />
    ${spec.bulk && html`<${BulkRetry} kind=${spec.bulk} filters=${apiFilters(query)} />`}
    <${Failure} error=${error} />
    ${loading && !data && html`<${Loading} />`}
    ${data && data.models.length === 0 && html`<p class="empty">Nothing matches.</p>`}
    ${data && data.models.length > 0 && html`<div class="table-wrap"><table class=${`list ${kind}`}>
      <thead><tr>${spec.columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
      <tbody>${data.models.map((m) => html`<tr key=${m.id} data-id=${m.id} class=${fresh.has(m.id) ? 'new' : ''}>
        ${spec.row(m, names).map((cell, i) => html`<td data-label=${spec.columns[i]}>${cell}</td>`)}
      </tr>`)}</tbody>
    </table></div>`}
    ${data && html`<${Pager} pagination=${data.pagination} onPage=${(c) => setCursor(c === data.pagination.next ? { next: c } : { prev: c })} />`}
  </section>`;
}

// A bulk job's progress: a bulk retry's (retried), or a backfill's (routed, and the
// requests the connection already had).
export function bulkStatus(job, verb = 'retried') {
  const skipped = job.skipped_count ? `, ${job.skipped_count} already there` : '';
  const failed = job.failed_count ? `, ${job.failed_count} failed` : '';
  const state = job.cancelled_at ? 'cancelled' : job.in_progress ? 'in progress' : 'done';
  return `${job.completed_count} of ${job.estimated_count} ${verb}${skipped}${failed} — ${state}`;
}

// Plan (how many match), then start, progress and cancel of one bulk retry.
export function BulkRetry({ kind, filters }) {
  const [plan, setPlan] = useState(null);
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const query = Object.fromEntries(searchParams(filters));
  const guard = (step) => async () => {
    setError(null);
    try { await step(); } catch (e) { setError(e); }
  };
  useEffect(() => {
    if (!job || !job.in_progress) return undefined;
    const timer = setInterval(guard(async () => setJob(await api(`/bulk/${kind}/retry/${job.id}`))), 1000);
    return () => clearInterval(timer);
  }, [job && job.id, job && job.in_progress]);
  const start = guard(async () => { setJob(await api(`/bulk/${kind}/retry`, { method: 'POST', body: { query } })); setPlan(null); });
  const cancel = guard(async () => setJob(await api(`/bulk/${kind}/retry/${job.id}/cancel`, { method: 'POST', body: {} })));
  const planned = guard(async () => setPlan(await api(`/bulk/${kind}/retry/plan`, { query })));
  return html`<div class="bulk">
    ${!plan && !(job && job.in_progress) && html`<button onClick=${planned}>Retry all matching…</button>`}
    ${plan && html`<div class="plan" role="dialog">
      <span><strong class="planned-count">${plan.estimated_count}</strong> ${kind} match these filters and will be retried
        (${plan.estimated_batch} batches).</span>
      <button class="primary" disabled=${plan.estimated_count === 0} onClick=${start}>Start bulk retry</button>
      <button onClick=${() => setPlan(null)}>Cancel</button>
    </div>`}
    ${job && html`<div class="progress-box">
      <progress max="1" value=${job.progress}></progress>
      <span class="bulk-status">${bulkStatus(job)}</span>
      ${job.in_progress && !job.cancelled_at && html`<button onClick=${cancel}>Cancel bulk retry</button>`}
    </div>`}
    <${Failure} error=${error} />
  </div>`;
}
