// Compares the checks of one conformance run with expected-failures.txt.
//
// Usage: node compare.mjs RESULTS_DIR EXPECTED_FAILURES_FILE
//
// RESULTS_DIR contains one folder per scenario (`server-<scenario>-<time>`), each with the
// suite's checks.json. An entry in the expected-failures file is a scenario name, which
// excuses every failing check of that scenario, or `scenario:check-id`. Text after `#` is
// the reason. The run fails when a check fails without an entry, and when an entry matches
// no failing check (the failure is fixed, so the entry must go). The last line printed is
// "N passed, N failed": checks that passed, and unexpected failures plus stale entries;
// expected failures count in neither.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const [resultsDir, expectedFile] = process.argv.slice(2);
if (!resultsDir || !expectedFile) {
  console.error("usage: node compare.mjs RESULTS_DIR EXPECTED_FAILURES_FILE");
  process.exit(2);
}

/** Reads the entries of the expected-failures file, without comments. */
function readExpected(file) {
  const entries = [];
  for (const [index, raw] of readFileSync(file, "utf8").split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    if (!raw.includes("#")) {
      console.error(`${file}:${index + 1}: entry "${line}" has no "# reason" comment`);
      process.exit(2);
    }
    entries.push(line);
  }
  return entries;
}

/** Returns the scenario name of a result folder: `server-<scenario>-<ISO time>`. */
function scenarioOf(folder) {
  const match = folder.match(/^server-(.+?)-\d{4}-\d{2}-\d{2}T/);
  return match ? match[1] : folder.replace(/^server-/, "");
}

/** Reads every check of the run as {scenario, id, status, message}. */
function readChecks(dir) {
  const checks = [];
  for (const folder of readdirSync(dir).sort()) {
    const file = join(dir, folder, "checks.json");
    if (!existsSync(file)) continue;
    const scenario = scenarioOf(folder);
    for (const check of JSON.parse(readFileSync(file, "utf8"))) {
      checks.push({
        scenario,
        id: check.id,
        status: check.status,
        message: check.errorMessage ?? "",
      });
    }
  }
  return checks;
}

const expected = readExpected(expectedFile);
const checks = readChecks(resultsDir);
if (checks.length === 0) {
  console.error(`no checks.json under ${resultsDir}: the suite did not run`);
  process.exit(2);
}

const excuses = (entry, check) =>
  entry === check.scenario || entry === `${check.scenario}:${check.id}`;
const failing = checks.filter((check) => check.status === "FAILURE");
const unexpected = failing.filter((check) => !expected.some((entry) => excuses(entry, check)));
const stale = expected.filter((entry) => !failing.some((check) => excuses(entry, check)));
const passed = checks.filter((check) => check.status === "SUCCESS").length;
const expectedFailures = failing.length - unexpected.length;
const other = checks.length - passed - failing.length;

for (const check of unexpected) {
  console.log(`UNEXPECTED FAILURE ${check.scenario}:${check.id}: ${check.message}`);
}
for (const entry of stale) {
  console.log(`LISTED BUT NOT FAILING ${entry}: remove it from ${expectedFile}`);
}
for (const check of failing.filter((check) => !unexpected.includes(check))) {
  console.log(`expected failure ${check.scenario}:${check.id}`);
}
console.log(
  `conformance: ${checks.length} checks, ${passed} passed, ${expectedFailures} expected failures, ` +
    `${other} warnings or skipped, ${unexpected.length} unexpected failures, ${stale.length} stale entries`,
);
console.log(`${passed} passed, ${unexpected.length + stale.length} failed`);
process.exit(unexpected.length + stale.length > 0 ? 1 : 0);
