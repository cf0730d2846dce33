//! sovscan: finds where Kubernetes manifests and cloud configurations break GDPR, send data
//! out of the EU, or depend on a hyperscaler controlled from outside the EU.

#![forbid(unsafe_code)]

pub mod app;
pub mod baseline;
pub mod cli;
mod decimal;
pub mod docs;
pub mod engine;
pub mod estate;
pub mod extract;
pub mod finding;
pub mod frameworks;
pub mod gate;
pub mod knowledge;
pub mod limits;
#[cfg(any(feature = "aws", feature = "cluster"))]
pub mod live;
pub mod load;
pub mod location;
pub mod model;
pub mod policy;
pub mod render;
pub mod report;
pub mod sanitize;
pub mod scan;
pub(crate) mod spill;
pub mod store;
pub mod suppress;
pub mod timing;
pub mod tree;
