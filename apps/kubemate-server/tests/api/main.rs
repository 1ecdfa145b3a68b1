//! Router tests: the whole API through `oneshot`, on the in-memory demo cluster.

mod admin;
mod apps;
mod audit;
mod login;
mod meta;
mod openapi;
mod paths;
mod pipeline;
mod resources;
mod session;
mod startup;
mod streams;
mod support;
mod workloads;
