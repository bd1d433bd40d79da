"""Check a running tiq server through the official Python MCP SDK client.

The checks run over streamable HTTP, the older HTTP+SSE transport and stdio
(`tiq mcp`). Each transport gets initialize and tools/list (descriptions, schemas,
annotations). Every tool is called once with an indicator from the feed data: its
structuredContent is validated against the tool's outputSchema with jsonschema and
compared with the expected values in mcp-cases.json. One invalid input per tool must
give a tool result with isError, not a protocol error. Prompts and resources follow. One `ok`/`FAIL` line per check; the last line is "N passed, N failed".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema
from mcp import ClientSession, MCPError
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

SUITE_DIR = Path(__file__).resolve().parent
REQUEST_TIMEOUT_SECONDS = 60.0
INVALID_PARAMS = -32602

INDICATOR_OPTIONS = {
    "malicious-ip": "malicious_ip",
    "benign-domain": "benign_domain",
    "online-url": "online_url",
    "malicious-sha256": "malicious_sha256",
    "unlisted-domain": "unlisted_domain",
}

# Annotations every tiq tool carries: it only reads local data, so calling it again
# changes nothing and it reaches no outside system.
EXPECTED_ANNOTATIONS = {
    "readOnlyHint": True,
    "destructiveHint": False,
    "idempotentHint": True,
    "openWorldHint": False,
}


class CheckError(Exception):
    """A check found a wrong server response."""


def excerpt(value: Any, limit: int = 600) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.strip()
    return text[:limit] + "…" if len(text) > limit else text


def expand_template(value: Any, indicators: dict[str, str]) -> Any:
    """Replace `{placeholder}` in strings and expand `{"$repeat": VALUE, "times": N}`."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(1) not in indicators:
                raise ValueError(f"unknown placeholder {match.group(0)} in mcp-cases.json")
            return indicators[match.group(1)]

        return re.sub(r"\{([a-z0-9_]+)\}", substitute, value)
    if isinstance(value, list):
        return [expand_template(item, indicators) for item in value]
    if isinstance(value, dict):
        if "$repeat" in value:
            item = expand_template(value["$repeat"], indicators)
            return [item] * value["times"]
        return {key: expand_template(item, indicators) for key, item in value.items()}
    return value


def value_at(document: Any, dotted_path: str) -> Any:
    """Return the value at a dot-separated path such as `results.0.id`, or None."""
    current = document
    for key in dotted_path.split("."):
        if isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        elif isinstance(current, dict) and key in current:
            current = current[key]
        else:
            return None
    return current


def expect_same_names(kind: str, listed: list[str], covered: list[str]) -> None:
    without_case = [name for name in listed if name not in covered]
    not_listed = [name for name in covered if name not in listed]
    problems = []
    if without_case:
        problems.append(f"listed {kind} without a case in mcp-cases.json: {', '.join(without_case)}")
    if not_listed:
        problems.append(f"{kind} in mcp-cases.json that the server does not list: {', '.join(not_listed)}")
    if problems:
        raise CheckError("; ".join(problems))


def wire(model: Any) -> Any:
    """Return an SDK model as the JSON the server sent (camelCase keys, no unset fields)."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def text_of(result: dict[str, Any]) -> str:
    return "\n".join(block.get("text", "") for block in result.get("content", []) if block.get("type") == "text")


class CheckRunner:
    """Runs named checks, prints one `ok` or `FAIL` line for each and counts them."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    async def check(self, name: str, body: Callable[[], Awaitable[None]]) -> bool:
        try:
            await body()
        except CheckError as error:
            self._report_failure(name, str(error))
            return False
        except Exception as error:  # noqa: BLE001 - every other failure is a failed check too
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            self._report_failure(name, detail)
            return False
        self.passed += 1
        print(f"ok    {name}", flush=True)
        return True

    def _report_failure(self, name: str, message: str) -> None:
        self.failed += 1
        print(f"FAIL  {name}", flush=True)
        print(f"      {message}", flush=True)


