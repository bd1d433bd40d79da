//! The fixture tools the conformance suite calls, with the results its scenarios check.
//!
//! Protocol version 2025-11-25, which the suite tests, has logging, sampling and elicitation.
//! rmcp 3.11 deprecates the first two (SEP-2577) and puts its elicitation helper behind a
//! feature tiq does not enable. So these messages are built from JSON and sent as plain
//! notifications and requests.

use std::time::Duration;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, JsonObject, RequestMetaObject, ServerNotification, ServerRequest,
};
use rmcp::{Peer, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::handler::Fixtures;

/// A 1×1 red PNG image.
pub const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

/// Eight silent 16-bit samples as a mono 8 kHz WAV file.
pub const WAV_BASE64: &str =
    "UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Pause between the steps of the logging and progress tools; the suite expects about 50 ms.
const STEP: Duration = Duration::from_millis(50);

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PromptArgs {
    /// The prompt to send to the client's model.
    pub prompt: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MessageArgs {
    /// The message to show the user.
    pub message: String,
}

#[tool_router(router = tool_router, vis = "pub(crate)")]
impl Fixtures {
    #[tool(description = "Returns one text block.")]
    async fn test_simple_text(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(
            "This is a simple text response for testing.",
        )])
    }

    #[tool(description = "Returns one PNG image block.")]
    async fn test_image_content(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::image(PNG_BASE64, "image/png")])
    }

    #[tool(description = "Returns one WAV audio block.")]
    async fn test_audio_content(&self) -> CallToolResult {
        let audio: ContentBlock = from_json(json!({
            "type": "audio", "data": WAV_BASE64, "mimeType": "audio/wav"
        }));
        CallToolResult::success(vec![audio])
    }

    #[tool(description = "Returns one embedded text resource.")]
    async fn test_embedded_resource(&self) -> CallToolResult {
        CallToolResult::success(vec![embedded_text(
            "test://embedded-resource",
            "text/plain",
            "This is an embedded resource content.",
        )])
    }

    #[tool(description = "Returns a text, an image and an embedded resource block.")]
    async fn test_multiple_content_types(&self) -> CallToolResult {
        CallToolResult::success(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(PNG_BASE64, "image/png"),
            embedded_text(
                "test://mixed-content-resource",
                "application/json",
                r#"{"test":"data","value":123}"#,
            ),
        ])
    }

    #[tool(description = "Sends three info log notifications while it runs.")]
    async fn test_tool_with_logging(&self, peer: Peer<RoleServer>) -> CallToolResult {
        let steps = [
            "Tool execution started",
            "Tool processing data",
            "Tool execution completed",
        ];
        for (index, step) in steps.into_iter().enumerate() {
            if index > 0 {
                tokio::time::sleep(STEP).await;
            }
            self.log(&peer, "info", step).await;
        }
        CallToolResult::success(vec![ContentBlock::text("Logging tool finished.")])
    }

    #[tool(description = "Always fails with a tool error.")]
    async fn test_error_handling(&self) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(
            "This tool intentionally returns an error for testing",
        )])
    }

    #[tool(description = "Reports progress 0, 50 and 100 of 100 when given a progress token.")]
    async fn test_tool_with_progress(
        &self,
        peer: Peer<RoleServer>,
        meta: RequestMetaObject,
    ) -> CallToolResult {
        let token = meta.get_progress_token();
        for (index, progress) in [0, 50, 100].into_iter().enumerate() {
            if index > 0 {
                tokio::time::sleep(STEP).await;
            }
            if let Some(token) = &token {
                let params = json!({"progressToken": token, "progress": progress, "total": 100});
                notify(&peer, "notifications/progress", params).await;
            }
        }
        CallToolResult::success(vec![ContentBlock::text("Progress tool finished.")])
    }

    #[tool(description = "Asks the client's model to answer a prompt (sampling).")]
    async fn test_sampling(
        &self,
        peer: Peer<RoleServer>,
        Parameters(args): Parameters<PromptArgs>,
    ) -> CallToolResult {
        let params = json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": args.prompt}}],
            "maxTokens": 100
        });
        match request(&peer, "sampling/createMessage", params).await {
            Ok(answer) => {
                let text = answer["content"]["text"].as_str().unwrap_or_default();
                CallToolResult::success(vec![ContentBlock::text(format!("LLM response: {text}"))])
            }
            Err(error) => CallToolResult::error(vec![ContentBlock::text(error)]),
        }
    }

    #[tool(description = "Asks the user for a user name and an e-mail address (elicitation).")]
    async fn test_elicitation(
        &self,
        peer: Peer<RoleServer>,
        Parameters(args): Parameters<MessageArgs>,
    ) -> CallToolResult {
        let schema = json!({
            "type": "object",
            "properties": {
                "username": {"type": "string", "description": "User's response"},
                "email": {"type": "string", "description": "User's email address"}
            },
            "required": ["username", "email"]
        });
        elicit(&peer, &args.message, schema, "User response").await
    }

    #[tool(description = "Asks the user for values of every primitive type, with defaults.")]
    async fn test_elicitation_sep1034_defaults(&self, peer: Peer<RoleServer>) -> CallToolResult {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "default": "John Doe"},
                "age": {"type": "integer", "default": 30},
                "score": {"type": "number", "default": 95.5},
                "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
                "verified": {"type": "boolean", "default": true}
            }
        });
        elicit(
            &peer,
            "Please review your details",
            schema,
            "Elicitation completed",
        )
        .await
    }

    #[tool(description = "Asks the user to choose from each kind of enumeration.")]
    async fn test_elicitation_sep1330_enums(&self, peer: Peer<RoleServer>) -> CallToolResult {
        let schema = json!({
            "type": "object",
            "properties": {
                "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                "titledSingle": {"type": "string", "oneOf": [
                    {"const": "value1", "title": "First Option"},
                    {"const": "value2", "title": "Second Option"},
                    {"const": "value3", "title": "Third Option"}
                ]},
                "legacyEnum": {
                    "type": "string",
                    "enum": ["opt1", "opt2", "opt3"],
                    "enumNames": ["Option One", "Option Two", "Option Three"]
                },
                "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                "titledMulti": {"type": "array", "items": {"anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"}
                ]}}
            }
        });
        elicit(
            &peer,
            "Please choose your options",
            schema,
            "Elicitation completed",
        )
        .await
    }

    #[tool(
        description = "Tool with JSON Schema 2020-12 features",
        input_schema = json_schema_2020_12()
    )]
    async fn json_schema_2020_12_tool(&self, arguments: JsonObject) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(
            Value::Object(arguments).to_string(),
        )])
    }
}

