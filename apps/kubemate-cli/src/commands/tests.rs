//! The commands on the demo fake cluster: what they change, what they print in each format,
//! and what they record in the audit log.

mod audit;
mod rbac;
mod resources;
mod token;
mod workloads;