@contextlib.asynccontextmanager
async def open_session(kind: str, options: argparse.Namespace) -> AsyncIterator[ClientSession]:
    """Open the transport named `kind` and yield an initialized client session."""
    async with contextlib.AsyncExitStack() as stack:
        if kind == "streamable-http":
            streams = await stack.enter_async_context(streamable_http_client(options.url))
        elif kind == "sse":
            streams = await stack.enter_async_context(sse_client(options.sse_url))
        elif kind == "stdio":
            parameters = StdioServerParameters(
                command=options.tiq_bin, args=["mcp", "--data-dir", options.data_dir]
            )
            log = stack.enter_context(open(options.stdio_log, "a", encoding="utf-8"))
            streams = await stack.enter_async_context(stdio_client(parameters, errlog=log))
        else:
            raise ValueError(f"unknown transport {kind}: use streamable-http, sse or stdio")
        read_stream, write_stream = streams[0], streams[1]
        session = await stack.enter_async_context(
            ClientSession(read_stream, write_stream, read_timeout_seconds=REQUEST_TIMEOUT_SECONDS)
        )
        yield session


def check_tool_definition(tool: dict[str, Any]) -> None:
    name = tool["name"]
    if len(tool.get("description", "").strip()) < 20:
        raise CheckError(f"{name} has no real description: {excerpt(tool.get('description', 'none'))}")
    if tool.get("inputSchema", {}).get("type") != "object":
        raise CheckError(f"{name} has no object inputSchema: {excerpt(tool.get('inputSchema'))}")
    if not isinstance(tool.get("outputSchema"), dict):
        raise CheckError(f"{name} has no outputSchema")
    annotations = tool.get("annotations", {})
    for hint, expected in EXPECTED_ANNOTATIONS.items():
        if annotations.get(hint) is not expected:
            raise CheckError(f"{name} annotation {hint} is {annotations.get(hint)}, expected {expected}")


def check_tool_result(tool: dict[str, Any], result: dict[str, Any], expected: dict[str, Any]) -> None:
    if result.get("isError"):
        raise CheckError(f"tool returned isError: {excerpt(text_of(result))}")
    structured = result.get("structuredContent")
    if not isinstance(structured, dict):
        raise CheckError(f"result has no structuredContent: {excerpt(result)}")
    validator_class = jsonschema.validators.validator_for(tool["outputSchema"])
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator_class(tool["outputSchema"]).iter_errors(structured)]
    if errors:
        raise CheckError(f"structuredContent does not match the outputSchema of {tool['name']}: {excerpt(errors)}")
    if not text_of(result).strip():
        raise CheckError("result has no text content")
    for dotted_path, value in expected.items():
        actual = value_at(structured, dotted_path)
        if actual != value or type(actual) is not type(value):
            raise CheckError(f"{dotted_path} is {json.dumps(actual)}, expected {json.dumps(value)}")


