// Prints what the official Hookdeck SDK expects of the API, read from the SDK itself,
// as one JSON object: {"operations": [[method, path]], "enums": {name: [values]},
// "objects": {name: {"required": [keys], "enums": {key: enum name}}}}.  Path
// parameters are written "{}".  tests/unit/test_openapi_sdk.py compares it with the
// OpenAPI document.
//
//   node surface.mjs
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const root = dirname(require.resolve("@hookdeck/sdk/package.json"));
const serialization = require("@hookdeck/sdk/serialization/index.js");

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".js") ? [join(dir, entry.name)] : [],
  );
}

// Every request the clients make: a url_join of the base and a path, then its method.
const operations = [];
const call = /url_join_1\.default\)\([^\n]*?,\s*(?:"([^"]*)"|`([^`]*)`)\),\s*method:\s*"(\w+)"/g;
for (const file of files(join(root, "api", "resources")).filter((f) => f.endsWith("Client.js"))) {
  for (const [, plain, template, method] of readFileSync(file, "utf8").matchAll(call)) {
    const path = (plain ?? template).replace(/\$\{[^}]*\}/g, "{}");
    operations.push([method.toLowerCase(), `/${path}`]);
  }
}

// Enums: the values are only in the source (the schemas do not expose them).
const enums = {};
const sources = files(join(root, "serialization"));
for (const file of sources) {
  const text = readFileSync(file, "utf8");
  for (const [, name, values] of text.matchAll(/exports\.(\w+) = core\.serialization\.enum_\(\[([^\]]*)\]\)/g)) {
    enums[name] = [...values.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  }
}

// Objects: required keys by parsing {} strictly; each key's enum from the source.
const objects = {};
for (const [name, schema] of Object.entries(serialization)) {
  if (typeof schema?.getType !== "function" || schema.getType() !== "object") continue;
  const parsed = await schema.parse({}, { skipValidation: false, unrecognizedObjectKeys: "passthrough" });
  const required = (parsed.errors ?? [])
    .map((error) => /^Missing required key "(.+)"$/.exec(error.message)?.[1])
    .filter(Boolean);
  objects[name] = { required: required.sort(), enums: {} };
}
const property = /^\s+(\w+): (?:core\.serialization\.property\("(\w+)", )?(.*),$/;
for (const file of sources.filter((f) => f.includes("/types/"))) {
  const text = readFileSync(file, "utf8");
  const name = /exports\.(\w+) = core\.serialization\.object\(/.exec(text)?.[1];
  if (!name || !objects[name]) continue;
  for (const line of text.split("\n")) {
    const [, key, raw, value] = property.exec(line) ?? [];
    const used = value && [...value.matchAll(/\w+_1\.(\w+)/g)].map((m) => m[1]).find((n) => enums[n]);
    if (used) objects[name].enums[raw ?? key] = used;
  }
}

console.log(JSON.stringify({ operations, enums, objects }));
