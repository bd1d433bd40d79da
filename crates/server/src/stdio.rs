//! MCP over standard input and output, for clients that start tiq as a child process
//! (`tiq mcp`). Messages are JSON lines; nothing else may be written to standard output, so
//! logs go to standard error.

use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;

use crate::{ServeError, TiqTools};

/// Serves `tools` on stdin and stdout until the client closes stdin or `shutdown` is
/// cancelled.
pub async fn serve_stdio(tools: TiqTools, shutdown: CancellationToken) -> Result<(), ServeError> {
    tracing::info!("tiq is serving MCP on standard input and output");
    let running = tools
        .serve_with_ct(rmcp::transport::stdio(), shutdown)
        .await
        .map_err(|error| ServeError::StdioStart(Box::new(error)))?;
    let reason = running.waiting().await?;
    tracing::info!(reason = ?reason, "tiq stopped serving MCP on standard input and output");
    Ok(())
}
