//! The integration tests, one module per area, built as one test binary: each of them links
//! the whole scanner, and one binary instead of thirty keeps `target/` and the link time small.
//! Run one area with `cargo test --test integration <module>::`.

mod common;
mod live;

mod adequacy;
mod arm_templates;
mod bad_input;
mod baseline_cli;
mod budgets;
mod cli;
mod cloud_inputs;
mod cloudformation_parameters;
mod docs;
mod fixtures;
mod frameworks;
mod gate_cli;
mod html_report;
mod live_aws;
mod live_cluster;
mod loader;
mod plan_stream;
mod properties;
mod render;
mod report_formats;
mod rule_conditions;
mod service_knowledge;
mod snapshot_stream;
mod terraform_cli;
mod terraform_instances;
mod terraform_loader;
mod terraform_pair;
mod terraform_valid;
mod unevaluated;
