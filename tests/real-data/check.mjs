// Checks a running tiq MCP server on real feed data through the MCP Inspector CLI.
// Every case runs over streamable HTTP (--url). Over the older HTTP+SSE transport
// (--sse-url) and stdio (`tiq mcp --data-dir DIR`), tools/list, one analysis and one
// invalid input run too.
//
// run.sh picks the indicators from the data and passes them as options. Each case
// makes one inspector call, prints one `ok` or `FAIL` line and stores the raw
// output in --output-dir. The last line is "N passed, N failed", and the exit code
// is 1 when any case failed.

import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const OPTION_NAMES = [
  "url",
  "sse-url",
  "tiq-bin",
  "data-dir",
  "output-dir",
  "malicious-ip",
  "malicious-sha256",
  "online-url",
  "benign-domain",
  "unlisted-domain",
];
const { values: options } = parseArgs({
  options: Object.fromEntries(OPTION_NAMES.map((name) => [name, { type: "string" }])),
});
const missing = OPTION_NAMES.filter((name) => !options[name]);
if (missing.length > 0) {
  console.error(`check.mjs: missing or empty options: ${missing.map((name) => `--${name}`).join(" ")}`);
  process.exit(2);
}

const suiteDir = import.meta.dirname;
const outputDir = options["output-dir"];
mkdirSync(outputDir, { recursive: true });

// Analysis tools and the name of their indicator argument.
const TOOL_ARGUMENTS = {
  analyze_ip: "ip",
  analyze_domain: "domain",
  analyze_url: "url",
  analyze_file_hash: "hash",
};

const INSPECTOR_TIMEOUT_MS = 60_000;

// Returns the inspector options that send `args` unchanged. `--tool-arg k=v` runs
// each value through JSON.parse, so a value such as an all-digit hash would arrive
// as a number. Such arguments go through `--tool-args-json` instead.
function toolArgumentOptions(args) {
  const coerced = Object.values(args).some((value) => {
    try {
      return typeof JSON.parse(value) !== "string";
    } catch {
      return false;
    }
  });
  if (coerced) {
    return ["--tool-args-json", JSON.stringify(args)];
  }
  return ["--tool-arg", ...Object.entries(args).map(([key, value]) => `${key}=${value}`)];
}

// Inspector arguments naming the server, per transport. The inspector picks SSE for
// a URL ending in /sse and starts a command given instead of a URL over stdio.
const INSPECTOR_TARGETS = {
  "streamable-http": [options.url],
  sse: [options["sse-url"]],
  stdio: [options["tiq-bin"], "mcp", "--data-dir", options["data-dir"]],
};

// Runs one inspector call and returns its exit code, raw output and parsed JSON.
function runInspector(caseId, inspectorOptions, transport = "streamable-http") {
  const argv = [
    "--no-install",
    "mcp-inspector",
    "--cli",
    ...INSPECTOR_TARGETS[transport],
    ...inspectorOptions,
  ];
  return new Promise((resolve) => {
    execFile(
      "npx",
      argv,
      { cwd: suiteDir, timeout: INSPECTOR_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        let exitCode = 0;
        if (error?.killed) {
          exitCode = `none, killed after the ${INSPECTOR_TIMEOUT_MS / 1000} s timeout`;
        } else if (error) {
          exitCode = error.code ?? error.signal ?? "unknown";
        }
        writeFileSync(path.join(outputDir, `${caseId}.json`), stdout);
        writeFileSync(path.join(outputDir, `${caseId}.stderr`), stderr);
        let json;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        resolve({ exitCode, stdout, stderr, json, command: `npx ${argv.join(" ")}` });
      },
    );
  });
}

function callTool(caseId, tool, args, transport) {
  return runInspector(caseId, ["--method", "tools/call", "--tool-name", tool, ...toolArgumentOptions(args)], transport);
}

function listTools(caseId, transport) {
  return runInspector(caseId, ["--method", "tools/list"], transport);
}

class CheckError extends Error {}

function fail(message) {
  throw new CheckError(message);
}

function excerpt(text, limit = 600) {
  const trimmed = text.trim();
  return trimmed.length > limit ? `${trimmed.slice(0, limit)}…` : trimmed;
}

