//! Inputs: thin socket tasks that read bytes, hand them to a `proto` core and send the resulting
//! `Event`s to the pipeline. The caller (`app.rs`) binds every socket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

pub mod health_check;
pub mod ntp;
pub mod syslog;
pub mod traps;

/// What the config says about a device address: its name and tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub name: Option<String>,
    pub tags: Vec<String>,
}

/// Device addresses known from `snmp.devices`, shared by every input.
pub type Devices = Arc<HashMap<IpAddr, DeviceInfo>>;

/// Builds the directory from the config.
pub fn devices(c: &crate::config::Config) -> Devices {
    Arc::new(
        c.snmp
            .iter()
            .flat_map(|s| &s.devices)
            .map(|d| {
                (
                    d.ip_address,
                    DeviceInfo {
                        name: d.name.clone(),
                        tags: d.tags.clone(),
                    },
                )
            })
            .collect(),
    )
}
