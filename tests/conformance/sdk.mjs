// Drives every method of the official Hookdeck SDK against a running hookhouse API and
// prints one JSON line per method: {"method", "ok", "error"}.  Every response is parsed
// by the SDK's own serializers in strict mode (unknown enum values and union members,
// missing required keys and wrong types are errors; extra keys are allowed: hookhouse
// may add detail the SDK ignores).  The methods are listed from the SDK itself, so one
// the sequence below does not call is reported as "not called", never skipped silently.
//
// Each call's effect is checked through the API as well (an update changes what a
// retrieve shows, a retry makes a new attempt, a delete answers 404 afterwards): a
// method whose answer parses but whose effect is not seen fails.
//
//   node sdk.mjs <api base URL> <api key>     run every method, one JSON line each
//   node sdk.mjs --list                       only list the SDK's methods
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { HookdeckClient } = require("@hookdeck/sdk");
const serialization = require("@hookdeck/sdk/serialization/index.js");

// Every method the SDK exposes, read from the client itself so that a new one cannot be
// skipped silently.
function sdkMethods(client) {
  const names = [];
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(client))) {
    const resource = name === "constructor" ? undefined : client[name];
    if (!resource || typeof resource !== "object") continue;
    for (const method of Object.getOwnPropertyNames(Object.getPrototypeOf(resource))) {
      if (method !== "constructor" && !method.startsWith("_")) names.push(`${name}.${method}`);
    }
  }
  return names.sort();
}

if (process.argv[2] === "--list") {
  for (const name of sdkMethods(new HookdeckClient({ token: "-" }))) console.log(name);
  process.exit(0);
}

const [api, key] = process.argv.slice(2);

// Where hookhouse answers what Hookdeck itself answers but the SDK's generated types do
// not allow it, the strict parse's error is reported as a deviation with its reason
// instead of a failure.  Each is listed in docs/api.md; the test suite checks that no
// other appears.
const DEVIATIONS = [
  {
    field: "rejection_cause",
    message: "Expected string. Received null.",
    reason:
      "an accepted request has no rejection cause: Hookdeck answers null, the SDK's type " +
      "has no value for 'not rejected'",
  },
];
const STRICT = {
  unrecognizedObjectKeys: "passthrough",
  allowUnrecognizedUnionMembers: false,
  allowUnrecognizedEnumValues: false,
  skipValidation: false,
};

// The client parses with validation off; every schema's parse is made strict here.
for (const schema of Object.values(serialization)) {
  if (schema && typeof schema.parseOrThrow === "function") {
    const parse = schema.parseOrThrow;
    schema.parseOrThrow = async (raw, opts) => {
      try {
        return await parse(raw, { ...opts, ...STRICT });
      } catch (error) {
        error.raw = raw; // what was answered, for a documented deviation
        throw error;
      }
    };
  }
}

const client = new HookdeckClient({ environment: `${api}/2024-03-01`, token: key });
const results = new Map();
const ctx = {};

// A method's result; once failed it stays failed, whatever a later call of it does.
function record(method, ok, detail = {}) {
  const earlier = results.get(method);
  if (earlier && !earlier.ok) return;
  const deviations = [...(earlier?.deviations ?? []), ...(detail.deviations ?? [])];
  results.set(method, { method, ok, ...detail, deviations: [...new Set(deviations)] });
}

function deviationsOf(error) {
  if (!Array.isArray(error?.errors) || error.errors.length === 0) return undefined;
  const found = error.errors.map((e) =>
    DEVIATIONS.find((d) => e.path?.at(-1) === d.field && e.message === d.message),
  );
  return found.every(Boolean) ? found.map((d) => d.field) : undefined;
}

async function call(method, run) {
  const started = Date.now();
  const took = () => ({ ms: Date.now() - started });
  try {
    const value = await run();
    record(method, true, took());
    return value;
  } catch (error) {
    const deviations = deviationsOf(error);
    if (deviations) {
      record(method, true, { deviations, ...took() });
      return error.raw;
    }
    const detail = error?.errors ? JSON.stringify(error.errors).slice(0, 600) : String(error);
    record(method, false, { error: `${error?.constructor?.name}: ${detail}`, ...took() });
    return undefined;
  }
}

