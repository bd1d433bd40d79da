// Checks the client configurations documented in docs/clients/*.json against a
// running tiq server, so the documented snippets stay correct.
//
// Each file is parsed and every server entry in it is connected with the TypeScript
// MCP SDK client. A `command` entry is started over stdio, with the suite's tiq binary
// and data directory in place of `tiq` and the `--data-dir` value. A URL entry is
// connected over the transport it names, with the suite's server in place of the
// documented scheme, host and port (path and query stay as documented). Each
// connection lists the tools and calls analyze_ip with the malicious IP. The
// Inspector's own configuration file, with the same replacements, is also read by
// the Inspector CLI (`--config FILE --server NAME`). One `ok`/`FAIL` line per check;
// the last line is "N passed, N failed".

import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import {
  CheckRunner,
  connectClient,
  describeTarget,
  excerpt,
  fail,
  parseOptions,
  REQUEST_TIMEOUT_MS,
  SUITE_DIR,
} from "./lib/suite.mjs";

const options = parseOptions("doc-configs.mjs", ["base-url", "tiq-bin", "data-dir", "malicious-ip"], ["stdio-log"]);
const REPO_ROOT = path.resolve(SUITE_DIR, "../..");
const SNIPPET_DIR = path.join(REPO_ROOT, "docs", "clients");
const GUIDES = ["docs/clients.md", "docs/clients.zh-CN.md"];
// The snippet the Inspector CLI reads with --config.
const INSPECTOR_SNIPPET = "inspector.json";
const runExecutable = promisify(execFile);

// Transport names the documented clients use, mapped to the SDK transport.
const TRANSPORT_NAMES = {
  stdio: "stdio",
  sse: "sse",
  http: "streamable-http",
  "streamable-http": "streamable-http",
  streamable_http: "streamable-http",
  streamableHttp: "streamable-http",
};

/// Returns the server entries of a client configuration: the `mcpServers` or `servers`
/// object, or the top-level object itself when its values are server entries (Dify's
/// MCP plugin).
function serverEntries(config) {
  const servers = config.mcpServers ?? config.servers ?? config;
  const entries = Object.entries(servers).filter(
    ([, entry]) => entry !== null && typeof entry === "object" && !Array.isArray(entry),
  );
  if (entries.length === 0) {
    fail("no server entries: expected an mcpServers or servers object");
  }
  return entries;
}

/// Turns one documented server entry into a transport target on the suite's server.
function targetOf(entry) {
  const declared = entry.type ?? entry.transport ?? entry.transportType;
  if (entry.command !== undefined) {
    if (declared !== undefined && declared !== "stdio") {
      fail(`entry has a command but type ${declared}`);
    }
    return stdioTarget(entry);
  }
  const documentedUrl = entry.url ?? entry.baseUrl ?? entry.serverUrl;
  if (typeof documentedUrl !== "string") {
    fail(`entry has neither a command nor a URL: ${excerpt(entry)}`);
  }
  const url = new URL(documentedUrl);
  let kind = TRANSPORT_NAMES[declared];
  if (declared === undefined) {
    kind = url.pathname.endsWith("/sse") ? "sse" : "streamable-http";
  }
  if (kind === undefined || kind === "stdio") {
    fail(`unknown transport ${JSON.stringify(declared)} for URL ${documentedUrl}`);
  }
  const suiteUrl = new URL(`${url.pathname}${url.search}`, options["base-url"]);
  return { kind, url: suiteUrl.href, documented: documentedUrl };
}

function stdioTarget(entry) {
  const args = [...(entry.args ?? [])];
  if (path.basename(entry.command) !== "tiq") {
    fail(`stdio command ${entry.command} is not tiq`);
  }
  const dataDirIndex = args.indexOf("--data-dir");
  if (args[0] !== "mcp" || dataDirIndex < 0 || dataDirIndex + 1 >= args.length) {
    fail(`stdio arguments ${JSON.stringify(args)} are not "mcp --data-dir DIR"`);
  }
  args[dataDirIndex + 1] = options["data-dir"];
  return {
    kind: "stdio",
    command: options["tiq-bin"],
    args,
    env: entry.env,
    stderrLog: options["stdio-log"],
    documented: `${entry.command} ${entry.args.join(" ")}`,
  };
}

