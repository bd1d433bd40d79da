// Checks a running tiq server through the official TypeScript MCP SDK client over
// streamable HTTP, the older HTTP+SSE transport and stdio (`tiq mcp`).
//
// Each transport gets initialize and tools/list (descriptions, schemas, annotations).
// Every tool is called once with an indicator from the feed data: its
// structuredContent is validated against the tool's outputSchema with ajv and compared
// with the expected values in mcp-cases.json. One invalid input per tool must give a
// tool result with isError, not a protocol error. Prompts and resources follow. One `ok`/`FAIL` line per check; the
// last line is "N passed, N failed".

import {
  CheckRunner,
  connectClient,
  describeTarget,
  excerpt,
  expandTemplate,
  fail,
  indicatorsFrom,
  INDICATOR_OPTIONS,
  loadCases,
  newSchemaValidator,
  parseOptions,
  REQUEST_TIMEOUT_MS,
  textOf,
  valueAt,
} from "./lib/suite.mjs";

const options = parseOptions(
  "clients.mjs",
  ["url", "sse-url", "tiq-bin", "data-dir", ...Object.keys(INDICATOR_OPTIONS)],
  ["transports", "stdio-log"],
);
const indicators = indicatorsFrom(options);
const cases = loadCases();
const transports = (options.transports ?? "streamable-http,sse,stdio").split(",");

const TARGETS = {
  "streamable-http": { kind: "streamable-http", url: options.url },
  sse: { kind: "sse", url: options["sse-url"] },
  stdio: {
    kind: "stdio",
    command: options["tiq-bin"],
    args: ["mcp", "--data-dir", options["data-dir"]],
    stderrLog: options["stdio-log"],
  },
};

const REQUEST_OPTIONS = { timeout: REQUEST_TIMEOUT_MS };

// Annotations every tiq tool carries: it only reads local data, so calling it again
// changes nothing and it reaches no outside system.
const EXPECTED_ANNOTATIONS = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/// Fails unless the names the server lists and the names mcp-cases.json covers are the same.
function expectSameNames(kind, listed, covered) {
  const withoutCase = listed.filter((name) => !covered.includes(name));
  const notListed = covered.filter((name) => !listed.includes(name));
  const problems = [];
  if (withoutCase.length > 0) {
    problems.push(`listed ${kind} without a case in mcp-cases.json: ${withoutCase.join(", ")}`);
  }
  if (notListed.length > 0) {
    problems.push(`${kind} in mcp-cases.json that the server does not list: ${notListed.join(", ")}`);
  }
  if (problems.length > 0) {
    fail(problems.join("; "));
  }
}

function checkToolDefinition(tool) {
  if (typeof tool.description !== "string" || tool.description.trim().length < 20) {
    fail(`${tool.name} has no real description: ${excerpt(tool.description ?? "none")}`);
  }
  if (tool.inputSchema?.type !== "object") {
    fail(`${tool.name} has no object inputSchema: ${excerpt(tool.inputSchema)}`);
  }
  if (tool.outputSchema === null || typeof tool.outputSchema !== "object") {
    fail(`${tool.name} has no outputSchema`);
  }
  for (const [hint, expected] of Object.entries(EXPECTED_ANNOTATIONS)) {
    if (tool.annotations?.[hint] !== expected) {
      fail(`${tool.name} annotation ${hint} is ${tool.annotations?.[hint]}, expected ${expected}`);
    }
  }
}

/// Checks a successful tool result: no isError, structuredContent valid against the
/// tool's outputSchema, text content, and the expected values of the case.
function checkToolResult(tool, validate, result, expected) {
  if (result.isError) {
    fail(`tool returned isError: ${excerpt(textOf(result))}`);
  }
  const structured = result.structuredContent;
  if (structured === null || typeof structured !== "object") {
    fail(`result has no structuredContent: ${excerpt(result)}`);
  }
  if (!validate(structured)) {
    fail(`structuredContent does not match the outputSchema of ${tool.name}: ${excerpt(validate.errors)}`);
  }
  if (textOf(result).trim() === "") {
    fail("result has no text content");
  }
  for (const [dottedPath, value] of Object.entries(expected)) {
    const actual = valueAt(structured, dottedPath);
    if (actual !== value) {
      fail(`${dottedPath} is ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`);
    }
  }
}

