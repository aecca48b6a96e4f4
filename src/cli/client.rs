//! A small HTTP client for the log's read API, shared by `verify --url` and `export`. It trusts
//! nothing it reads: callers check every answer.

use anyhow::{Context, bail};
use serde_json::Value;

/// A log at a base URL.
pub struct LogClient {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl LogClient {
    /// A client for the log at `url` (e.g. `https://decisions.example.gov.uk`).
    /// With `token`, requests carry it, so that non-public disclosures are served and checked.
    pub fn new(url: &str, token: Option<&str>) -> anyhow::Result<LogClient> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("decision-log/", env!("CARGO_PKG_VERSION")))
            // A server closes an idle keep-alive connection after a few seconds (actix: 5 s);
            // one reused just as it closes fails. Verifying a page can take that long, so idle
            // connections are dropped first, and a failed send is tried once more below.
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()?;
        Ok(LogClient {
            base: url.trim_end_matches('/').to_owned(),
            http,
            token: token.map(str::to_owned),
        })
    }

    /// Sends a GET; any status.
    async fn send(&self, path: &str) -> anyhow::Result<(String, reqwest::Response)> {
        let url = format!("{}{path}", self.base);
        let request = || {
            let request = self.http.get(&url);
            match &self.token {
                Some(token) => request.bearer_auth(token),
                None => request,
            }
        };
        // A GET is safe to repeat: a connection the server closed under it is tried once anew.
        let response = match request().send().await {
            Err(error) if error.is_request() || error.is_connect() => request().send().await,
            other => other,
        }
        .with_context(|| format!("GET {url}"))?;
        Ok((url, response))
    }

    /// Sends a GET that must succeed.
    async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        let (url, response) = self.send(path).await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "GET {url}: {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response)
    }

    /// The newest signed checkpoint note, unverified.
    pub async fn checkpoint(&self) -> anyhow::Result<String> {
        Ok(self.get("/api/v1/log/checkpoint").await?.text().await?)
    }

    /// The page of up to `limit` served entries from `from` on, as the server sent it
    /// (`{"entries", "tree_size", "next_cursor"}`), unverified and unparsed: the caller reads the
    /// entries' bytes exactly as served.
    pub async fn entries_page(&self, from: u64, limit: u64) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .get(&format!("/api/v1/log/entries?from={from}&limit={limit}"))
            .await?
            .bytes()
            .await?
            .to_vec())
    }

    /// The served verifier key, unverified.
    pub async fn key(&self) -> anyhow::Result<String> {
        Ok(self.get("/api/v1/log/key").await?.text().await?)
    }

    /// The tile at `path` (after `/tlog/tile/`), as served; `None` if the log answers 404.
    pub async fn tile(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let (url, response) = self.send(&format!("/tlog/tile/{path}")).await?;
        match response.status() {
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => Ok(Some(response.bytes().await?.to_vec())),
            status => bail!(
                "GET {url}: {status}: {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }

    /// The served inclusion proof of `leaf_index` in the tree of `tree_size`, unverified.
    pub async fn inclusion_proof(&self, leaf_index: u64, tree_size: u64) -> anyhow::Result<Value> {
        Ok(self
            .get(&format!(
                "/api/v1/log/proofs/inclusion?leaf_index={leaf_index}&tree_size={tree_size}"
            ))
            .await?
            .json()
            .await?)
    }

    /// The served consistency proof from `from` to `to` entries, unverified.
    pub async fn consistency_proof(&self, from: u64, to: u64) -> anyhow::Result<Value> {
        Ok(self
            .get(&format!(
                "/api/v1/log/proofs/consistency?from={from}&to={to}"
            ))
            .await?
            .json()
            .await?)
    }
}