async function checkEntry(target) {
  const client = await connectClient(target, "tiq-suite-docs");
  try {
    const tools = (await client.listTools(undefined, { timeout: REQUEST_TIMEOUT_MS })).tools.map((tool) => tool.name);
    if (!tools.includes("analyze_ip")) {
      fail(`tools/list has no analyze_ip: ${tools.join(", ")}`);
    }
    const result = await client.callTool(
      { name: "analyze_ip", arguments: { ip: options["malicious-ip"] } },
      undefined,
      { timeout: REQUEST_TIMEOUT_MS },
    );
    if (result.isError || result.structuredContent?.verdict !== "malicious") {
      fail(`expected verdict malicious, got ${excerpt(result.structuredContent?.verdict ?? result.content)}`);
    }
  } finally {
    await client.close().catch(() => {});
  }
}

/// Returns the entry as the suite runs it: the suite's binary and data directory for a
/// command, the suite's server for a URL.
function entryOnSuite(entry, target) {
  if (target.kind === "stdio") {
    return { ...entry, command: target.command, args: target.args };
  }
  return { ...entry, url: target.url };
}

/// Runs the Inspector CLI on a copy of the configuration with the suite's values in
/// place, and checks that tools/list of server `name` includes analyze_ip.
async function checkWithInspector(config, name) {
  const directory = mkdtempSync(path.join(os.tmpdir(), "tiq-inspector-config-"));
  try {
    const file = path.join(directory, INSPECTOR_SNIPPET);
    writeFileSync(file, JSON.stringify(config));
    const argv = ["--no-install", "mcp-inspector", "--cli", "--config", file, "--server", name, "--method", "tools/list"];
    // The Inspector rejects --config together with a catalog, and run.sh names one
    // in MCP_CATALOG_PATH.
    const env = { ...process.env };
    delete env.MCP_CATALOG_PATH;
    let stdout;
    try {
      ({ stdout } = await runExecutable("npx", argv, { cwd: SUITE_DIR, env, timeout: REQUEST_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }));
    } catch (error) {
      fail(`npx ${argv.join(" ")} exited with ${error.code}: ${excerpt(`${error.stdout ?? ""}\n${error.stderr ?? error.message}`)}`);
    }
    const tools = (JSON.parse(stdout).tools ?? []).map((tool) => tool.name);
    if (!tools.includes("analyze_ip")) {
      fail(`tools/list has no analyze_ip: ${excerpt(stdout)}`);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const runner = new CheckRunner();
const snippets = readdirSync(SNIPPET_DIR).filter((name) => name.endsWith(".json")).sort();
await runner.check(`[docs] docs/clients/ holds the client snippets, each linked from ${GUIDES.join(" and ")}`, () => {
  if (snippets.length === 0) {
    fail(`no .json files in ${SNIPPET_DIR}`);
  }
  for (const guide of GUIDES) {
    const text = readFileSync(path.join(REPO_ROOT, guide), "utf8");
    const unlinked = snippets.filter((name) => !text.includes(`clients/${name}`));
    if (unlinked.length > 0) {
      fail(`${guide} does not link ${unlinked.join(", ")}`);
    }
  }
});

for (const name of snippets) {
  const file = `docs/clients/${name}`;
  let entries = [];
  await runner.check(`[docs] ${file} parses and names at least one server`, () => {
    entries = serverEntries(JSON.parse(readFileSync(path.join(SNIPPET_DIR, name), "utf8")));
  });
  const suiteServers = {};
  for (const [serverName, entry] of entries) {
    let target;
    try {
      target = targetOf(entry);
    } catch (error) {
      await runner.check(`[docs] ${file} ${serverName}: a usable entry`, () => {
        throw error;
      });
      continue;
    }
    suiteServers[serverName] = entryOnSuite(entry, target);
    await runner.check(
      `[docs] ${file} ${serverName} (${target.documented}) as ${describeTarget(target)}: analyze_ip says malicious`,
      () => checkEntry(target),
    );
  }
  if (name !== INSPECTOR_SNIPPET) {
    continue;
  }
  for (const serverName of Object.keys(suiteServers)) {
    await runner.check(`[docs] ${file} ${serverName} through the Inspector CLI --config: tools/list has analyze_ip`, () =>
      checkWithInspector({ mcpServers: suiteServers }, serverName),
    );
  }
}
runner.finish();