// The API's own answer to a GET, without the SDK: {status, body}.
async function raw(path) {
  const answer = await fetch(`${api}/2024-03-01/${path}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: answer.status, body: await answer.json().catch(() => undefined) };
}

// Checks a method's effect through the API; unseen within the wait, the method fails.
async function effect(method, what, seen, seconds = 15) {
  if (!results.get(method)?.ok) return;
  try {
    await waitFor(what, async () => ((await seen()) ? true : undefined), seconds);
  } catch (error) {
    record(method, false, { error: `effect not seen: ${what} (${error})` });
  }
}

const gone = (path) => async () => (await raw(path)).status === 404;

async function waitFor(what, find, seconds = 30) {
  const until = Date.now() + seconds * 1000;
  let failed;
  while (Date.now() < until) {
    const found = await find().catch((error) => {
      if (Array.isArray(error?.errors)) throw error; // a strict parse failed: no use waiting
      failed = error;
    });
    if (found) return found;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw failed ?? new Error(`${what} did not appear in ${seconds} s`);
}

// An id found without the SDK's parsing, so that a method whose answer fails strict
// parsing does not hide the methods that need what it lists.
async function firstId(path) {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const answer = await fetch(`${api}/2024-03-01/${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const models = answer.ok ? (await answer.json()).models : undefined;
    if (models?.length) return models[0].id;
    await new Promise((done) => setTimeout(done, 250));
  }
  return "missing";
}

const unique = Date.now().toString(36);
const mock = `${api}/mock`;
const shows = (path, test) => async () => {
  const { status, body } = await raw(path);
  return status === 200 && test(body);
};

// A configuration resource's verbs: upsert, update, disable and enable each seen in a
// retrieve afterwards.
async function lifecycle(kind, path, id, fields) {
  await call(`${kind}.retrieve`, () => client[kind].retrieve(id));
  await call(`${kind}.update`, () => client[kind].update(id, fields.update));
  await effect(`${kind}.update`, "the update", shows(`${path}/${id}`, fields.updated));
  if (!client[kind].disable) return;
  await call(`${kind}.disable`, () => client[kind].disable(id));
  await effect(`${kind}.disable`, "disabled_at", shows(`${path}/${id}`, (r) => r.disabled_at));
  await call(`${kind}.enable`, () => client[kind].enable(id));
  await effect(`${kind}.enable`, "no disabled_at", shows(`${path}/${id}`, (r) => !r.disabled_at));
}

// Configuration resources.
ctx.source = await call("source.create", () => client.source.create({ name: `src-${unique}` }));
await effect("source.create", "the source", shows(`sources/${ctx.source?.id}`, (r) => r.url));
await call("source.list", () => client.source.list({ limit: 5 }));
await call("source.upsert", () => client.source.upsert({ name: `src-${unique}`, description: "d" }));
await effect("source.upsert", "the same source, updated", async () => {
  const { body } = await raw(`sources?name=src-${unique}`);
  return body?.models?.length === 1 && body.models[0].description === "d";
});
await lifecycle("source", "sources", ctx.source.id, {
  update: { description: "e" },
  updated: (r) => r.description === "e",
});

ctx.destination = await call("destination.create", () =>
  client.destination.create({ name: `des-${unique}`, url: mock }),
);
await call("destination.list", () => client.destination.list({ limit: 5 }));
await call("destination.upsert", () =>
  client.destination.upsert({ name: `des-${unique}`, url: mock, description: "d" }),
);
await effect(
  "destination.upsert",
  "the description",
  shows(`destinations/${ctx.destination.id}`, (r) => r.description === "d"),
);
await lifecycle("destination", "destinations", ctx.destination.id, {
  update: { description: "e" },
  updated: (r) => r.description === "e",
});

ctx.transformation = await call("transformation.create", () =>
  client.transformation.create({
    name: `trs-${unique}`,
    code: "addHandler('transform', (request, context) => { console.log('seen'); return request; });",
  }),
);
await call("transformation.list", () => client.transformation.list({ limit: 5 }));
await call("transformation.upsert", () =>
  client.transformation.upsert({ name: `trs-${unique}`, code: ctx.transformation.code }),
);
await lifecycle("transformation", "transformations", ctx.transformation.id, {
  update: { env: { A: "1" } },
  updated: (r) => r.env?.A !== undefined,
});
const ran = await call("transformation.run", () =>
  client.transformation.run({
    code: ctx.transformation.code,
    request: { headers: { "content-type": "application/json" }, body: { a: 1 } },
  }),
);
await effect("transformation.run", "its console line", async () =>
  ran?.console?.some((line) => line.message === "seen"),
);

ctx.connection = await call("connection.create", () =>
  client.connection.create({
    name: `web-${unique}`,
    sourceId: ctx.source.id,
    destinationId: ctx.destination.id,
    rules: [{ type: "transform", transformationId: ctx.transformation.id }],
  }),
);
await call("connection.list", () => client.connection.list({ limit: 5 }));
await call("connection.upsert", () =>
  client.connection.upsert({
    name: `web-${unique}`,
    sourceId: ctx.source.id,
    destinationId: ctx.destination.id,
    description: "d",
  }),
);
await effect(
  "connection.upsert",
  "the description",
  shows(`connections/${ctx.connection.id}`, (r) => r.description === "d"),
);
await call("connection.count", () => client.connection.count());
await effect("connection.count", "a count of at least one", shows("connections/count", (r) => r.count >= 1));
await lifecycle("connection", "connections", ctx.connection.id, {
  update: { rules: [{ type: "transform", transformationId: ctx.transformation.id }] },
  updated: (r) => r.rules?.some((rule) => rule.transformation_id === ctx.transformation.id),
});
await call("connection.pause", () => client.connection.pause(ctx.connection.id));
await effect("connection.pause", "paused_at", shows(`connections/${ctx.connection.id}`, (r) => r.paused_at));
await call("connection.unpause", () => client.connection.unpause(ctx.connection.id));
await effect(
  "connection.unpause",
  "no paused_at",
  shows(`connections/${ctx.connection.id}`, (r) => !r.paused_at),
);

const trigger = {
  name: `trg-${unique}`,
  type: "delivery",
  configs: { strategy: "first_attempt", connections: "*" },
  channels: { email: {} },
};
ctx.trigger = await call("issueTrigger.create", () => client.issueTrigger.create(trigger));
await call("issueTrigger.list", () => client.issueTrigger.list({ limit: 5 }));
await call("issueTrigger.upsert", () => client.issueTrigger.upsert(trigger));
await lifecycle("issueTrigger", "issue-triggers", ctx.trigger.id, {
  update: { configs: { strategy: "final_attempt", connections: "*" }, channels: { email: {} } },
  updated: (r) => r.configs?.strategy === "final_attempt",
});

const notified = await call("notification.update", () =>
  client.notification.update({ enabled: false, topics: ["issue.opened"], sourceId: ctx.source.id }),
);
await effect("notification.update", "enabled false", async () => notified?.enabled === false);

// Two more connections: to a destination that refuses connections and to one that
// answers 404.  Their failed attempts open delivery issues and carry error codes, which
// must be Hookdeck's.
const failing = [];
for (const [name, url] of [
  ["refusing", "http://127.0.0.1:9/"],
  ["missing", `${api}/nothing-is-here`],
]) {
  const destination = await client.destination
    .create({ name: `des-${name}-${unique}`, url })
    .catch(() => undefined);
  const connection = destination
    ? await client.connection
        .create({ name: `${name}-${unique}`, sourceId: ctx.source.id, destinationId: destination.id })
        .catch(() => undefined)
    : undefined;
  failing.push({ destination, connection });
}

// Traffic: one request through the connections.
const posted = await fetch(ctx.source.url, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ hello: "world" }),
});
const requestId = (await posted.json()).request_id;
await call("request.list", () =>
  waitFor("the request", async () => {
    const page = await client.request.list({ id: requestId });
    return page.models?.length ? page : undefined;
  }),
);
await call("request.retrieve", () => client.request.retrieve(requestId));
await call("request.retrieveBody", () => client.request.retrieveBody(requestId));
await call("request.listEvent", () => client.request.listEvent(requestId));
await call("request.listIgnoredEvent", () => client.request.listIgnoredEvent(requestId));

