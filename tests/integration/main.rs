//! Integration tests on the real control plane (one test binary for the workspace).

mod cli;
mod conformance;
mod control_plane;
mod end_to_end;
mod operations;
mod paths;
mod rbac;
mod server;
mod storage;
mod tokens;
mod wizard;
mod workload;
