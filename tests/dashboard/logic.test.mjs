// The dashboard's pure functions, run by Node's own test runner (no browser, no stack):
// `node --test tests/dashboard/`, as tests/unit/test_dashboard_logic.py does.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const app = '../../services/api/dashboard/web/app';
const { searchParams } = await import(`${app}/api.js`);
const { rulesSummary, parsedJson, toRules, fromConnection, orderingOf, backtestRules, backtestSummary, backfillStatus } = await import(`${app}/connections.js`);
const { apiFilters, bulkStatus } = await import(`${app}/lists.js`);
const { eventsOf } = await import(`${app}/issues.js`);
const { columns } = await import(`${app}/metrics.js`);

const RULES = [
  { type: 'retry', strategy: 'exponential', interval: 30000, count: 4, response_status_codes: ['500-599', '!501'] },
  { type: 'filter', body: { type: { $in: ['a', 'b'] } }, headers: { 'x-k': 'v' } },
  { type: 'transform', transformation_id: 'trs_1' },
  { type: 'delay', delay: 1500 },
  { type: 'deduplicate', window: 60000, include_fields: ['body.id', 'body.type'] },
];

test('query parameters leave out empty values and repeat lists', () => {
  const params = searchParams({ a: '', b: null, c: undefined, d: 0, measures: ['count', 'error_rate'] });
  assert.equal(params.toString(), 'd=0&measures=count&measures=error_rate');
});

test('rules read as a one-line summary', () => {
  assert.deepEqual(rulesSummary(RULES, { trs_1: { name: 'flag' } }), [
    'retry exponential ×4 every 30 s',
    'filter on body, headers',
    'transform: flag',
    'delay 1500 ms',
    'deduplicate 60 s',
  ]);
  assert.deepEqual(rulesSummary(undefined), []);
});

test('a connection read into the form and back gives the same rules', () => {
  const connection = { name: 'c', source: { id: 'src_1' }, destination: { id: 'des_1' }, rules: RULES };
  const form = fromConnection(connection, [{ id: 'trs_1', code: 'x', env: {} }]);
  assert.equal(form.sourceId, 'src_1');
  assert.deepEqual(toRules(form), RULES);
  assert.deepEqual(toRules(fromConnection({ ...connection, rules: [] }, [])), []);
});

test('a new transformation goes inline, and bad JSON is refused with its field named', () => {
  const form = fromConnection({ name: 'c', rules: [] }, []);
  const rules = toRules({ ...form, transform: 'new', transformationName: 't', code: 'c', env: '{"A": "1"}' });
  assert.deepEqual(rules, [{ type: 'transform', transformation: { name: 't', code: 'c', env: { A: '1' } } }]);
  assert.throws(() => toRules({ ...form, filter: true, filterBody: '{"a":' }), /The body filter is not valid JSON/);
  assert.deepEqual(parsedJson('X', '  '), { value: undefined });
  assert.match(parsedJson('X', '[1,').error, /^X is not valid JSON/);
});

test('a list\'s time range becomes created_at bounds', () => {
  const before = Date.now();
  const last = apiFilters({ status: 'FAILED', range: '1h' });
  assert.equal(last.status, 'FAILED');
  const since = Date.parse(last['created_at[gte]']);
  assert.ok(since >= before - 3600_000 - 5 && since <= Date.now() - 3600_000 + 5);
  const between = apiFilters({ range: 'custom', from: '2026-01-02T03:04', to: '' });
  assert.equal(between['created_at[gte]'], new Date('2026-01-02T03:04').toISOString());
  assert.equal(between['created_at[lte]'], '');
  assert.deepEqual(apiFilters({ range: 'all' }), {});
});

test('a bulk retry says how far it got', () => {
  const job = { completed_count: 2, failed_count: 0, estimated_count: 5, in_progress: true, cancelled_at: null };
  assert.equal(bulkStatus(job), '2 of 5 retried — in progress');
  assert.equal(bulkStatus({ ...job, failed_count: 1, in_progress: false }), '2 of 5 retried, 1 failed — done');
  assert.equal(bulkStatus({ ...job, cancelled_at: '2026-01-01' }), '2 of 5 retried — cancelled');
});