const events = await call("event.list", () =>
  waitFor("the events", async () => {
    const page = await client.event.list({ requestId });
    return page.models?.length === 3 ? page : undefined;
  }),
);
const eventId =
  events?.models?.find((e) => e.webhookId === ctx.connection.id)?.id ??
  (await firstId(`events?request_id=${requestId}&webhook_id=${ctx.connection.id}`));
await call("event.retrieve", () => client.event.retrieve(eventId));
await call("event.retrieveBody", () => client.event.retrieveBody(eventId));
await call("attempt.list", () =>
  waitFor("the attempt", async () => {
    const page = await client.attempt.list({ eventId });
    return page.models?.length ? page : undefined;
  }),
);
// The failed deliveries' events and attempts, parsed strictly: their error codes.
for (const { connection } of failing) {
  if (!connection) continue;
  await call("event.list", () =>
    waitFor("a failed event", async () => {
      const page = await client.event.list({ webhookId: connection.id });
      return page.models?.some((e) => e.attempts > 0) ? page : undefined;
    }),
  );
  const failedId = await firstId(`events?webhook_id=${connection.id}`);
  await call("event.retrieve", () => client.event.retrieve(failedId));
  await call("attempt.list", () =>
    waitFor("a failed attempt", async () => {
      const page = await client.attempt.list({ eventId: failedId });
      return page.models?.length ? page : undefined;
    }),
  );
}
const attemptId = await firstId(`attempts?event_id=${eventId}`);
await call("attempt.retrieve", () => client.attempt.retrieve(attemptId));
await call("event.retry", () => client.event.retry(eventId));
await effect(
  "event.retry",
  "a second attempt",
  shows(`attempts?event_id=${eventId}`, (r) => r.models?.length >= 2),
  30,
);
await call("event.mute", () => client.event.mute(eventId));
const retried = await call("request.retry", () =>
  client.request.retry(requestId, { webhookIds: [ctx.connection.id] }),
);
await effect("request.retry", "a new event of the request", async () => {
  const made = retried?.events?.[0]?.id;
  return made && made !== eventId && (await raw(`events/${made}`)).status === 200;
}, 30);