async function checkTools(runner, label, client) {
  let tools = [];
  await runner.check(`${label} tools/list: descriptions, input and output schemas, read-only annotations`, async () => {
    tools = (await client.listTools(undefined, REQUEST_OPTIONS)).tools;
    if (tools.length === 0) {
      fail("tools/list returned no tools");
    }
    tools.forEach(checkToolDefinition);
  });
  await runner.check(`${label} tools/list: every listed tool has a case and every case a tool`, () =>
    expectSameNames("tools", tools.map((tool) => tool.name), Object.keys(cases.tools)),
  );

  const ajv = newSchemaValidator();
  for (const tool of tools) {
    const toolCase = cases.tools[tool.name];
    if (!toolCase) {
      continue;
    }
    const validate = ajv.compile(tool.outputSchema ?? {});
    const args = expandTemplate(toolCase.arguments, indicators);
    const expected = expandTemplate(toolCase.expect, indicators);
    await runner.check(`${label} tools/call ${tool.name} ${excerpt(args, 120)}: ${excerpt(expected, 160)}`, async () => {
      const result = await client.callTool({ name: tool.name, arguments: args }, undefined, REQUEST_OPTIONS);
      checkToolResult(tool, validate, result, expected);
    });

    const invalid = expandTemplate(toolCase.invalid, indicators);
    await runner.check(`${label} tools/call ${tool.name} ${excerpt(invalid, 120)}: isError naming ${toolCase.error_names}`, async () => {
      const result = await client.callTool({ name: tool.name, arguments: invalid }, undefined, REQUEST_OPTIONS);
      if (result.isError !== true) {
        fail(`expected isError true, got ${excerpt(result)}`);
      }
      if (!textOf(result).includes(toolCase.error_names)) {
        fail(`error text does not name ${toolCase.error_names}: ${excerpt(textOf(result))}`);
      }
    });
  }
}

async function checkPrompts(runner, label, client) {
  const offered = Boolean(client.getServerCapabilities()?.prompts);
  const covered = Object.keys(cases.prompts);
  if (!offered && covered.length === 0) {
    return;
  }
  let prompts = [];
  await runner.check(`${label} prompts/list: every listed prompt has a case and every case a prompt`, async () => {
    if (!offered) {
      fail("the server does not declare the prompts capability");
    }
    prompts = (await client.listPrompts(undefined, REQUEST_OPTIONS)).prompts;
    expectSameNames("prompts", prompts.map((prompt) => prompt.name), covered);
  });
  for (const prompt of prompts) {
    const promptCase = cases.prompts[prompt.name];
    if (!promptCase) {
      continue;
    }
    const args = expandTemplate(promptCase.arguments, indicators);
    const expectedNames = expandTemplate(promptCase.text_names, indicators);
    await runner.check(`${label} prompts/get ${prompt.name} ${excerpt(args, 120)}: messages naming ${expectedNames.join(", ")}`, async () => {
      const result = await client.getPrompt({ name: prompt.name, arguments: args }, REQUEST_OPTIONS);
      const text = (result.messages ?? []).map((message) => message.content?.text ?? "").join("\n");
      if (text.trim() === "") {
        fail(`prompt has no text messages: ${excerpt(result)}`);
      }
      const absent = expectedNames.filter((name) => !text.includes(name));
      if (absent.length > 0) {
        fail(`prompt text does not name ${absent.join(", ")}: ${excerpt(text)}`);
      }
    });
    await runner.check(`${label} prompts/get ${prompt.name} without arguments: invalid params error`, async () => {
      const required = (prompt.arguments ?? []).filter((argument) => argument.required);
      if (required.length === 0) {
        fail(`${prompt.name} lists no required argument, so mcp-cases.json should not ask for this check`);
      }
      try {
        await client.getPrompt({ name: prompt.name, arguments: {} }, REQUEST_OPTIONS);
      } catch (error) {
        // -32602 is JSON-RPC's invalid params.
        if (error?.code !== -32602) {
          fail(`expected error code -32602, got ${error?.code}: ${excerpt(error?.message ?? error)}`);
        }
        return;
      }
      fail("prompts/get without its required arguments succeeded");
    });
  }
}

