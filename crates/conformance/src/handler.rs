//! The server handler: tiq's tools, prompts and resources, with the suite's fixtures beside
//! them. Every request for a fixture name or a `test://` URI goes to the fixtures; every other
//! request goes to [`TiqTools`] unchanged.

// Logging and resource subscriptions are deprecated in rmcp 3.11 (SEP-2577) but part of
// protocol version 2025-11-25, which the suite tests.
#![allow(deprecated)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, CompletionInfo,
    GetPromptRequestParams, GetPromptResponse, JsonObject, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    PromptMessage, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Reference,
    Resource, ResourceContents, ResourceTemplate, Role, ServerConfig, SetLevelRequestParams,
    SubscribeRequestParams, Tool, UnsubscribeRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, prompt, prompt_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tiq_server::TiqTools;

use crate::tools::PNG_BASE64;

/// Log levels from least to most severe, as `logging/setLevel` names them.
const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

const TEMPLATE_PREFIX: &str = "test://template/";

/// tiq's handler plus the suite's fixtures; one instance per session.
#[derive(Clone)]
pub struct Fixtures {
    tiq: TiqTools,
    tool_router: ToolRouter<Fixtures>,
    prompt_router: PromptRouter<Fixtures>,
    /// Index in [`LOG_LEVELS`] of the minimum level the client asked for.
    min_log_level: Arc<Mutex<usize>>,
    subscriptions: Arc<Mutex<HashSet<String>>>,
}