/// Returns the input schema that the `json-schema-2020-12` scenario expects back unchanged.
fn json_schema_2020_12() -> std::sync::Arc<JsonObject> {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    });
    std::sync::Arc::new(from_json(schema))
}

impl Fixtures {
    /// Sends a log notification unless the client set a higher minimum level.
    async fn log(&self, peer: &Peer<RoleServer>, level: &str, message: &str) {
        if !self.logs_at(level) {
            return;
        }
        let params = json!({"level": level, "logger": "tiq-conformance", "data": message});
        notify(peer, "notifications/message", params).await;
    }
}

fn embedded_text(uri: &str, mime_type: &str, text: &str) -> ContentBlock {
    from_json(json!({
        "type": "resource",
        "resource": {"uri": uri, "mimeType": mime_type, "text": text}
    }))
}

async fn elicit(
    peer: &Peer<RoleServer>,
    message: &str,
    schema: Value,
    label: &str,
) -> CallToolResult {
    let params = json!({"mode": "form", "message": message, "requestedSchema": schema});
    match request(peer, "elicitation/create", params).await {
        Ok(answer) => {
            let action = answer["action"].as_str().unwrap_or("unknown");
            let content = answer.get("content").cloned().unwrap_or(Value::Null);
            CallToolResult::success(vec![ContentBlock::text(format!(
                "{label}: action={action}, content={content}"
            ))])
        }
        Err(error) => CallToolResult::error(vec![ContentBlock::text(error)]),
    }
}

/// Sends a server request built from its method and parameters, and returns the client's
/// result as JSON, or the failure as a message.
async fn request(peer: &Peer<RoleServer>, method: &str, params: Value) -> Result<Value, String> {
    let request: ServerRequest = from_json(json!({"method": method, "params": params}));
    match peer.send_request(request).await {
        Ok(result) => serde_json::to_value(result).map_err(|error| error.to_string()),
        Err(error) => Err(format!("{method} failed: {error}")),
    }
}

async fn notify(peer: &Peer<RoleServer>, method: &str, params: Value) {
    let notification: ServerNotification = from_json(json!({"method": method, "params": params}));
    if let Err(error) = peer.send_notification(notification).await {
        tracing::warn!(method, %error, "cannot send a notification");
    }
}

/// Builds an rmcp value from JSON written in this file; a mismatch is a bug here.
fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("fixture JSON matches the rmcp type")
}
