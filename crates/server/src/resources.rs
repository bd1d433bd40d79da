//! MCP resources for feed status: `tiq://status`, the document `GET /api/v1/status` returns,
//! and the template `tiq://feeds/{name}` for one catalog feed's entry of it.

use std::sync::Arc;

use rmcp::ErrorData;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use serde_json::json;
use tiq_engine::Engine;
use tiq_sync::SyncSettings;

/// URI of the status of every feed and hand-imported source.
pub const STATUS_URI: &str = "tiq://status";

/// URI template of one catalog feed's status.
pub const FEED_TEMPLATE: &str = "tiq://feeds/{name}";

const FEED_PREFIX: &str = "tiq://feeds/";

const JSON: &str = "application/json";

/// Lists the fixed resources.
pub fn list() -> ListResourcesResult {
    let status = Resource::new(STATUS_URI, "status")
        .with_title("tiq feed status")
        .with_description(
            "Every catalog feed's state, records, last sync, last error, data age and \
             staleness, and the sources imported by hand. The same JSON as GET /api/v1/status.",
        )
        .with_mime_type(JSON);
    ListResourcesResult::with_all_items(vec![status])
}

/// Lists the resource templates.
pub fn templates() -> ListResourceTemplatesResult {
    let feed = ResourceTemplate::new(FEED_TEMPLATE, "feed")
        .with_title("tiq status of one feed")
        .with_description(
            "One catalog feed's entry of tiq://status, by catalog name such as ipsum or \
             urlhaus (see `tiq catalog`).",
        )
        .with_mime_type(JSON);
    ListResourceTemplatesResult::with_all_items(vec![feed])
}

/// Reads `tiq://status` or `tiq://feeds/{name}`. Any other URI, and an unknown feed name, is
/// a resource-not-found error whose data lists what exists.
pub async fn read(
    engine: Arc<Engine>,
    settings: Arc<SyncSettings>,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let feed_name = uri.strip_prefix(FEED_PREFIX);
    if uri != STATUS_URI && feed_name.is_none() {
        return Err(ErrorData::resource_not_found(
            format!("no resource {uri:?}: read {STATUS_URI} or {FEED_TEMPLATE}"),
            Some(json!({"uri": uri, "resources": [STATUS_URI], "templates": [FEED_TEMPLATE]})),
        ));
    }
    if let Some(name) = feed_name
        && !feed_names(&settings).contains(&name)
    {
        return Err(ErrorData::resource_not_found(
            format!("no catalog feed named {name:?}: use one of the names in data.feeds"),
            Some(json!({"uri": uri, "feeds": feed_names(&settings)})),
        ));
    }

    let status = crate::status::read(engine, settings)
        .await
        .map_err(|error| {
            ErrorData::internal_error(format!("cannot read the status: {error}"), None)
        })?;
    let document = match feed_name {
        None => serde_json::to_string_pretty(&status),
        Some(name) => {
            let feed = status.feeds.iter().find(|feed| feed.name == name);
            serde_json::to_string_pretty(&feed)
        }
    }
    .expect("a status always serialises");
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(document, uri).with_mime_type(JSON),
    ]))
}

/// Returns the catalog feed names that start with `prefix`, for argument completion.
pub fn complete_feed_name(settings: &SyncSettings, prefix: &str) -> Vec<String> {
    feed_names(settings)
        .into_iter()
        .filter(|name| name.starts_with(prefix))
        .map(String::from)
        .collect()
}

fn feed_names(settings: &SyncSettings) -> Vec<&'static str> {
    settings.feeds.iter().map(|feed| feed.name()).collect()
}