// Describes a report in one line so that a failure shows what the server decided.
function describeReport(report) {
  const evidence = (report.evidence ?? []).map(
    (item) => `${item.source}:${item.claim}${item.family ? `(${item.family})` : ""}@${item.matched}`,
  );
  const benign = (report.benign_matches ?? []).map((item) => `${item.list}:${item.category}@${item.matched}`);
  return [
    `verdict=${JSON.stringify(report.verdict)}`,
    `evidence=[${evidence.join(", ")}]`,
    `benign_matches=[${benign.join(", ")}]`,
    `families=${JSON.stringify(report.families)}`,
    `profile.scope=${JSON.stringify(report.profile?.scope)}`,
  ].join(" ");
}

// Returns the report of a successful tool call, or fails with the inspector's output.
function reportOf(call) {
  if (call.exitCode !== 0) {
    fail(`inspector exited with ${call.exitCode}: ${excerpt(call.stderr || call.stdout)}`);
  }
  if (call.json === undefined) {
    fail(`inspector output is not JSON: ${excerpt(call.stdout)}`);
  }
  if (call.json.isError) {
    fail(`tool returned isError: ${excerpt(JSON.stringify(call.json.content))}`);
  }
  const report = call.json.structuredContent;
  if (report === null || typeof report !== "object") {
    fail(`result has no structuredContent: ${excerpt(call.stdout)}`);
  }
  for (const field of ["tags", "families", "evidence", "benign_matches"]) {
    if (!Array.isArray(report[field])) {
      fail(`report field ${field} is not an array: ${excerpt(JSON.stringify(report))}`);
    }
  }
  const texts = (call.json.content ?? []).filter((item) => item.type === "text").map((item) => item.text);
  if (!texts.some((text) => typeof report.summary === "string" && text.includes(report.summary))) {
    fail(`no text content contains the summary ${JSON.stringify(report.summary)}: ${excerpt(JSON.stringify(texts))}`);
  }
  return report;
}

function expectVerdict(report, expected) {
  if (report.verdict !== expected) {
    fail(`expected verdict ${expected}, got ${describeReport(report)}`);
  }
}

// Checks a tools/list result: the four analysis tools with their input and output schemas.
function checkToolList(call) {
  if (call.exitCode !== 0) {
    fail(`inspector exited with ${call.exitCode}: ${excerpt(call.stderr || call.stdout)}`);
  }
  if (call.json === undefined) {
    fail(`inspector output is not JSON: ${excerpt(call.stdout)}`);
  }
  const tools = call.json.tools ?? [];
  const names = tools.map((tool) => tool.name);
  for (const [toolName, argument] of Object.entries(TOOL_ARGUMENTS)) {
    const tool = tools.find((candidate) => candidate.name === toolName);
    if (!tool) {
      fail(`tool ${toolName} is missing; tools/list returned ${JSON.stringify(names)}`);
    }
    if (tool.inputSchema?.type !== "object") {
      fail(`${toolName} has no object inputSchema: ${excerpt(JSON.stringify(tool.inputSchema))}`);
    }
    for (const property of [argument, "lang"]) {
      if (!tool.inputSchema.properties?.[property]) {
        fail(`${toolName} inputSchema has no property ${property}: ${excerpt(JSON.stringify(tool.inputSchema))}`);
      }
    }
    if (!(tool.inputSchema.required ?? []).includes(argument)) {
      fail(`${toolName} inputSchema does not require ${argument}: ${excerpt(JSON.stringify(tool.inputSchema))}`);
    }
    if (tool.outputSchema === null || typeof tool.outputSchema !== "object") {
      fail(`${toolName} has no outputSchema`);
    }
  }
}

// Checks the result of analyze_ip 300.1.1.1: a tool result with isError naming the value.
function checkInvalidIp(call) {
  // The inspector exits non-zero for an isError result (exit code 5 with
  // inspector 2.12.0) but still prints the result, so only the result is checked.
  if (call.json === undefined) {
    fail(`expected a tool result with isError, inspector exited with ${call.exitCode}: ${excerpt(call.stderr || call.stdout)}`);
  }
  if (call.json.isError !== true) {
    fail(`expected isError true, got ${excerpt(call.stdout)}`);
  }
  const text = (call.json.content ?? []).map((item) => item.text ?? "").join("\n");
  if (!text.includes("300.1.1.1")) {
    fail(`error message does not name 300.1.1.1: ${excerpt(text)}`);
  }
}

