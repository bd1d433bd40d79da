// Shared parts of the client checks: option parsing, the case file, the check runner
// with its `ok`/`FAIL` lines, and TypeScript SDK connections over each transport.

import { openSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import Ajv2020 from "ajv/dist/2020.js";

export const SUITE_DIR = path.dirname(import.meta.dirname);

// Options naming the indicators run.sh picks from the feed data, and the
// placeholders in mcp-cases.json they fill.
export const INDICATOR_OPTIONS = {
  "malicious-ip": "malicious_ip",
  "benign-domain": "benign_domain",
  "online-url": "online_url",
  "malicious-sha256": "malicious_sha256",
  "unlisted-domain": "unlisted_domain",
};

// How long one MCP request may take before the check fails.
export const REQUEST_TIMEOUT_MS = 60_000;

/// Parses string options and exits with status 2 when a required one is missing or empty.
export function parseOptions(script, required, optional = []) {
  const names = [...required, ...optional];
  const { values } = parseArgs({
    options: Object.fromEntries(names.map((name) => [name, { type: "string" }])),
  });
  const missing = required.filter((name) => !values[name]);
  if (missing.length > 0) {
    console.error(`${script}: missing or empty options: ${missing.map((name) => `--${name}`).join(" ")}`);
    process.exit(2);
  }
  return values;
}

/// Returns the placeholder values for mcp-cases.json from the parsed options.
export function indicatorsFrom(options) {
  return Object.fromEntries(
    Object.entries(INDICATOR_OPTIONS).map(([option, placeholder]) => [placeholder, options[option]]),
  );
}

export function loadCases() {
  return JSON.parse(readFileSync(path.join(SUITE_DIR, "mcp-cases.json"), "utf8"));
}

/// Replaces `{placeholder}` in strings and expands `{"$repeat": VALUE, "times": N}`.
export function expandTemplate(value, indicators) {
  if (typeof value === "string") {
    return value.replace(/\{([a-z0-9_]+)\}/g, (whole, name) => {
      if (!(name in indicators)) {
        throw new Error(`unknown placeholder ${whole} in mcp-cases.json`);
      }
      return indicators[name];
    });
  }
  if (Array.isArray(value)) {
    return value.map((item) => expandTemplate(item, indicators));
  }
  if (value !== null && typeof value === "object") {
    if ("$repeat" in value) {
      const item = expandTemplate(value.$repeat, indicators);
      return Array.from({ length: value.times }, () => item);
    }
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, expandTemplate(item, indicators)]),
    );
  }
  return value;
}

/// Returns the value at a dot-separated path such as `results.0.id`, or undefined.
export function valueAt(object, dottedPath) {
  return dottedPath.split(".").reduce((current, key) => (current == null ? undefined : current[key]), object);
}

export class CheckError extends Error {}

export function fail(message) {
  throw new CheckError(message);
}

export function excerpt(value, limit = 600) {
  const text = (typeof value === "string" ? value : JSON.stringify(value) ?? String(value)).trim();
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/// Runs named checks one after another, prints one `ok` or `FAIL` line for each and
/// counts them. `finish` prints "N passed, N failed" and sets the exit code.
export class CheckRunner {
  passed = 0;
  failed = 0;

  async check(name, body) {
    try {
      await body();
      this.passed += 1;
      console.log(`ok    ${name}`);
      return true;
    } catch (error) {
      this.failed += 1;
      console.log(`FAIL  ${name}`);
      if (error instanceof CheckError) {
        console.log(`      ${error.message}`);
      } else {
        // Errors from the SDK or the runtime: the message is enough, the stack adds only SDK frames.
        console.log(`      ${error?.name ?? "Error"}: ${error?.message ?? error}`);
      }
      return false;
    }
  }

  finish() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exitCode = this.failed > 0 ? 1 : 0;
  }
}

/// Creates a validator for JSON Schema 2020-12, the dialect schemars writes. Formats
/// are not checked, because schemars writes some that JSON Schema does not define
/// (`double`).
export function newSchemaValidator() {
  return new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
}

/// Describes a transport target: `{kind: "streamable-http" | "sse", url}` or
/// `{kind: "stdio", command, args, env, stderrLog}`.
export function describeTarget(target) {
  if (target.kind === "stdio") {
    return `stdio ${[target.command, ...target.args].join(" ")}`;
  }
  return `${target.kind} ${target.url}`;
}

function newTransport(target) {
  switch (target.kind) {
    case "streamable-http":
      return new StreamableHTTPClientTransport(new URL(target.url));
    case "sse":
      return new SSEClientTransport(new URL(target.url));
    case "stdio":
      // The server logs to stderr. The log goes to a file, or nowhere, so that it
      // stays out of the check output.
      return new StdioClientTransport({
        command: target.command,
        args: target.args,
        stderr: target.stderrLog ? openSync(target.stderrLog, "a") : "ignore",
        env: { ...process.env, ...(target.env ?? {}) },
      });
    default:
      throw new Error(`unknown transport ${target.kind}`);
  }
}

/// Connects a TypeScript SDK client (initialize and notifications/initialized) and
/// returns it. The caller closes it.
export async function connectClient(target, clientName = "tiq-suite-ts") {
  const client = new Client({ name: clientName, version: "1.0.0" });
  await client.connect(newTransport(target), { timeout: REQUEST_TIMEOUT_MS });
  return client;
}

/// Returns the text of every text content block of a tool result, joined by newlines.
export function textOf(result) {
  return (result.content ?? [])
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}
