// Connections: sources with their destinations at a glance, and the connection editor.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { bulkStatus } from './lists.js';
import { html, useLoad, Loading, Failure, Action, Badge, Copy, go } from './ui.js';

const seconds = (ms) => (ms % 1000 ? `${ms} ms` : `${ms / 1000} s`);

export function rulesSummary(rules, transformations = {}) {
  return (rules || []).map((rule) => {
    switch (rule.type) {
      case 'retry':
        return `retry ${rule.strategy || 'linear'} ×${rule.count ?? '?'} every ${seconds(rule.interval ?? 0)}`;
      case 'filter':
        return `filter on ${['body', 'headers', 'query', 'path'].filter((p) => p in rule).join(', ')}`;
      case 'transform':
        return `transform: ${(transformations[rule.transformation_id] || {}).name || rule.transformation_id}`;
      case 'delay':
        return `delay ${seconds(rule.delay)}`;
      case 'deduplicate':
        return `deduplicate ${seconds(rule.window)}`;
      default:
        return rule.type;
    }
  });
}

async function loadConnections() {
  const [connections, transformations] = await Promise.all([
    api('/connections', { query: { limit: 250, order_by: 'created_at', dir: 'asc' } }),
    api('/transformations', { query: { limit: 250 } }),
  ]);
  const bySource = new Map();
  for (const c of connections.models) {
    const id = c.source ? c.source.id : '?';
    if (!bySource.has(id)) bySource.set(id, { source: c.source, connections: [] });
    bySource.get(id).connections.push(c);
  }
  const named = Object.fromEntries(transformations.models.map((t) => [t.id, t]));
  return { groups: [...bySource.values()], transformations: named, more: connections.pagination.next };
}

