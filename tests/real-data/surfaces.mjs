// Checks that every surface of a running tiq server gives the same verdict, threat
// level and confidence for the same indicator: MCP tools/call (TypeScript SDK over
// streamable HTTP), REST v1, the v3 compatible call and the command line
// (`tiq ip X --json`). The MCP result is the reference. Each other surface gets one
// `ok`/`FAIL` line per indicator, showing both values on a mismatch. The last line
// is "N passed, N failed".

import { execFile } from "node:child_process";
import { promisify } from "node:util";

import {
  CheckRunner,
  connectClient,
  excerpt,
  fail,
  parseOptions,
  REQUEST_TIMEOUT_MS,
} from "./lib/suite.mjs";

const options = parseOptions("surfaces.mjs", [
  "base-url",
  "tiq-bin",
  "data-dir",
  "malicious-ip",
  "benign-domain",
  "online-url",
  "malicious-sha256",
]);
const baseUrl = options["base-url"].replace(/\/$/, "");
const runExecutable = promisify(execFile);

// The v3 call names verdicts the way the commercial cloud service does.
const V3_RESULT_TO_VERDICT = {
  black: "malicious",
  white: "benign",
  grey: "suspicious",
  unknown: "unknown",
};

// One indicator per type, as run.sh picks them, with the name each surface uses.
const INDICATORS = [
  {
    value: options["malicious-ip"],
    expected: "malicious",
    tool: "analyze_ip",
    argument: "ip",
    restPath: (value) => `/api/v1/ip/${encodeURIComponent(value)}`,
    v3Action: "IPAnalysis",
    cliCommand: "ip",
  },
  {
    value: options["benign-domain"],
    expected: "benign",
    tool: "analyze_domain",
    argument: "domain",
    restPath: (value) => `/api/v1/domain/${encodeURIComponent(value)}`,
    v3Action: "DomainInfo",
    cliCommand: "domain",
  },
  {
    value: options["online-url"],
    expected: "malicious",
    tool: "analyze_url",
    argument: "url",
    restPath: (value) => `/api/v1/url?url=${encodeURIComponent(value)}`,
    v3Action: "UrlInfo",
    cliCommand: "url",
  },
  {
    value: options["malicious-sha256"],
    expected: "malicious",
    tool: "analyze_file_hash",
    argument: "hash",
    restPath: (value) => `/api/v1/hash/${encodeURIComponent(value)}`,
    v3Action: "FileInfo",
    cliCommand: "hash",
  },
];

/// Returns the compared part of a report: verdict, threat level 0-5 and confidence 0-1.
function verdictOf(report) {
  return {
    verdict: report?.verdict,
    threat_level: report?.threat_level?.level,
    confidence: report?.confidence,
  };
}

function formatVerdict(verdict) {
  return `verdict ${verdict.verdict}, threat_level ${verdict.threat_level}, confidence ${verdict.confidence}`;
}

/// Fails unless `other` has the reference's verdict and threat level, and a confidence
/// within `tolerance` of it.
function expectSameVerdict(surface, reference, other, tolerance = 1e-9) {
  const same =
    other.verdict === reference.verdict &&
    other.threat_level === reference.threat_level &&
    typeof other.confidence === "number" &&
    Math.abs(other.confidence - reference.confidence) <= tolerance;
  if (!same) {
    fail(`MCP says ${formatVerdict(reference)}; ${surface} says ${formatVerdict(other)}`);
  }
}

async function fetchJson(url, init = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = await response.text();
  if (!response.ok) {
    fail(`${init.method ?? "GET"} ${url} returned ${response.status}: ${excerpt(body)}`);
  }
  try {
    return JSON.parse(body);
  } catch {
    fail(`${init.method ?? "GET"} ${url} did not return JSON: ${excerpt(body)}`);
  }
}

async function restV1Verdict(indicator) {
  return verdictOf(await fetchJson(`${baseUrl}${indicator.restPath(indicator.value)}`));
}

/// Returns the v3 response in the v1 terms: `result` mapped back to a verdict and
/// confidence 0-100 scaled to 0-1.
async function restV3Verdict(indicator) {
  const answer = await fetchJson(`${baseUrl}/api/v3/ti`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ c_action: indicator.v3Action, key: indicator.value, c_lang: "en" }),
  });
  if (answer.return_code !== 0) {
    fail(`v3 ${indicator.v3Action} returned return_code ${answer.return_code}: ${excerpt(answer)}`);
  }
  if (!(answer.result in V3_RESULT_TO_VERDICT)) {
    fail(`v3 result ${JSON.stringify(answer.result)} is not black, white, grey or unknown`);
  }
  return {
    verdict: V3_RESULT_TO_VERDICT[answer.result],
    threat_level: answer.threat_level,
    confidence: typeof answer.confidence === "number" ? answer.confidence / 100 : answer.confidence,
  };
}

async function cliVerdict(indicator) {
  const argv = [indicator.cliCommand, indicator.value, "--json", "--lang", "en", "--data-dir", options["data-dir"]];
  let stdout;
  try {
    ({ stdout } = await runExecutable(options["tiq-bin"], argv, {
      timeout: REQUEST_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    fail(`${options["tiq-bin"]} ${argv.join(" ")} exited with ${error.code}: ${excerpt(error.stderr || error.stdout || error.message)}`);
  }
  try {
    return verdictOf(JSON.parse(stdout));
  } catch {
    fail(`tiq ${indicator.cliCommand} --json did not print JSON: ${excerpt(stdout)}`);
  }
}

// The v3 confidence is a whole number from 0 to 100, so it may differ from the
// reference by up to one hundredth after rounding.
const SURFACES = [
  { name: "REST v1", fetchVerdict: restV1Verdict, tolerance: 1e-9 },
  { name: "REST v3", fetchVerdict: restV3Verdict, tolerance: 0.01 },
  { name: "CLI", fetchVerdict: cliVerdict, tolerance: 1e-9 },
];

const runner = new CheckRunner();
let client;
const connected = await runner.check(`[surfaces] MCP client connects to ${baseUrl}/mcp`, async () => {
  client = await connectClient({ kind: "streamable-http", url: `${baseUrl}/mcp` }, "tiq-suite-surfaces");
});
for (const indicator of INDICATORS) {
  let reference;
  const label = `[surfaces] ${indicator.tool} ${indicator.value}`;
  const referenced = connected && await runner.check(`${label}: MCP tools/call says ${indicator.expected}`, async () => {
    const result = await client.callTool(
      { name: indicator.tool, arguments: { [indicator.argument]: indicator.value } },
      undefined,
      { timeout: REQUEST_TIMEOUT_MS },
    );
    if (result.isError) {
      fail(`tool returned isError: ${excerpt(result.content)}`);
    }
    reference = verdictOf(result.structuredContent);
    if (reference.verdict !== indicator.expected) {
      fail(`expected ${indicator.expected}, got ${formatVerdict(reference)}`);
    }
  });
  for (const surface of SURFACES) {
    await runner.check(`${label}: ${surface.name} agrees with MCP`, async () => {
      if (!referenced) {
        fail("no MCP answer to compare with (see the failure above)");
      }
      expectSameVerdict(surface.name, reference, await surface.fetchVerdict(indicator), surface.tolerance);
    });
  }
}
await client?.close().catch(() => {});
runner.finish();
