//! The system under test: a URL the user gave, or the built-in demo shop
//! started on loopback for the length of a run.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;

use crate::demo::{DemoConfig, DemoServer};

/// The system under test: a URL given by the user, or the demo shop
/// started on a free loopback port (stopped when this is dropped).
pub struct Target {
    url: String,
    _demo: Option<DemoServer>,
}

impl Target {
    /// The site at `url`, or, without one, the demo shop started with
    /// `demo` on a free loopback port.
    pub async fn start(url: Option<&reqwest::Url>, demo: DemoConfig) -> anyhow::Result<Target> {
        let target = match url {
            Some(url) => Target { url: url.as_str().trim_end_matches('/').to_owned(), _demo: None },
            None => {
                let demo = crate::demo::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), demo)
                    .await
                    .context("starting the demo shop")?;
                Target { url: demo.url(), _demo: Some(demo) }
            }
        };
        Ok(target)
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}
