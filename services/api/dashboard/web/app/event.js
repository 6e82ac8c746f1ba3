// One event: the request as received, the payload as delivered, every attempt; and one request.
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { html, useLoad, useNames, Loading, Failure, Action, Badge, Json, when } from './ui.js';

const LIVE_MS = 2000;
const PENDING = ['QUEUED', 'SCHEDULED', 'HOLD']; // with a delivery still to come: mutable

function Data({ title, data }) {
  if (!data) return null;
  return html`<div class="data">
    <h3>${title}</h3>
    <p><code>${data.path || '/'}${data.query ? `?${data.query}` : ''}</code></p>
    <details open><summary>Headers</summary><${Json} value=${data.headers} /></details>
    <details open><summary>Body</summary><${Json} value=${data.body} /></details>
  </div>`;
}

function Attempt({ attempt: a }) {
  return html`<li class="attempt" data-attempt=${a.attempt_number}>
    <div class="head">
      <strong>#${a.attempt_number}</strong> <${Badge} value=${a.status} /> ${a.trigger}
      · ${[a.response_status && `HTTP ${a.response_status}`, a.error_detail].filter(Boolean).join(' ')} · ${a.response_latency ?? '—'} ms · ${when(a.created_at)}
    </div>
    <div class="sent"><code>${a.http_method} ${a.requested_url}</code></div>
    <details><summary>Response headers</summary><${Json} value=${a.response_headers || {}} /></details>
    <details open><summary>Response body</summary><${Json} value=${a.body || ''} /></details>
  </li>`;
}

async function loadEvent(id) {
  const event = await api(`/events/${id}`);
  const [request, attempts] = await Promise.all([
    api(`/requests/${event.request_id}`).catch(() => null),
    api('/attempts', { query: { event_id: id, limit: 100, dir: 'asc' } }),
  ]);
  return { event, request, attempts: attempts.models };
}

export function EventPage({ id }) {
  const names = useNames();
  const { error, data, reload } = useLoad(() => loadEvent(id), [id], LIVE_MS);
  const [notice, setNotice] = useState('');
  if (!data) return error ? html`<${Failure} error=${error} />` : html`<${Loading} />`;
  const { event: e, request, attempts } = data;
  const connection = names.connections[e.webhook_id];
  const bookmark = () => api('/bookmarks', {
    method: 'POST',
    body: { webhook_id: e.webhook_id, event_data_id: e.request_id, label: `event ${e.id}` },
  });
  return html`<section class="event">
    <div class="title">
      <h1>Event <code>${e.id}</code></h1>
      <${Badge} value=${e.status} />
    </div>
    <${Failure} error=${error} />
    <p class="facts">
      ${connection ? connection.full_name : e.webhook_id} · ${e.attempts} attempt(s) · created ${when(e.created_at)}
      ${e.next_attempt_at && html` · next attempt ${when(e.next_attempt_at)}`}
      · request <a href=${`#/requests/${e.request_id}`}>${e.request_id}</a>
    </p>
    <div class="buttons">
      <${Action} label="Retry" kind="primary" run=${() => api(`/events/${e.id}/retry`, { method: 'POST', body: {} })}
        done=${() => { setNotice('Retry queued: the new attempt appears below.'); reload(); }} />
      ${PENDING.includes(e.status) && html`<${Action} label="Mute"
        run=${() => api(`/events/${e.id}/mute`, { method: 'PUT', body: {} })}
        confirm="Mute this event? What is still to come for it is cancelled."
        done=${() => { setNotice('Muted: nothing more is delivered unless you retry it.'); reload(); }} />`}
      <${Action} label="Bookmark" run=${bookmark} done=${() => setNotice('Bookmarked.')} />
    </div>
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    <div class="columns">
      <${Data} title="Request as received" data=${request && request.data} />
      <${Data} title="Payload as delivered" data=${e.data} />
    </div>
    <h2>Attempts</h2>
    ${attempts.length === 0 && html`<p class="empty">No attempt yet.</p>`}
    <ol class="attempts">${attempts.map((a) => html`<${Attempt} key=${a.id} attempt=${a} />`)}</ol>
  </section>`;
}

async function loadRequest(id) {
  const [request, events, ignored] = await Promise.all([
    api(`/requests/${id}`),
    api(`/requests/${id}/events`, { query: { limit: 100 } }),
    api(`/requests/${id}/ignored_events`, { query: { limit: 100 } }),
  ]);
  return { request, events: events.models, ignored: ignored.models };
}

export function RequestPage({ id }) {
  const { error, data } = useLoad(() => loadRequest(id), [id], LIVE_MS);
  if (!data) return error ? html`<${Failure} error=${error} />` : html`<${Loading} />`;
  const { request: r, events, ignored } = data;
  return html`<section class="request">
    <div class="title">
      <h1>Request <code>${r.id}</code></h1>
      <${Badge} value=${r.rejection_cause || 'ACCEPTED'} />
    </div>
    <p class="facts">received ${when(r.created_at)} · verified: ${r.verified === null ? '—' : String(r.verified)}</p>
    <div class="buttons">
      <${Action} label="Retry request" run=${() => api(`/requests/${r.id}/retry`, { method: 'POST', body: {} })} />
    </div>
    <${Data} title="As received" data=${r.data} />
    <h2>Events</h2>
    ${events.length === 0 && html`<p class="empty">No event.</p>`}
    <ul>${events.map((e) => html`<li key=${e.id}><a href=${`#/events/${e.id}`}>${e.id}</a> <${Badge} value=${e.status} /></li>`)}</ul>
    ${ignored.length > 0 && html`<h2>Ignored</h2>
      <ul>${ignored.map((i) => html`<li key=${i.id}>${i.webhook_id}: <${Badge} value=${i.cause} /></li>`)}</ul>`}
  </section>`;
}