await call("transformation.listExecution", () =>
  waitFor("an execution", async () => {
    const page = await client.transformation.listExecution(ctx.transformation.id);
    return page.models?.length ? page : undefined;
  }),
);
const executionId = await firstId(`transformations/${ctx.transformation.id}/executions`);
await call("transformation.retrieveExecution", () =>
  client.transformation.retrieveExecution(ctx.transformation.id, executionId),
);

ctx.bookmark = await call("bookmark.create", () =>
  client.bookmark.create({ eventDataId: requestId, webhookId: ctx.connection.id, label: "l" }),
);
const bookmarkId = ctx.bookmark?.id ?? "bmk_missing";
await call("bookmark.list", () => client.bookmark.list({ limit: 5 }));
await call("bookmark.retrieve", () => client.bookmark.retrieve(bookmarkId));
await call("bookmark.update", () => client.bookmark.update(bookmarkId, { label: "m" }));
await effect("bookmark.update", "the label", shows(`bookmarks/${bookmarkId}`, (r) => r.label === "m"));
await call("bookmark.retrieveBody", () => client.bookmark.retrieveBody(bookmarkId));
const triggered = await call("bookmark.trigger", () => client.bookmark.trigger(bookmarkId));
await effect("bookmark.trigger", "a new event", async () => {
  const made = triggered?.[0]?.id ?? triggered?.events?.[0]?.id;
  return made && (await raw(`events/${made}`)).status === 200;
}, 30);
await effect("bookmark.trigger", "last_used_at", shows(`bookmarks/${bookmarkId}`, (r) => r.last_used_at));

