// Drives every method of the official Hookdeck SDK against a running hookhouse API and
// prints one JSON line per method: {"method", "ok", "error"}.  Every response is parsed
// by the SDK's own serializers in strict mode (unknown enum values and union members,
// missing required keys and wrong types are errors; extra keys are allowed: hookhouse
// may add detail the SDK ignores).  The methods are listed from the SDK itself, so one
// the sequence below does not call is reported as "not called", never skipped silently.
//
//   node sdk.mjs <api base URL> <api key>
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { HookdeckClient } = require("@hookdeck/sdk");
const serialization = require("@hookdeck/sdk/serialization/index.js");

const [api, key] = process.argv.slice(2);
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
    schema.parseOrThrow = (raw, opts) => parse(raw, { ...opts, ...STRICT });
  }
}

const client = new HookdeckClient({ environment: `${api}/2024-03-01`, token: key });
const results = new Map();
const ctx = {};

async function call(method, run) {
  try {
    const value = await run();
    results.set(method, { method, ok: true });
    return value;
  } catch (error) {
    const detail = error?.errors ? JSON.stringify(error.errors).slice(0, 600) : String(error);
    results.set(method, { method, ok: false, error: `${error?.constructor?.name}: ${detail}` });
    return undefined;
  }
}

async function waitFor(what, find, seconds = 30) {
  const until = Date.now() + seconds * 1000;
  let failed;
  while (Date.now() < until) {
    const found = await find().catch((error) => {
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

// Configuration resources.
ctx.source = await call("source.create", () => client.source.create({ name: `src-${unique}` }));
await call("source.list", () => client.source.list({ limit: 5 }));
await call("source.upsert", () => client.source.upsert({ name: `src-${unique}`, description: "d" }));
await call("source.retrieve", () => client.source.retrieve(ctx.source.id));
await call("source.update", () => client.source.update(ctx.source.id, { description: "e" }));
await call("source.disable", () => client.source.disable(ctx.source.id));
await call("source.enable", () => client.source.enable(ctx.source.id));

ctx.destination = await call("destination.create", () =>
  client.destination.create({ name: `des-${unique}`, url: mock }),
);
await call("destination.list", () => client.destination.list({ limit: 5 }));
await call("destination.upsert", () =>
  client.destination.upsert({ name: `des-${unique}`, url: mock, description: "d" }),
);
await call("destination.retrieve", () => client.destination.retrieve(ctx.destination.id));
await call("destination.update", () =>
  client.destination.update(ctx.destination.id, { description: "e" }),
);
await call("destination.disable", () => client.destination.disable(ctx.destination.id));
await call("destination.enable", () => client.destination.enable(ctx.destination.id));

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
await call("transformation.retrieve", () => client.transformation.retrieve(ctx.transformation.id));
await call("transformation.update", () =>
  client.transformation.update(ctx.transformation.id, { env: { A: "1" } }),
);
await call("transformation.run", () =>
  client.transformation.run({
    code: ctx.transformation.code,
    request: { headers: { "content-type": "application/json" }, body: { a: 1 } },
  }),
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
await call("connection.count", () => client.connection.count());
await call("connection.retrieve", () => client.connection.retrieve(ctx.connection.id));
await call("connection.update", () =>
  client.connection.update(ctx.connection.id, {
    rules: [{ type: "transform", transformationId: ctx.transformation.id }],
  }),
);
await call("connection.pause", () => client.connection.pause(ctx.connection.id));
await call("connection.unpause", () => client.connection.unpause(ctx.connection.id));
await call("connection.disable", () => client.connection.disable(ctx.connection.id));
await call("connection.enable", () => client.connection.enable(ctx.connection.id));

ctx.trigger = await call("issueTrigger.create", () =>
  client.issueTrigger.create({
    name: `trg-${unique}`,
    type: "delivery",
    configs: { strategy: "first_attempt", connections: "*" },
    channels: { email: {} },
  }),
);
await call("issueTrigger.list", () => client.issueTrigger.list({ limit: 5 }));
await call("issueTrigger.upsert", () =>
  client.issueTrigger.upsert({
    name: `trg-${unique}`,
    type: "delivery",
    configs: { strategy: "first_attempt", connections: "*" },
    channels: { email: {} },
  }),
);
await call("issueTrigger.retrieve", () => client.issueTrigger.retrieve(ctx.trigger.id));
await call("issueTrigger.update", () =>
  client.issueTrigger.update(ctx.trigger.id, {
    configs: { strategy: "final_attempt", connections: "*" },
    channels: { email: {} },
  }),
);
await call("issueTrigger.disable", () => client.issueTrigger.disable(ctx.trigger.id));
await call("issueTrigger.enable", () => client.issueTrigger.enable(ctx.trigger.id));

await call("notification.update", () =>
  client.notification.update({ enabled: false, topics: ["issue.opened"], sourceId: ctx.source.id }),
);

// A second connection, to a destination that refuses connections: its failed attempt
// opens a delivery issue.
const refusing = await client.destination
  .create({ name: `des-refusing-${unique}`, url: "http://127.0.0.1:9/" })
  .catch(() => undefined);
const failing = refusing
  ? await client.connection
      .create({ name: `fail-${unique}`, sourceId: ctx.source.id, destinationId: refusing.id })
      .catch(() => undefined)
  : undefined;

// Traffic: one request through the connections, delivered to the mock destination.
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
  waitFor("the event", async () => {
    const page = await client.event.list({ requestId });
    return page.models?.length ? page : undefined;
  }),
);
const eventId =
  events?.models?.[0]?.id ?? (await firstId(`events?request_id=${requestId}&webhook_id=${ctx.connection.id}`));
await call("event.retrieve", () => client.event.retrieve(eventId));
await call("event.retrieveBody", () => client.event.retrieveBody(eventId));
await call("attempt.list", () =>
  waitFor("the attempt", async () => {
    const page = await client.attempt.list({ eventId });
    return page.models?.length ? page : undefined;
  }),
);
const attemptId = await firstId(`attempts?event_id=${eventId}`);
await call("attempt.retrieve", () => client.attempt.retrieve(attemptId));
await call("event.retry", () => client.event.retry(eventId));
await call("event.mute", () => client.event.mute(eventId));
await call("request.retry", () => client.request.retry(requestId, { webhookIds: [ctx.connection.id] }));

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
await call("bookmark.retrieveBody", () => client.bookmark.retrieveBody(bookmarkId));
await call("bookmark.trigger", () => client.bookmark.trigger(bookmarkId));

// Bulk retries, of each kind.
for (const [kind, query] of [
  ["eventBulkRetry", { query: { webhookId: [ctx.connection.id] } }],
  ["ignoredEventBulkRetry", { query: { webhookId: ctx.connection.id } }],
  ["requestBulkRetry", { query: { sourceId: [ctx.source.id] } }],
]) {
  await call(`${kind}.plan`, () => client[kind].plan());
  const made = await call(`${kind}.create`, () => client[kind].create(query));
  await call(`${kind}.list`, () => client[kind].list({ limit: 5 }));
  await call(`${kind}.retrieve`, () => client[kind].retrieve(made?.id ?? "bch_missing"));
  await call(`${kind}.cancel`, () => client[kind].cancel(made?.id ?? "bch_missing"));
}

// Issues: whatever the stack holds (a delivery issue needs a failing destination).
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
await call("issue.dismiss", () => client.issue.dismiss(issueId));

await call("customDomain.list", () => client.customDomain.list());
const domain = await call("customDomain.create", () =>
  client.customDomain.create({ hostname: `hooks-${unique}.example.com` }),
);
await call("customDomain.delete", () => client.customDomain.delete(domain?.id ?? "dom_missing"));

// Deletes last, each checked by a retrieve that must fail afterwards.
await call("bookmark.delete", () => client.bookmark.delete(bookmarkId));
await call("issueTrigger.delete", () => client.issueTrigger.delete(ctx.trigger.id));
await call("connection.delete", () => client.connection.delete(ctx.connection.id));
if (failing) await client.connection.delete(failing.id).catch(() => undefined);
if (refusing) await client.destination.delete(refusing.id).catch(() => undefined);
await call("destination.delete", () => client.destination.delete(ctx.destination.id));
await call("source.delete", () => client.source.delete(ctx.source.id));

// Every method the SDK has, from the SDK: one not called above is a failure too.
for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(client))) {
  const resource = name === "constructor" ? undefined : client[name];
  if (!resource || typeof resource !== "object") continue;
  for (const method of Object.getOwnPropertyNames(Object.getPrototypeOf(resource))) {
    if (method === "constructor" || method.startsWith("_")) continue;
    const full = `${name}.${method}`;
    if (!results.has(full)) results.set(full, { method: full, ok: false, error: "not called" });
  }
}
for (const result of results.values()) console.log(JSON.stringify(result));