const ipArgument = options["malicious-ip"];
const cases = [
  {
    id: "tools-list",
    name: "tools/list: four tools with schemas",
    run: () => listTools("tools-list"),
    check: checkToolList,
  },
  {
    id: "ip-ipsum-top",
    name: `analyze_ip ${ipArgument} (top ipsum count): malicious via ipsum`,
    run: () => callTool("ip-ipsum-top", "analyze_ip", { ip: ipArgument }),
    check(call) {
      const report = reportOf(call);
      expectVerdict(report, "malicious");
      if (!report.evidence.some((item) => item.source === "ipsum")) {
        fail(`no evidence from source ipsum: ${describeReport(report)}`);
      }
    },
  },
  {
    id: "ip-public-resolver",
    name: "analyze_ip 8.8.8.8: benign public resolver",
    run: () => callTool("ip-public-resolver", "analyze_ip", { ip: "8.8.8.8" }),
    check(call) {
      const report = reportOf(call);
      expectVerdict(report, "benign");
      if (!report.benign_matches.some((item) => item.category === "public_resolver")) {
        fail(`no benign match with category public_resolver: ${describeReport(report)}`);
      }
    },
  },
  {
    id: "ip-private",
    name: "analyze_ip 10.1.2.3: private scope, not malicious",
    run: () => callTool("ip-private", "analyze_ip", { ip: "10.1.2.3" }),
    check(call) {
      const report = reportOf(call);
      if (report.profile?.scope !== "private") {
        fail(`expected profile.scope private, got ${describeReport(report)}`);
      }
      if (report.verdict === "malicious") {
        fail(`a private address must not be malicious: ${describeReport(report)}`);
      }
    },
  },
  {
    id: "hash-eset",
    name: `analyze_file_hash ${options["malicious-sha256"]} (ESET): malicious with family`,
    run: () => callTool("hash-eset", "analyze_file_hash", { hash: options["malicious-sha256"] }),
    check(call) {
      const report = reportOf(call);
      expectVerdict(report, "malicious");
      if (report.families.length === 0) {
        fail(`families is empty: ${describeReport(report)}`);
      }
    },
  },
  ...["cobaltstrike", "Cobalt Strike", "win.cobalt_strike"].map((name, index) => ({
    id: `describe-cobalt-strike-${index + 1}`,
    name: `describe_threat ${name}: one family, S0154 Cobalt Strike, with stored indicators`,
    run: () => callTool(`describe-cobalt-strike-${index + 1}`, "describe_threat", { name }),
    check(call) {
      const description = call.json?.structuredContent;
      if (call.exitCode !== 0 || !description) {
        fail(`inspector exited with ${call.exitCode}: ${excerpt(call.stderr || call.stdout)}`);
      }
      const entry = description.entry ?? {};
      if (description.kind !== "family" || entry.id !== "S0154" || entry.name !== "Cobalt Strike") {
        fail(`expected family S0154 Cobalt Strike, got ${description.kind} ${JSON.stringify(entry)}`);
      }
      if (!(description.indicators?.total > 0)) {
        fail(`no stored indicators counted: ${JSON.stringify(description.indicators)}`);
      }
      if (!(description.techniques?.length > 0) || !(description.actors?.length > 0)) {
        fail(`expected techniques and actors: ${excerpt(description.summary)}`);
      }
    },
  })),
  {
    id: "describe-apt41",
    name: "describe_threat G0096: APT41, an actor with families",
    run: () => callTool("describe-apt41", "describe_threat", { name: "G0096", lang: "zh-CN" }),
    check(call) {
      const description = call.json?.structuredContent ?? {};
      if (description.kind !== "actor" || description.entry?.name !== "APT41") {
        fail(`expected actor APT41, got ${description.kind} ${JSON.stringify(description.entry)}`);
      }
      if (!(description.families?.length > 0) || !description.summary?.includes("威胁组织")) {
        fail(`expected families and a Chinese summary: ${excerpt(description.summary ?? "")}`);
      }
    },
  },
  {
    id: "vul-id",
    name: "search_vul cve-2024-3400: critical, in KEV, with a fix link",
    run: () => callTool("vul-id", "search_vul", { query: "cve-2024-3400" }),
    check(call) {
      const search = call.json?.structuredContent;
      if (call.exitCode !== 0 || !search) {
        fail(`inspector exited with ${call.exitCode}: ${excerpt(call.stderr || call.stdout)}`);
      }
      const vuln = search.results?.[0];
      if (vuln?.id !== "CVE-2024-3400" || vuln.cvss?.severity !== "critical" || !vuln.exploitation?.in_kev) {
        fail(`expected CVE-2024-3400, critical, in KEV: ${excerpt(JSON.stringify(vuln ?? search))}`);
      }
      if (vuln.fix.advisories.length + vuln.fix.patches.length === 0) {
        fail(`no advisory or patch link: ${excerpt(JSON.stringify(vuln.fix))}`);
      }
    },
  },
  {
    id: "vul-product",
    name: "search_vul PAN-OS 10.2.8: the affected range includes CVE-2024-3400",
    run: () => callTool("vul-product", "search_vul", { query: "PAN-OS 10.2.8", page_size: 50 }),
    check(call) {
      const search = call.json?.structuredContent ?? {};
      const ids = (search.results ?? []).map((v) => v.id);
      if (search.query_kind !== "product" || !ids.includes("CVE-2024-3400")) {
        fail(`expected a product query listing CVE-2024-3400, got ${search.query_kind} ${ids.join(", ")}`);
      }
    },
  },
  {
    id: "vul-keyword",
    name: "search_vul log4j kev_only: CVE-2021-44228 among the results",
    run: () => callTool("vul-keyword", "search_vul", { query: "log4j", kev_only: true, lang: "zh-CN" }),
    check(call) {
      const search = call.json?.structuredContent ?? {};
      const ids = (search.results ?? []).map((v) => v.id);
      if (!ids.includes("CVE-2021-44228") || !search.summary?.includes("log4j")) {
        fail(`expected CVE-2021-44228 and a summary: ${ids.join(", ")} ${excerpt(search.summary ?? "")}`);
      }
    },
  },
  {
    id: "url-urlhaus-online",
    name: `analyze_url ${options["online-url"]} (URLhaus online): malicious`,
    run: () => callTool("url-urlhaus-online", "analyze_url", { url: options["online-url"] }),
    check(call) {
      expectVerdict(reportOf(call), "malicious");
    },
  },
  {
    id: "domain-top-site",
    name: `analyze_domain ${options["benign-domain"]} (Tranco top 10k): benign`,
    run: () => callTool("domain-top-site", "analyze_domain", { domain: options["benign-domain"] }),
    check(call) {
      expectVerdict(reportOf(call), "benign");
    },
  },
  {
    id: "domain-unlisted",
    name: `analyze_domain ${options["unlisted-domain"]} (in no feed): unknown`,
    run: () => callTool("domain-unlisted", "analyze_domain", { domain: options["unlisted-domain"] }),
    check(call) {
      expectVerdict(reportOf(call), "unknown");
    },
  },
  {
    id: "ip-invalid",
    name: "analyze_ip 300.1.1.1: tool error naming value",
    run: () => callTool("ip-invalid", "analyze_ip", { ip: "300.1.1.1" }),
    check: checkInvalidIp,
  },
  {
    id: "lang-zh-cn",
    name: `analyze_ip ${ipArgument} lang=zh-CN: Chinese summary`,
    run: () => callTool("lang-zh-cn", "analyze_ip", { ip: ipArgument, lang: "zh-CN" }),
    check(call) {
      const report = reportOf(call);
      if (report.lang !== "zh-CN") {
        fail(`expected lang zh-CN, got ${JSON.stringify(report.lang)}`);
      }
      if (!/\p{Script=Han}/u.test(report.summary)) {
        fail(`summary has no CJK characters: ${JSON.stringify(report.summary)}`);
      }
    },
  },
];