impl Fixtures {
    pub fn new(tiq: TiqTools) -> Fixtures {
        Fixtures {
            tiq,
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
            min_log_level: Arc::new(Mutex::new(0)),
            subscriptions: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// Checks whether a message at `level` passes the client's minimum level.
    pub(crate) fn logs_at(&self, level: &str) -> bool {
        let min = *self.min_log_level.lock().unwrap_or_else(|e| e.into_inner());
        LOG_LEVELS.iter().position(|name| *name == level) >= Some(min)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TwoArgs {
    /// First test argument
    pub arg1: String,
    /// Second test argument
    pub arg2: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ResourceArgs {
    /// URI of the resource to embed
    #[serde(rename = "resourceUri")]
    pub resource_uri: String,
}

#[prompt_router(vis = "pub(crate)")]
impl Fixtures {
    #[prompt(description = "A prompt without arguments.")]
    async fn test_simple_prompt(&self) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            "This is a simple prompt for testing.",
        )]
    }

    #[prompt(description = "A prompt with two required arguments.")]
    async fn test_prompt_with_arguments(
        &self,
        Parameters(args): Parameters<TwoArgs>,
    ) -> Vec<PromptMessage> {
        let text = format!(
            "Prompt with arguments: arg1='{}', arg2='{}'",
            args.arg1, args.arg2
        );
        vec![PromptMessage::new_text(Role::User, text)]
    }

    #[prompt(description = "A prompt that embeds a resource.")]
    async fn test_prompt_with_embedded_resource(
        &self,
        Parameters(args): Parameters<ResourceArgs>,
    ) -> Vec<PromptMessage> {
        vec![
            PromptMessage::new_resource(
                Role::User,
                args.resource_uri,
                Some("text/plain".to_string()),
                Some("Embedded resource content for testing.".to_string()),
                None,
                None,
                None,
            ),
            PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
        ]
    }

    #[prompt(description = "A prompt with an image.")]
    async fn test_prompt_with_image(&self) -> Vec<PromptMessage> {
        let image: rmcp::model::ContentBlock = serde_json::from_value(
            json!({"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}),
        )
        .expect("an image block");
        vec![
            PromptMessage::new(Role::User, image),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ]
    }
}

impl ServerHandler for Fixtures {
    fn get_info(&self) -> ServerConfig {
        let mut info = self.tiq.get_info();
        info.capabilities.logging = Some(JsonObject::new());
        if let Some(resources) = info.capabilities.resources.as_mut() {
            resources.subscribe = Some(true);
        }
        info
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut listed = self.tiq.list_tools(request, context).await?;
        listed.tools.extend(self.tool_router.list_all());
        Ok(listed)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        match self.tool_router.get(name) {
            Some(tool) => Some(tool.clone()),
            None => self.tiq.get_tool(name),
        }
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.tool_router.has_route(&request.name) {
            let call = ToolCallContext::new(self, request, context);
            return self.tool_router.call(call).await;
        }
        self.tiq.call_tool(request, context).await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let mut listed = self.tiq.list_prompts(request, context).await?;
        listed.prompts.extend(self.prompt_router.list_all());
        Ok(listed)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if self.prompt_router.has_route(&request.name) {
            let prompt = rmcp::handler::server::prompt::PromptContext::new(
                self,
                request.name,
                request.arguments,
                context,
            );
            return self.prompt_router.get_prompt(prompt).await;
        }
        self.tiq.get_prompt(request, context).await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut listed = self.tiq.list_resources(request, context).await?;
        let fixtures = [
            ("test://static-text", "static-text", "text/plain"),
            ("test://static-binary", "static-binary", "image/png"),
            ("test://watched-resource", "watched-resource", "text/plain"),
        ];
        listed
            .resources
            .extend(fixtures.into_iter().map(|(uri, name, mime_type)| {
                Resource::new(uri, name)
                    .with_description(format!("Conformance fixture {name}."))
                    .with_mime_type(mime_type)
            }));
        Ok(listed)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let mut listed = self.tiq.list_resource_templates(request, context).await?;
        listed.resource_templates.push(
            ResourceTemplate::new("test://template/{id}/data", "template-data")
                .with_description("Conformance fixture with an id parameter.")
                .with_mime_type("application/json"),
        );
        Ok(listed)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        match read_fixture(&request.uri) {
            Some(contents) => Ok(ReadResourceResult::new(vec![contents]).into()),
            None => self.tiq.read_resource(request, context).await,
        }
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let fixture_prompt = matches!(&request.r#ref, Reference::Prompt(prompt) if self.prompt_router.has_route(&prompt.name));
        if !fixture_prompt {
            return self.tiq.complete(request, context).await;
        }
        let typed = request.argument.value;
        let values = ["paris", "park", "party", "test", "testValue1"]
            .into_iter()
            .filter(|value| value.starts_with(&typed))
            .map(String::from)
            .collect();
        let completion =
            CompletionInfo::new(values).map_err(|error| ErrorData::internal_error(error, None))?;
        Ok(CompleteResult::new(completion))
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let name = serde_json::to_value(request.level)
            .ok()
            .and_then(|value| value.as_str().map(String::from))
            .unwrap_or_default();
        let index = LOG_LEVELS
            .iter()
            .position(|level| *level == name)
            .ok_or_else(|| {
                ErrorData::invalid_params(format!("unknown log level {name:?}"), None)
            })?;
        *self.min_log_level.lock().unwrap_or_else(|e| e.into_inner()) = index;
        Ok(())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(request.uri);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&request.uri);
        Ok(())
    }
}

/// Returns the contents of a fixture resource, or `None` for a URI the fixtures do not serve.
fn read_fixture(uri: &str) -> Option<ResourceContents> {
    match uri {
        "test://static-text" => Some(
            ResourceContents::text("This is the content of the static text resource.", uri)
                .with_mime_type("text/plain"),
        ),
        "test://static-binary" => {
            Some(ResourceContents::blob(PNG_BASE64, uri).with_mime_type("image/png"))
        }
        "test://watched-resource" => Some(
            ResourceContents::text("Watched resource content.", uri).with_mime_type("text/plain"),
        ),
        _ => {
            let id = uri.strip_prefix(TEMPLATE_PREFIX)?.strip_suffix("/data")?;
            if id.is_empty() || id.contains('/') {
                return None;
            }
            let body =
                json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
            Some(ResourceContents::text(body.to_string(), uri).with_mime_type("application/json"))
        }
    }
}