function ConnectionRow({ connection: c, transformations, reload }) {
  const toggle = (action) => () => api(`/connections/${c.id}/${action}`, { method: 'PUT', body: {} });
  const status = c.disabled_at ? 'DISABLED' : c.paused_at ? 'PAUSED' : 'ACTIVE';
  const rules = rulesSummary(c.rules, transformations);
  return html`<li class="connection" data-connection=${c.name}>
    <div class="what">
      <strong>${c.name}</strong> <${Badge} value=${status} />
      <span class="arrow">→</span> ${c.destination ? c.destination.name : '?'}
      <code class="url">${c.destination && (c.destination.url || '(CLI)')}</code>
      <div class="rules">${rules.length ? rules.join(' · ') : 'no rules'}</div>
    </div>
    <div class="actions">
      <a class="button" href=${`#/events?webhook_id=${c.id}`}>Events</a>
      <a class="button" href=${`#/connections/${c.id}/edit`}>Edit</a>
      ${c.paused_at
        ? html`<${Action} label="Unpause" run=${toggle('unpause')} done=${reload} />`
        : html`<${Action} label="Pause" run=${toggle('pause')} done=${reload} />`}
      ${c.disabled_at
        ? html`<${Action} label="Enable" run=${toggle('enable')} done=${reload} />`
        : html`<${Action} label="Disable" run=${toggle('disable')} done=${reload} />`}
    </div>
  </li>`;
}

export function Connections() {
  const { loading, error, data, reload } = useLoad(loadConnections, []);
  return html`<section>
    <div class="title">
      <h1>Connections</h1>
      <a class="button primary" href="#/connections/new">New connection</a>
    </div>
    <${Failure} error=${error} />
    ${loading && !data && html`<${Loading} />`}
    ${data && data.groups.length === 0 && html`<p class="empty">No connections yet: create one,
      then send a webhook to its source's URL.</p>`}
    ${data && data.groups.map(({ source, connections }) => html`<article class="source" key=${source && source.id}>
      <h2>${source ? source.name : '(deleted source)'} ${source && source.disabled_at && html`<${Badge} value="DISABLED" />`}</h2>
      ${source && html`<p class="ingest">Send webhooks to <code class="ingest-url">${source.url}</code> <${Copy} text=${source.url} /></p>`}
      <ul class="connections">
        ${connections.map((c) => html`<${ConnectionRow} key=${c.id} connection=${c}
          transformations=${data.transformations} reload=${reload} />`)}
      </ul>
    </article>`)}
    ${data && data.more && html`<p class="hint">Only the first 250 connections are shown.</p>`}
  </section>`;
}

// The editor: a connection's form state <-> its API body.
const EMPTY = {
  name: '',
  sourceId: '',
  sourceName: '',
  destinationId: '',
  destinationName: '',
  destinationUrl: '',
  retry: false,
  strategy: 'linear',
  interval: 60000,
  count: 5,
  statusCodes: '',
  filter: false,
  filterBody: '',
  filterHeaders: '',
  transform: '',
  transformationName: '',
  code: "addHandler('transform', (request, context) => {\n  return request;\n});\n",
  env: '{}',
  delay: '',
  dedup: '',
  dedupFields: '',
  orderBy: '',
};

export function fromConnection(c, transformations) {
  const rule = (type) => (c.rules || []).find((r) => r.type === type);
  const retry = rule('retry');
  const filter = rule('filter');
  const transform = rule('transform');
  const saved = transform && transformations.find((t) => t.id === transform.transformation_id);
  const dedup = rule('deduplicate');
  const delay = rule('delay');
  return {
    ...EMPTY,
    name: c.name || '',
    sourceId: c.source ? c.source.id : '',
    destinationId: c.destination ? c.destination.id : '',
    retry: !!retry,
    strategy: (retry && retry.strategy) || 'linear',
    interval: (retry && retry.interval) ?? 60000,
    count: (retry && retry.count) ?? 5,
    statusCodes: retry && retry.response_status_codes ? retry.response_status_codes.join(', ') : '',
    filter: !!filter,
    filterBody: filter && filter.body !== undefined ? JSON.stringify(filter.body, null, 2) : '',
    filterHeaders: filter && filter.headers !== undefined ? JSON.stringify(filter.headers, null, 2) : '',
    transform: saved ? saved.id : '',
    code: saved ? saved.code : EMPTY.code,
    env: saved ? JSON.stringify(saved.env || {}) : '{}',
    delay: delay ? String(delay.delay) : '',
    dedup: dedup ? String(dedup.window) : '',
    dedupFields: dedup && dedup.include_fields ? dedup.include_fields.join(', ') : '',
    orderBy: c.ordering ? c.ordering.key : '',
  };
}

// The form's "Order by key" as the API's `ordering`: empty is unordered (null).
export function orderingOf(form) {
  const key = form.orderBy.trim();
  return key ? { key } : null;
}

// JSON text -> value, or an error message naming the field.
export function parsedJson(label, text) {
  if (!text.trim()) return { value: undefined };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `${label} is not valid JSON: ${error.message}` };
  }
}

export function toRules(form) {
  const rules = [];
  if (form.retry) {
    const codes = form.statusCodes.split(',').map((s) => s.trim()).filter(Boolean);
    rules.push({
      type: 'retry',
      strategy: form.strategy,
      interval: Number(form.interval),
      count: Number(form.count),
      ...(codes.length ? { response_status_codes: codes } : {}),
    });
  }
  if (form.filter) {
    const rule = { type: 'filter' };
    const body = parsedJson('The body filter', form.filterBody);
    const headers = parsedJson('The headers filter', form.filterHeaders);
    if (body.error || headers.error) throw new Error(body.error || headers.error);
    if (body.value !== undefined) rule.body = body.value;
    if (headers.value !== undefined) rule.headers = headers.value;
    rules.push(rule);
  }
  if (form.transform === 'new') {
    const env = parsedJson('The environment', form.env);
    if (env.error) throw new Error(env.error);
    rules.push({
      type: 'transform',
      transformation: { name: form.transformationName, code: form.code, env: env.value || {} },
    });
  } else if (form.transform) {
    rules.push({ type: 'transform', transformation_id: form.transform });
  }
  if (form.delay !== '') rules.push({ type: 'delay', delay: Number(form.delay) });
  if (form.dedup !== '') {
    const fields = form.dedupFields.split(',').map((s) => s.trim()).filter(Boolean);
    rules.push({ type: 'deduplicate', window: Number(form.dedup), ...(fields.length ? { include_fields: fields } : {}) });
  }
  return rules;
}

function TestRun({ form }) {
  const [sample, setSample] = useState('{\n  "headers": {"content-type": "application/json"},\n  "body": {"hello": "world"},\n  "path": "/",\n  "query": ""\n}');
  const [result, setResult] = useState(null);
  const run = async () => {
    const request = parsedJson('The sample request', sample);
    const env = parsedJson('The environment', form.env);
    if (request.error || env.error) throw new Error(request.error || env.error);
    setResult(await api('/transformations/run', {
      method: 'PUT',
      body: { code: form.code, env: env.value || {}, request: request.value || {} },
    }));
  };
  return html`<div class="test-run">
    <label>Sample request
      <textarea name="sample" rows="6" value=${sample} onInput=${(e) => setSample(e.target.value)} />
    </label>
    <${Action} label="Test run" run=${run} />
    ${result && html`<div class="run-result">
      ${result.error ? html`<div class="error" role="alert">${result.error}</div>` : html`<h4>Output</h4><pre class="json">${JSON.stringify(result.request, null, 2)}</pre>`}
      ${result.console && result.console.length > 0 && html`<h4>Console</h4><pre class="json">${result.console.map((line) => (line.type === 'log' ? '' : `${line.type}: `) + line.message).join('\n')}</pre>`}
    </div>`}
  </div>`;
}

// The rules a backtest tries: the form's, with a saved transformation's code as edited
// (inline, so nothing is saved before the user saves).
export function backtestRules(form, transformations) {
  const existing = transformations.find((t) => t.id === form.transform);
  return toRules(form).map((rule) => {
    if (rule.type !== 'transform' || !existing || existing.code === form.code) return rule;
    const env = parsedJson('The environment', form.env);
    if (env.error) throw new Error(env.error);
    return { type: 'transform', transformation: { name: existing.name, code: form.code, env: env.value || {} } };
  });
}

// A backtest's answer as lines a user reads.
export function backtestSummary(answer) {
  const of = answer.complete
    ? `all ${answer.requests_count} requests`
    : `${answer.evaluated_count} of ${answer.requests_count} requests (a sample past the filters)`;
  const lines = [
    `Of ${of}: ${answer.events_count} events, ${answer.filtered_count} filtered, `
      + `${answer.transformation_failed_count} failed the transformation, ${answer.duplicate_count} duplicates.`,
  ];
  if (answer.filters.undecided_count) lines.push(`${answer.filters.undecided_count} requests left undecided.`);
  return lines;
}

const DAY_MS = 24 * 3600 * 1000;

function Backtest({ form, transformations }) {
  const [days, setDays] = useState('7');
  const [answer, setAnswer] = useState(null);
  const run = async () => {
    const since = new Date(Date.now() - Number(days) * DAY_MS).toISOString();
    setAnswer(await api('/connections/backtest', {
      method: 'POST',
      body: { source_id: form.sourceId, rules: backtestRules(form, transformations), since },
    }));
  };
  if (!form.sourceId) return html`<p class="hint">A new source has no requests to try the rules on yet.</p>`;
  return html`<div class="backtest">
    <label>Over the last <select name="backtest_days" value=${days} onChange=${(e) => setDays(e.target.value)}>
      <option value="1">day</option><option value="7">7 days</option><option value="30">30 days</option>
    </select></label>
    <${Action} label="Backtest these rules" run=${run} />
    ${answer && html`<div class="backtest-result">
      ${backtestSummary(answer).map((line) => html`<p>${line}</p>`)}
      ${answer.errors.map((e) => html`<p class="error inline">${e.request_id}: ${e.error}</p>`)}
      ${Object.entries(answer.samples).filter(([, ids]) => ids.length).map(([outcome, ids]) => html`
        <p class="samples">${outcome}: ${ids.map((i) => html`<code>${i}</code> `)}</p>`)}
    </div>`}
  </div>`;
}

// A backfill's progress, as a bulk retry's reads.
export const backfillStatus = (job) => bulkStatus(job, 'routed');

function Backfill({ id }) {
  const [since, setSince] = useState('');
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api('/bulk/backfill', { query: { webhook_id: id, limit: 1 } })
      .then((page) => setJob(page.models[0] || null), setError);
  }, [id]);
  useEffect(() => {
    if (!job || !job.in_progress) return undefined;
    const timer = setInterval(() => api(`/bulk/backfill/${job.id}`).then(setJob, setError), 1000);
    return () => clearInterval(timer);
  }, [job && job.id, job && job.in_progress]);
  const start = async () => setJob(await api(`/connections/${id}/backfill`, {
    method: 'POST', body: { since: new Date(since).toISOString() },
  }));
  const cancel = async () => setJob(await api(`/bulk/backfill/${job.id}/cancel`, { method: 'POST', body: {} }));
  return html`<div class="backfill">
    <label>Send the source's stored requests since
      <input name="backfill_since" type="datetime-local" value=${since} onInput=${(e) => setSince(e.target.value)} /></label>
    <${Action} label="Start backfill" run=${start} />
    ${job && html`<div class="progress-box">
      <progress max="1" value=${job.progress}></progress>
      <span class="backfill-status">${backfillStatus(job)}</span>
      ${job.in_progress && !job.cancelled_at && html`<${Action} label="Cancel backfill" run=${cancel} />`}
    </div>`}
    <${Failure} error=${error} />
  </div>`;
}

async function loadForm(id) {
  const [sources, destinations, transformations, connection] = await Promise.all([
    api('/sources', { query: { limit: 250 } }),
    api('/destinations', { query: { limit: 250 } }),
    api('/transformations', { query: { limit: 250 } }),
    id ? api(`/connections/${id}`) : null,
  ]);
  return { sources: sources.models, destinations: destinations.models, transformations: transformations.models, connection };
}

export function ConnectionForm({ id }) {
  const { loading, error, data } = useLoad(() => loadForm(id), [id]);
  if (error) return html`<${Failure} error=${error} />`;
  if (loading || !data) return html`<${Loading} />`;
  return html`<${Editor} key=${id || 'new'} id=${id} data=${data} />`;
}

function Editor({ id, data }) {
  const [form, setForm] = useState(data.connection ? fromConnection(data.connection, data.transformations) : EMPTY);
  const [error, setError] = useState(null);
  const [saving, setSaving] = useState(false);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const filterErrors = form.filter
    ? [parsedJson('The body filter', form.filterBody).error, parsedJson('The headers filter', form.filterHeaders).error].filter(Boolean)
    : [];
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    setSaving(true);
    try {
      const rules = toRules(form);
      const existing = data.transformations.find((t) => t.id === form.transform);
      if (existing && form.code !== existing.code) {
        const env = parsedJson('The environment', form.env);
        if (env.error) throw new Error(env.error);
        await api(`/transformations/${existing.id}`, { method: 'PUT', body: { code: form.code, env: env.value || {} } });
      }
      const body = { name: form.name, rules, ordering: orderingOf(form) };
      if (!id) {
        Object.assign(body, form.sourceId ? { source_id: form.sourceId } : { source: { name: form.sourceName } });
      }
      Object.assign(body, form.destinationId
        ? { destination_id: form.destinationId }
        : { destination: { name: form.destinationName, url: form.destinationUrl } });
      await api(id ? `/connections/${id}` : '/connections', { method: id ? 'PUT' : 'POST', body });
      go('/connections');
    } catch (failure) {
      setError(failure);
    } finally {
      setSaving(false);
    }
  };
  const option = (r) => html`<option value=${r.id}>${r.name}</option>`;
  return html`<section>
    <h1>${id ? `Edit ${data.connection.name}` : 'New connection'}</h1>
    <form class="editor" onSubmit=${save}>
      <label>Name <input name="name" required value=${form.name} onInput=${set('name')} /></label>
      <fieldset>
        <legend>Source</legend>
        <select name="source" disabled=${!!id} value=${form.sourceId} onChange=${set('sourceId')}>
          <option value="">New source…</option>${data.sources.map(option)}
        </select>
        ${!form.sourceId && html`<label>Source name <input name="source_name" required value=${form.sourceName} onInput=${set('sourceName')} /></label>`}
      </fieldset>
      <fieldset>
        <legend>Destination</legend>
        <select name="destination" value=${form.destinationId} onChange=${set('destinationId')}>
          <option value="">New destination…</option>${data.destinations.map(option)}
        </select>
        ${!form.destinationId && html`
          <label>Destination name <input name="destination_name" required value=${form.destinationName} onInput=${set('destinationName')} /></label>
          <label>URL <input name="destination_url" type="url" required value=${form.destinationUrl} onInput=${set('destinationUrl')} /></label>`}
      </fieldset>
      <fieldset>
        <legend><label><input type="checkbox" name="retry" checked=${form.retry} onChange=${set('retry')} /> Retry</label></legend>
        ${form.retry && html`<div class="row">
          <label>Strategy <select name="strategy" value=${form.strategy} onChange=${set('strategy')}>
            <option value="linear">linear</option><option value="exponential">exponential</option></select></label>
          <label>Interval (ms) <input name="interval" type="number" min="1" value=${form.interval} onInput=${set('interval')} /></label>
          <label>Attempts <input name="count" type="number" min="0" max="50" value=${form.count} onInput=${set('count')} /></label>
          <label>On statuses <input name="status_codes" placeholder="500-599, !401" value=${form.statusCodes} onInput=${set('statusCodes')} /></label>
        </div>`}
      </fieldset>
      <fieldset>
        <legend><label><input type="checkbox" name="filter" checked=${form.filter} onChange=${set('filter')} /> Filter</label></legend>
        ${form.filter && html`
          <label>Body (JSON) <textarea name="filter_body" rows="4" placeholder='{"type": {"$in": ["order.created"]}}' value=${form.filterBody} onInput=${set('filterBody')} /></label>
          <label>Headers (JSON) <textarea name="filter_headers" rows="3" value=${form.filterHeaders} onInput=${set('filterHeaders')} /></label>
          ${filterErrors.map((m) => html`<p class="error inline" role="alert">${m}</p>`)}`}
      </fieldset>
      <fieldset>
        <legend>Transformation</legend>
        <select name="transform" value=${form.transform} onChange=${(e) => {
          const saved = data.transformations.find((t) => t.id === e.target.value);
          setForm({ ...form, transform: e.target.value, code: saved ? saved.code : form.code, env: saved ? JSON.stringify(saved.env || {}) : form.env });
        }}>
          <option value="">None</option><option value="new">New transformation…</option>${data.transformations.map(option)}
        </select>
        ${form.transform && html`
          ${form.transform === 'new' && html`<label>Transformation name <input name="transformation_name" required value=${form.transformationName} onInput=${set('transformationName')} /></label>`}
          <label>Code <textarea name="code" class="code" rows="8" spellcheck="false" value=${form.code} onInput=${set('code')} /></label>
          <label>Environment (JSON) <input name="env" value=${form.env} onInput=${set('env')} /></label>
          <${TestRun} form=${form} />`}
      </fieldset>
      <fieldset class="row">
        <label>Delay (ms) <input name="delay" type="number" min="0" max="86400000" value=${form.delay} onInput=${set('delay')} /></label>
        <label>Deduplicate window (ms) <input name="dedup" type="number" min="1000" max="3600000" value=${form.dedup} onInput=${set('dedup')} /></label>
        <label>Deduplicate on fields <input name="dedup_fields" placeholder="body.id" value=${form.dedupFields} onInput=${set('dedupFields')} /></label>
      </fieldset>
      <fieldset>
        <label>Order by key <input name="order_by" placeholder="body.customer_id" value=${form.orderBy} onInput=${set('orderBy')} /></label>
        <p class="hint">Events with the same value here (body.…, headers.…, query.… or path) are delivered one after another, in the order they arrived; events without it, in no order. Empty: no order.</p>
      </fieldset>
      <fieldset>
        <legend>Backtest</legend>
        <${Backtest} form=${form} transformations=${data.transformations} />
      </fieldset>
      ${id && html`<fieldset>
        <legend>Backfill</legend>
        <${Backfill} id=${id} />
      </fieldset>`}
      <${Failure} error=${error} />
      <div class="buttons">
        <button type="submit" class="primary" disabled=${saving || filterErrors.length > 0}>${saving ? 'Saving…' : 'Save'}</button>
        <a class="button" href="#/connections">Cancel</a>
      </div>
    </form>
  </section>`;
}