class TransportChecks:
    """The checks of one transport, run over one client session."""

    def __init__(self, runner: CheckRunner, label: str, session: ClientSession, cases: dict[str, Any], indicators: dict[str, str]) -> None:
        self.runner = runner
        self.label = label
        self.session = session
        self.cases = cases
        self.indicators = indicators

    async def run_all(self, capabilities: dict[str, Any]) -> None:
        await self.check_tools()
        if capabilities.get("prompts") is not None or self.cases["prompts"]:
            await self.check_prompts(capabilities.get("prompts") is not None)
        if capabilities.get("resources") is not None or self.cases["resources"] or self.cases["resource_templates"]:
            await self.check_resources(capabilities.get("resources") is not None)

    async def check_tools(self) -> None:
        tools: list[dict[str, Any]] = []

        async def list_tools() -> None:
            tools.extend(wire(await self.session.list_tools())["tools"])
            if not tools:
                raise CheckError("tools/list returned no tools")
            for tool in tools:
                check_tool_definition(tool)

        async def compare_names() -> None:
            expect_same_names("tools", [tool["name"] for tool in tools], list(self.cases["tools"]))

        await self.runner.check(f"{self.label} tools/list: descriptions, input and output schemas, read-only annotations", list_tools)
        await self.runner.check(f"{self.label} tools/list: every listed tool has a case and every case a tool", compare_names)
        for tool in tools:
            tool_case = self.cases["tools"].get(tool["name"])
            if tool_case is not None:
                await self.check_tool(tool, tool_case)

    async def check_tool(self, tool: dict[str, Any], tool_case: dict[str, Any]) -> None:
        name = tool["name"]
        arguments = expand_template(tool_case["arguments"], self.indicators)
        invalid = expand_template(tool_case["invalid"], self.indicators)
        expected = expand_template(tool_case["expect"], self.indicators)

        async def call_valid() -> None:
            result = wire(await self.session.call_tool(name, arguments))
            check_tool_result(tool, result, expected)

        async def call_invalid() -> None:
            result = wire(await self.session.call_tool(name, invalid))
            if result.get("isError") is not True:
                raise CheckError(f"expected isError true, got {excerpt(result)}")
            if tool_case["error_names"] not in text_of(result):
                raise CheckError(f"error text does not name {tool_case['error_names']}: {excerpt(text_of(result))}")

        await self.runner.check(f"{self.label} tools/call {name} {excerpt(arguments, 120)}: {excerpt(expected, 160)}", call_valid)
        await self.runner.check(f"{self.label} tools/call {name} {excerpt(invalid, 120)}: isError naming {tool_case['error_names']}", call_invalid)

    async def check_prompts(self, offered: bool) -> None:
        prompts: list[dict[str, Any]] = []

        async def list_prompts() -> None:
            if not offered:
                raise CheckError("the server does not declare the prompts capability")
            prompts.extend(wire(await self.session.list_prompts())["prompts"])
            expect_same_names("prompts", [prompt["name"] for prompt in prompts], list(self.cases["prompts"]))

        await self.runner.check(f"{self.label} prompts/list: every listed prompt has a case and every case a prompt", list_prompts)
        for prompt in prompts:
            prompt_case = self.cases["prompts"].get(prompt["name"])
            if prompt_case is not None:
                await self.check_prompt(prompt, prompt_case)

    async def check_prompt(self, prompt: dict[str, Any], prompt_case: dict[str, Any]) -> None:
        name = prompt["name"]
        arguments = expand_template(prompt_case["arguments"], self.indicators)
        names = expand_template(prompt_case["text_names"], self.indicators)

        async def get_prompt() -> None:
            result = wire(await self.session.get_prompt(name, arguments))
            text = "\n".join(message.get("content", {}).get("text", "") for message in result.get("messages", []))
            if not text.strip():
                raise CheckError(f"prompt has no text messages: {excerpt(result)}")
            absent = [expected for expected in names if expected not in text]
            if absent:
                raise CheckError(f"prompt text does not name {', '.join(absent)}: {excerpt(text)}")

        async def get_without_arguments() -> None:
            if not any(argument.get("required") for argument in prompt.get("arguments", [])):
                raise CheckError(f"{name} lists no required argument, so mcp-cases.json should not ask for this check")
            try:
                await self.session.get_prompt(name, {})
            except MCPError as error:
                if error.error.code != INVALID_PARAMS:
                    raise CheckError(f"expected error code {INVALID_PARAMS}, got {error.error.code}: {error.error.message}") from error
                return
            raise CheckError("prompts/get without its required arguments succeeded")

        await self.runner.check(f"{self.label} prompts/get {name} {excerpt(arguments, 120)}: messages naming {', '.join(names)}", get_prompt)
        await self.runner.check(f"{self.label} prompts/get {name} without arguments: invalid params error", get_without_arguments)

    async def read_json_resource(self, uri: str, expected: dict[str, Any]) -> None:
        result = wire(await self.session.read_resource(uri))
        contents = result.get("contents", [])
        if not contents or contents[0].get("mimeType") != "application/json":
            raise CheckError(f"expected mimeType application/json, got {excerpt(result)}")
        try:
            document = json.loads(contents[0]["text"])
        except (KeyError, json.JSONDecodeError) as error:
            raise CheckError(f"resource text is not JSON: {excerpt(contents[0])}") from error
        for dotted_path, value in expected.items():
            actual = value_at(document, dotted_path)
            missing = actual is None if value == "$present" else actual != value
            if missing:
                raise CheckError(f"{dotted_path} is {json.dumps(actual)}, expected {json.dumps(value)}")

    async def check_resources(self, offered: bool) -> None:
        async def list_resources() -> None:
            if not offered:
                raise CheckError("the server does not declare the resources capability")
            resources = wire(await self.session.list_resources())["resources"]
            expect_same_names("resources", [resource["uri"] for resource in resources], list(self.cases["resources"]))
            templates = wire(await self.session.list_resource_templates())["resourceTemplates"]
            expect_same_names("resource templates", [template["uriTemplate"] for template in templates], list(self.cases["resource_templates"]))

        await self.runner.check(f"{self.label} resources/list and resources/templates/list match the cases", list_resources)
        for uri, resource_case in self.cases["resources"].items():
            await self.runner.check(
                f"{self.label} resources/read {uri}: JSON with {', '.join(resource_case['expect'])}",
                lambda uri=uri, expected=resource_case["expect"]: self.read_json_resource(uri, expected),
            )
        for template_case in self.cases["resource_templates"].values():
            await self.check_template(template_case)

    async def check_template(self, template_case: dict[str, Any]) -> None:
        async def read_invalid() -> None:
            try:
                await self.session.read_resource(template_case["invalid_uri"])
            except MCPError as error:
                if template_case["error_names"] not in error.error.message:
                    raise CheckError(f"error does not name {template_case['error_names']}: {error.error.message}") from error
                return
            raise CheckError(f"reading {template_case['invalid_uri']} succeeded")

        await self.runner.check(
            f"{self.label} resources/read {template_case['uri']}: JSON with {', '.join(template_case['expect'])}",
            lambda: self.read_json_resource(template_case["uri"], template_case["expect"]),
        )
        await self.runner.check(f"{self.label} resources/read {template_case['invalid_uri']}: resource not found error", read_invalid)