/// Reads one resource and checks its JSON text against the expected values.
async function readJsonResource(client, uri, expected) {
  const result = await client.readResource({ uri }, REQUEST_OPTIONS);
  const content = result.contents?.[0];
  if (content?.mimeType !== "application/json") {
    fail(`expected mimeType application/json, got ${excerpt(content ?? result)}`);
  }
  let document;
  try {
    document = JSON.parse(content.text);
  } catch {
    fail(`resource text is not JSON: ${excerpt(content.text)}`);
  }
  for (const [dottedPath, value] of Object.entries(expected ?? {})) {
    const actual = valueAt(document, dottedPath);
    if (value === "$present" ? actual === undefined : actual !== value) {
      fail(`${dottedPath} is ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`);
    }
  }
}

async function checkResources(runner, label, client) {
  const offered = Boolean(client.getServerCapabilities()?.resources);
  const coveredResources = Object.keys(cases.resources);
  const coveredTemplates = Object.keys(cases.resource_templates);
  if (!offered && coveredResources.length + coveredTemplates.length === 0) {
    return;
  }
  await runner.check(`${label} resources/list and resources/templates/list match the cases`, async () => {
    if (!offered) {
      fail("the server does not declare the resources capability");
    }
    const resources = (await client.listResources(undefined, REQUEST_OPTIONS)).resources;
    expectSameNames("resources", resources.map((resource) => resource.uri), coveredResources);
    const templates = (await client.listResourceTemplates(undefined, REQUEST_OPTIONS)).resourceTemplates;
    expectSameNames("resource templates", templates.map((template) => template.uriTemplate), coveredTemplates);
  });
  for (const [uri, resourceCase] of Object.entries(cases.resources)) {
    await runner.check(`${label} resources/read ${uri}: JSON with ${Object.keys(resourceCase.expect).join(", ")}`, () =>
      readJsonResource(client, uri, resourceCase.expect),
    );
  }
  for (const templateCase of Object.values(cases.resource_templates)) {
    await runner.check(`${label} resources/read ${templateCase.uri}: JSON with ${Object.keys(templateCase.expect).join(", ")}`, () =>
      readJsonResource(client, templateCase.uri, templateCase.expect),
    );
    await runner.check(`${label} resources/read ${templateCase.invalid_uri}: resource not found error`, async () => {
      try {
        await client.readResource({ uri: templateCase.invalid_uri }, REQUEST_OPTIONS);
      } catch (error) {
        if (!String(error?.message).includes(templateCase.error_names)) {
          fail(`error does not name ${templateCase.error_names}: ${excerpt(error?.message ?? error)}`);
        }
        return;
      }
      fail(`reading ${templateCase.invalid_uri} succeeded`);
    });
  }
}

async function checkTransport(runner, target) {
  const label = `[ts ${target.kind}]`;
  let client;
  const connected = await runner.check(`${label} initialize over ${describeTarget(target)}: server tiq with tools`, async () => {
    client = await connectClient(target);
    const server = client.getServerVersion();
    if (server?.name !== "tiq") {
      fail(`expected server name tiq, got ${excerpt(server)}`);
    }
    if (!client.getServerCapabilities()?.tools) {
      fail(`server declares no tools capability: ${excerpt(client.getServerCapabilities())}`);
    }
  });
  if (!connected) {
    await client?.close().catch(() => {});
    return;
  }
  try {
    await checkTools(runner, label, client);
    await checkPrompts(runner, label, client);
    await checkResources(runner, label, client);
  } finally {
    await client.close().catch(() => {});
  }
}

const runner = new CheckRunner();
for (const kind of transports) {
  const target = TARGETS[kind];
  if (!target) {
    console.error(`clients.mjs: unknown transport ${kind}: use streamable-http, sse or stdio`);
    process.exit(2);
  }
  await checkTransport(runner, target);
}
runner.finish();
