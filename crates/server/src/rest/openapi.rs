//! `GET /openapi.json`: the OpenAPI 3.1 description of the REST API, built from the code.
//!
//! utoipa describes the routes, parameters and status codes from the handlers' annotations.
//! The body schemas are the schemars JSON schemas of the model types, the same ones the MCP
//! tools publish as `outputSchema`, placed under `components/schemas`, so one type
//! definition feeds both surfaces.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Json;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value};
use tiq_model::batch::{BatchReport, BatchRequest};
use tiq_model::scan::{ScanReport, ScanRequest};
use tiq_model::{Report, ThreatDescription, VulnSearch};
use utoipa::openapi::RefOr;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::Ref;
use utoipa::{IntoResponses, OpenApi};

use super::error::ErrorBody;
use super::v1::{self, Pong};
use super::v3::{self, V3Request, V3Response};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tiq",
        description = "Threat intelligence from open feeds: the REST API of tiq. Every /api/v1 \
            route returns the same JSON as the MCP tool it names. /api/v3/ti answers in the \
            layout of a commercial cloud threat-intelligence service. docs/api.md has examples."
    ),
    paths(
        v1::ping,
        v1::ip,
        v1::domain,
        v1::url,
        v1::hash,
        v1::vul,
        v1::describe,
        v1::batch,
        v1::scan,
        v3::ti,
        crate::status::status,
        crate::health::healthz,
        openapi_json
    ),
    tags(
        (name = "indicators", description = "Verdicts on IP addresses, domains, URLs and file hashes"),
        (name = "vulnerabilities", description = "CVE search with exploitation and fixes"),
        (name = "knowledge", description = "Actors, families, campaigns and ATT&CK techniques"),
        (name = "compatibility", description = "The v3 layout of a commercial cloud service"),
        (name = "service", description = "Health, feed status and this document")
    )
)]
struct ApiDoc;

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    summary = "This OpenAPI 3.1 document",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(document).clone())
}

/// Builds the OpenAPI document: the routes from utoipa, the schemas from schemars.
pub fn document() -> Value {
    let mut document =
        serde_json::to_value(ApiDoc::openapi()).expect("an OpenAPI document always serialises");
    let components = document
        .as_object_mut()
        .expect("an OpenAPI document is an object")
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()));
    components["schemas"] = Value::Object(component_schemas());
    components["securitySchemes"] = serde_json::json!({
        "bearer": {"type": "http", "scheme": "bearer", "description": "An API key from `tiq key create`, such as tiq_0123456789_…"},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    });
    document
}

/// Schemas of every body, response bodies as serialised and request bodies as read.
fn component_schemas() -> Map<String, Value> {
    let mut responses = generator(SchemaSettings::draft2020_12().for_serialize());
    responses.subschema_for::<Report>();
    responses.subschema_for::<VulnSearch>();
    responses.subschema_for::<ThreatDescription>();
    responses.subschema_for::<BatchReport>();
    responses.subschema_for::<ScanReport>();
    responses.subschema_for::<V3Response>();
    responses.subschema_for::<ErrorBody>();
    responses.subschema_for::<Pong>();
    let mut schemas = responses.take_definitions(true);

    let mut requests = generator(SchemaSettings::draft2020_12().for_deserialize());
    requests.subschema_for::<BatchRequest>();
    requests.subschema_for::<ScanRequest>();
    requests.subschema_for::<V3Request>();
    for (name, schema) in requests.take_definitions(true) {
        schemas.entry(name).or_insert(schema);
    }
    for schema in schemas.values_mut() {
        crate::mcp::strip_integer_formats(schema);
    }
    schemas.insert("FeedStatus".to_string(), serde_json::json!({
        "type": "object",
        "description": "Per catalog feed and imported source: state, records, last success, data age, next try and last error."
    }));
    schemas.insert(
        "Health".to_string(),
        serde_json::json!({
            "type": "object",
            "required": ["status", "version", "sources", "records"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "unavailable"]},
                "version": {"type": "string"},
                "sources": {"type": "integer", "minimum": 0},
                "records": {"type": "integer", "minimum": 0},
                "latest_import": {"type": ["string", "null"]},
                "error": {"type": "string"}
            }
        }),
    );
    schemas
}

fn generator(settings: SchemaSettings) -> SchemaGenerator {
    settings
        .with(|settings| settings.definitions_path = "/components/schemas/".into())
        .into_generator()
}

/// Describes a JSON response whose body is the component schema `schema`.
fn json_response(description: &str, schema: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .build()
        .into()
}

/// Responses every REST route may give besides its own.
fn common_responses() -> BTreeMap<String, RefOr<Response>> {
    BTreeMap::from([
        (
            "401".to_string(),
            json_response(
                "No API key, or one that is invalid, revoked or expired",
                "ErrorBody",
            ),
        ),
        (
            "403".to_string(),
            json_response(
                "The key lacks the scope the route needs, or the Host header is not an allowed host (DNS-rebinding protection)",
                "ErrorBody",
            ),
        ),
        (
            "429".to_string(),
            json_response(
                "The key's rate or daily quota is used up, or this address failed to authenticate too often; see Retry-After",
                "ErrorBody",
            ),
        ),
        (
            "500".to_string(),
            json_response(
                "Internal error; request_id names it in the server log",
                "ErrorBody",
            ),
        ),
        (
            "404".to_string(),
            json_response("No route serves the path", "ErrorBody"),
        ),
        (
            "503".to_string(),
            json_response("The local database cannot be read", "ErrorBody"),
        ),
    ])
}

/// Declares a set of responses: 200 with `$ok`, 400 with the error body, the common ones, and
/// any extra `(status, description)` pairs with the error body.
macro_rules! response_set {
    ($name:ident, $ok:literal, $ok_description:literal $(, ($status:literal, $description:literal))*) => {
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let mut responses = common_responses();
                responses.insert("200".to_string(), json_response($ok_description, $ok));
                responses.insert(
                    "400".to_string(),
                    json_response("Invalid input: the message names the value and the fix", "ErrorBody"),
                );
                $(responses.insert($status.to_string(), json_response($description, "ErrorBody"));)*
                responses
            }
        }
    };
}

response_set!(
    ReportResponses,
    "Report",
    "The report, as the MCP analysis tools return it"
);
response_set!(
    VulResponses,
    "VulnSearch",
    "One page of results, as search_vul returns it"
);
response_set!(
    DescribeResponses,
    "ThreatDescription",
    "The description, as describe_threat returns it"
);
response_set!(
    BatchResponses,
    "BatchReport",
    "One result per item, as analyze_batch returns it",
    ("413", "The body is over 4 MiB"),
    ("415", "The body is not application/json")
);
response_set!(
    ScanResponses,
    "ScanReport",
    "Every indicator found, malicious first, as analyze_text returns it",
    (
        "413",
        "The text is over [server] max_text_kb, or the body over 4 MiB"
    ),
    ("415", "The body is neither application/json nor text/plain")
);