async def check_transport(runner: CheckRunner, kind: str, options: argparse.Namespace, cases: dict[str, Any], indicators: dict[str, str]) -> None:
    label = f"[py {kind}]"
    async with contextlib.AsyncExitStack() as stack:
        holder: dict[str, Any] = {}

        async def initialize() -> None:
            session = await stack.enter_async_context(open_session(kind, options))
            result = wire(await session.initialize())
            if result.get("serverInfo", {}).get("name") != "tiq":
                raise CheckError(f"expected server name tiq, got {excerpt(result.get('serverInfo'))}")
            if result.get("capabilities", {}).get("tools") is None:
                raise CheckError(f"server declares no tools capability: {excerpt(result.get('capabilities'))}")
            holder["session"] = session
            holder["capabilities"] = result["capabilities"]

        if kind == "streamable-http":
            target = options.url
        elif kind == "sse":
            target = options.sse_url
        else:
            target = f"{options.tiq_bin} mcp --data-dir {options.data_dir}"
        if await runner.check(f"{label} initialize over {kind} {target}: server tiq with tools", initialize):
            checks = TransportChecks(runner, label, holder["session"], cases, indicators)
            await checks.run_all(holder["capabilities"])


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Check a tiq server through the Python MCP SDK client.")
    parser.add_argument("--url", required=True, help="streamable HTTP endpoint, http://HOST:PORT/mcp")
    parser.add_argument("--sse-url", required=True, help="HTTP+SSE endpoint, http://HOST:PORT/sse")
    parser.add_argument("--tiq-bin", required=True, help="tiq binary started as `tiq mcp` for stdio")
    parser.add_argument("--data-dir", required=True, help="data directory passed to `tiq mcp`")
    parser.add_argument("--stdio-log", default="/dev/null", help="file that receives the stdio server's stderr")
    parser.add_argument("--transports", default="streamable-http,sse,stdio", help="comma-separated transports to check")
    for option in INDICATOR_OPTIONS:
        parser.add_argument(f"--{option}", required=True)
    return parser.parse_args()


async def main() -> int:
    options = parse_options()
    indicators = {placeholder: getattr(options, option.replace("-", "_")) for option, placeholder in INDICATOR_OPTIONS.items()}
    cases = json.loads((SUITE_DIR / "mcp-cases.json").read_text(encoding="utf-8"))
    runner = CheckRunner()
    for kind in options.transports.split(","):
        await check_transport(runner, kind, options, cases, indicators)
    print(f"{runner.passed} passed, {runner.failed} failed", flush=True)
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
