//! `sovscan cluster`: the objects of a running Kubernetes cluster.

pub fn command(_args: crate::cli::ClusterArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("`sovscan cluster` is not built in yet")
}