// Bulk retries, of each kind.
for (const [kind, query, path] of [
  ["eventBulkRetry", { query: { webhookId: [ctx.connection.id] } }, "bulk/events/retry"],
  ["ignoredEventBulkRetry", { query: { webhookId: ctx.connection.id } }, "bulk/ignored-events/retry"],
  ["requestBulkRetry", { query: { sourceId: [ctx.source.id] } }, "bulk/requests/retry"],
]) {
  await call(`${kind}.plan`, () => client[kind].plan());
  const made = await call(`${kind}.create`, () => client[kind].create(query));
  await effect(`${kind}.create`, "the batch", shows(`${path}/${made?.id}`, (r) => r.id === made.id));
  await call(`${kind}.list`, () => client[kind].list({ limit: 5 }));
  await call(`${kind}.retrieve`, () => client[kind].retrieve(made?.id ?? "bch_missing"));
  await call(`${kind}.cancel`, () => client[kind].cancel(made?.id ?? "bch_missing"));
  await effect(
    `${kind}.cancel`,
    "cancelled_at or completed_at",
    shows(`${path}/${made?.id}`, (r) => r.cancelled_at || r.completed_at),
  );
}

// Issues: the failing connections opened delivery issues.
await call("issue.list", () =>
  waitFor("an issue", async () => {
    const page = await client.issue.list({ limit: 5 });
    return page.models?.length ? page : undefined;
  }),
);
await call("issue.count", () => client.issue.count());
const issueId = await firstId("issues");
await call("issue.retrieve", () => client.issue.retrieve(issueId));
await call("issue.update", () => client.issue.update(issueId, { status: "ACKNOWLEDGED" }));
await effect("issue.update", "ACKNOWLEDGED", shows(`issues/${issueId}`, (r) => r.status === "ACKNOWLEDGED"));
// A dismissed issue is hidden until its connection fails again (these keep failing).
const dismissed = await call("issue.dismiss", () => client.issue.dismiss(issueId));
await effect("issue.dismiss", "hidden, or failed again since", async () => {
  const { status, body } = await raw(`issues/${issueId}`);
  const since = dismissed?.dismissedAt?.toISOString?.() ?? dismissed?.dismissedAt;
  return since && (status === 404 || body.last_seen_at > since);
});

const hostname = `hooks-${unique}.example.com`;
const domain = await call("customDomain.create", () => client.customDomain.create({ hostname }));
const domainId = async () =>
  (await raw("teams/current/custom_domains")).body?.find?.((d) => d.hostname === hostname)?.id;
await effect("customDomain.create", "the domain in the list", domainId);
await call("customDomain.list", () => client.customDomain.list());
const madeDomain = (await domainId()) ?? domain?.id ?? "dom_missing";
await call("customDomain.delete", () => client.customDomain.delete(madeDomain));
await effect("customDomain.delete", "the domain gone from the list", async () => !(await domainId()));

// Deletes last, each checked by a retrieve that answers 404 afterwards.
await call("bookmark.delete", () => client.bookmark.delete(bookmarkId));
await effect("bookmark.delete", "404", gone(`bookmarks/${bookmarkId}`));
await call("issueTrigger.delete", () => client.issueTrigger.delete(ctx.trigger.id));
await effect("issueTrigger.delete", "404", gone(`issue-triggers/${ctx.trigger.id}`));
await call("connection.delete", () => client.connection.delete(ctx.connection.id));
await effect("connection.delete", "404", gone(`connections/${ctx.connection.id}`));
for (const { connection, destination } of failing) {
  if (connection) await client.connection.delete(connection.id).catch(() => undefined);
  if (destination) await client.destination.delete(destination.id).catch(() => undefined);
}
await call("destination.delete", () => client.destination.delete(ctx.destination.id));
await effect("destination.delete", "404", gone(`destinations/${ctx.destination.id}`));
await fetch(`${api}/2024-03-01/transformations/${ctx.transformation.id}`, {
  method: "DELETE",
  headers: { authorization: `Bearer ${key}` },
}); // the SDK has no method for it
await call("source.delete", () => client.source.delete(ctx.source.id));
await effect("source.delete", "404", gone(`sources/${ctx.source.id}`));

// A method of the SDK not called above is a failure too.
for (const method of sdkMethods(client)) {
  if (!results.has(method)) results.set(method, { method, ok: false, error: "not called" });
}
for (const result of results.values()) console.log(JSON.stringify(result));