test('an issue links to the events it is about', () => {
  const delivery = { type: 'delivery', aggregation_keys: { webhook_id: ['web_1'], error_code: ['TIMEOUT'], error_detail: ['TIMEOUT'], response_status: [] } };
  assert.equal(eventsOf(delivery), '#/events?status=FAILED&webhook_id=web_1&error_code=TIMEOUT');
  // Hookdeck's code is a wider class; the link filters on the precise one.
  const blocked = { type: 'delivery', aggregation_keys: { webhook_id: ['web_1'], error_code: ['HOST_UNREACHABLE'], error_detail: ['SSRF_BLOCKED'], response_status: [] } };
  assert.equal(eventsOf(blocked), '#/events?status=FAILED&webhook_id=web_1&error_code=SSRF_BLOCKED');
  const backlog = { type: 'backpressure', aggregation_keys: { destination_id: ['des_1'] } };
  assert.equal(eventsOf(backlog), '#/events?destination_id=des_1&status=QUEUED');
});

test('metrics rows become one series per dimension value, gaps left empty', () => {
  const rows = [
    { time_bucket: '2026-01-01T01:00:00.000Z', dimensions: { webhook_id: 'a' }, metrics: { count: 2 } },
    { time_bucket: '2026-01-01T00:00:00.000Z', dimensions: { webhook_id: 'b' }, metrics: { count: 5 } },
    { time_bucket: '2026-01-01T01:00:00.000Z', dimensions: { webhook_id: 'b' }, metrics: { count: 1 } },
  ];
  const { times, series } = columns(rows, ['count'], 'webhook_id', (id) => `name-${id}`);
  assert.deepEqual(times, [Date.parse('2026-01-01T00:00:00Z') / 1000, Date.parse('2026-01-01T01:00:00Z') / 1000]);
  assert.deepEqual(Object.fromEntries(series), { 'name-a': [null, 2], 'name-b': [5, 1] });
  const flat = columns(rows.slice(0, 1), ['count'], '', null);
  assert.deepEqual(Object.fromEntries(flat.series), { count: [2] });
});

test('a backtest tries the form\'s rules, a saved transformation\'s code as edited', () => {
  const saved = [{ id: 'trs_1', name: 'flag', code: 'old', env: {} }];
  const form = { ...fromConnection({ rules: [{ type: 'transform', transformation_id: 'trs_1' }] }, saved), code: 'old' };
  assert.deepEqual(backtestRules(form, saved), [{ type: 'transform', transformation_id: 'trs_1' }]);
  assert.deepEqual(backtestRules({ ...form, code: 'new', env: '{"A": "1"}' }, saved), [
    { type: 'transform', transformation: { name: 'flag', code: 'new', env: { A: '1' } } },
  ]);
});

test('a backtest\'s answer reads as what the requests became', () => {
  const answer = {
    complete: true, requests_count: 10, evaluated_count: 10, events_count: 6, filtered_count: 3,
    transformation_failed_count: 1, duplicate_count: 0, filters: { undecided_count: 0 },
  };
  assert.deepEqual(backtestSummary(answer), ['Of all 10 requests: 6 events, 3 filtered, 1 failed the transformation, 0 duplicates.']);
  const sampled = backtestSummary({ ...answer, complete: false, evaluated_count: 4, filters: { undecided_count: 2 } });
  assert.match(sampled[0], /^Of 4 of 10 requests \(a sample past the filters\)/);
  assert.equal(sampled[1], '2 requests left undecided.');
});

test('a backfill says how far it got', () => {
  const job = { completed_count: 2, skipped_count: 1, failed_count: 0, estimated_count: 5, in_progress: true, cancelled_at: null };
  assert.equal(backfillStatus(job), '2 of 5 routed, 1 already there — in progress');
  assert.equal(backfillStatus({ ...job, skipped_count: 0, in_progress: false }), '2 of 5 routed — done');
});

test('the order-by field is the ordering setting, and empty is none', () => {
  const form = fromConnection({ name: 'c', rules: [], ordering: { key: 'body.customer_id' } }, []);
  assert.equal(form.orderBy, 'body.customer_id');
  assert.deepEqual(orderingOf({ ...form, orderBy: ' headers.x-account ' }), { key: 'headers.x-account' });
  assert.equal(orderingOf(fromConnection({ name: 'c', rules: [] }, [])), null);
});
