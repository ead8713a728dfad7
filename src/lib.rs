//! nocbox: one service that receives, understands and forwards what network devices say.
//! See ARCHITECTURE.md for the map of modules and tasks.

pub mod api;
pub mod app;
pub mod checks;
pub mod config;
pub mod event;
pub mod fast_hash;
pub mod inputs;
pub mod json;
pub mod outputs;
pub mod pipeline;
pub mod poller;
pub mod profiles;
pub mod proto;
pub mod small_str;
pub mod telemetry;
pub mod tls;
