// Issues: what is broken, how often, since when; acknowledge, resolve or ignore each.
import { api } from './api.js';
import { html, useLoad, useNames, nameOf, Loading, Failure, Action, Badge, when, go } from './ui.js';

const STATUSES = ['OPENED', 'ACKNOWLEDGED', 'RESOLVED', 'IGNORED'];

// The events list that shows an issue's failures.
export function eventsOf(issue) {
  const keys = issue.aggregation_keys || {};
  const query = { status: 'FAILED' };
  if (issue.type === 'backpressure') return `#/events?destination_id=${keys.destination_id[0]}&status=QUEUED`;
  if (keys.webhook_id && keys.webhook_id.length) query.webhook_id = keys.webhook_id[0];
  // The precise code (hookhouse's error_detail) names these failures and no others.
  const code = (keys.error_detail || [])[0];
  if (code) query.error_code = code;
  return `#/events?${new URLSearchParams(query)}`;
}

function title(issue, names) {
  const keys = issue.aggregation_keys || {};
  const named = (kind, id) => nameOf(names, kind, id);
  if (issue.type === 'delivery') {
    const status = (keys.response_status || [])[0];
    const cause = [status && `HTTP ${status}`, (keys.error_detail || [])[0]].filter(Boolean).join(' ');
    return `${named('connections', keys.webhook_id[0])}: ${cause}`;
  }
  if (issue.type === 'transformation') return `Transformation ${keys.transformation_id[0]} failed on ${named('connections', keys.webhook_id[0])}`;
  return `${named('destinations', keys.destination_id[0])} is backlogged (${issue.backlog.depth} waiting)`;
}

export function Issues({ query }) {
  const names = useNames();
  const status = query.status || 'OPENED';
  const { loading, error, data, reload } = useLoad(
    () => api('/issues', { query: { status, limit: 100 } }),
    [status],
    10000,
  );
  const set = (issue, next) => () => api(`/issues/${issue.id}`, { method: 'PUT', body: { status: next } });
  return html`<section>
    <div class="title"><h1>Issues</h1></div>
    <nav class="tabs">${STATUSES.map((s) => html`<button class=${s === status ? 'current' : ''}
      onClick=${() => go('/issues', { status: s })}>${s.toLowerCase()}</button>`)}</nav>
    <${Failure} error=${error} />
    ${loading && !data && html`<${Loading} />`}
    ${data && data.models.length === 0 && html`<p class="empty">No ${status.toLowerCase()} issue.</p>`}
    <ul class="issues">
      ${data && data.models.map((issue) => html`<li class="issue" key=${issue.id} data-id=${issue.id}>
        <div class="what">
          <${Badge} value=${issue.type} /> <strong>${title(issue, names)}</strong>
          <div class="facts">${issue.failures} failure(s)${issue.failed_events ? `, ${issue.failed_events} failed for good` : ''}
            · first seen ${when(issue.first_seen_at)} · last seen ${when(issue.last_seen_at)}</div>
        </div>
        <div class="actions">
          <a class="button" href=${eventsOf(issue)}>Events</a>
          ${issue.reference && issue.reference.event_id && html`<a class="button" href=${`#/events/${issue.reference.event_id}`}>Latest</a>`}
          ${status !== 'ACKNOWLEDGED' && html`<${Action} label="Acknowledge" run=${set(issue, 'ACKNOWLEDGED')} done=${reload} />`}
          ${status !== 'RESOLVED' && html`<${Action} label="Resolve" run=${set(issue, 'RESOLVED')} done=${reload} />`}
          ${status !== 'IGNORED' && html`<${Action} label="Ignore" run=${set(issue, 'IGNORED')} done=${reload} />`}
        </div>
      </li>`)}
    </ul>
  </section>`;
}