// The same inspector over the older HTTP+SSE transport and over stdio.
for (const transport of ["sse", "stdio"]) {
  cases.push(
    {
      id: `${transport}-tools-list`,
      name: `${transport}: tools/list: four tools with schemas`,
      run: () => listTools(`${transport}-tools-list`, transport),
      check: checkToolList,
    },
    {
      id: `${transport}-ip-ipsum-top`,
      name: `${transport}: analyze_ip ${ipArgument} (top ipsum count): malicious`,
      run: () => callTool(`${transport}-ip-ipsum-top`, "analyze_ip", { ip: ipArgument }, transport),
      check(call) {
        expectVerdict(reportOf(call), "malicious");
      },
    },
    {
      id: `${transport}-ip-invalid`,
      name: `${transport}: analyze_ip 300.1.1.1: tool error naming value`,
      run: () => callTool(`${transport}-ip-invalid`, "analyze_ip", { ip: "300.1.1.1" }, transport),
      check: checkInvalidIp,
    },
  );
}

let passed = 0;
let failed = 0;
for (const testCase of cases) {
  const call = await testCase.run();
  try {
    testCase.check(call);
    passed += 1;
    console.log(`ok    ${testCase.name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL  ${testCase.name}`);
    if (error instanceof CheckError) {
      console.log(`      ${error.message}`);
    } else {
      console.log(`      checker error: ${error.stack}`);
    }
    console.log(`      command (in ${suiteDir}): ${call.command}`);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
