//! Inputs: thin socket tasks that read bytes, hand them to a `proto` core and send the resulting
//! `Event`s to the pipeline. The caller (`app.rs`) binds every socket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

pub mod health_check;
pub mod ntp;
pub mod syslog;
pub mod traps;
pub(crate) mod udp;

/// Something made once per sender from its device directory entry and shared by its records
/// (a record's tag list, say): remade when the directory's entry for the sender changes (a
/// polled sysName), and the map is emptied when it reaches [`PerSender::MAX`] keys. `K` is the
/// sender's address, or the address and whatever else the value depends on.
pub(crate) struct PerSender<K, V>(HashMap<K, (Option<Arc<DeviceInfo>>, V)>);

impl<K, V> Default for PerSender<K, V> {
    fn default() -> Self {
        PerSender(HashMap::new())
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> PerSender<K, V> {
    pub(crate) const MAX: usize = 16_384;

    /// The value for `key`, made by `make` unless it was made from this same `device` entry.
    pub(crate) fn get(
        &mut self,
        key: K,
        device: &Option<Arc<DeviceInfo>>,
        make: impl FnOnce() -> V,
    ) -> V {
        let entry = |d: &Option<Arc<DeviceInfo>>| d.as_ref().map(Arc::as_ptr);
        if let Some((known, v)) = self.0.get(&key) {
            if entry(known) == entry(device) {
                return v.clone();
            }
        }
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        let v = make();
        self.0.insert(key, (device.clone(), v.clone()));
        v
    }
}

/// IPv4-mapped IPv6 addresses (from dual-stack sockets) shown as plain IPv4: how every input
/// names a sender.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What the config says about a device address: its name and tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub name: Option<String>,
    pub tags: Vec<String>,
    /// `name` is the sysName polled from the device, not from the config.
    pub learned: bool,
}

/// Device addresses known from `snmp.devices`, shared by every input, and the names the SNMP
/// poller learns (sysName) for devices the config does not name. One lock, read once per
/// record; written only when a polled name changes.
#[derive(Clone, Debug, Default)]
pub struct Devices(Arc<RwLock<HashMap<IpAddr, Arc<DeviceInfo>>>>);

impl Devices {
    /// What is known of `ip`.
    pub fn get(&self, ip: &IpAddr) -> Option<Arc<DeviceInfo>> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(ip)
            .cloned()
    }

    /// Records the sysName polled from `ip`; a name from the config is kept.
    pub fn learn_name(&self, ip: IpAddr, name: &str) {
        if self
            .get(&ip)
            .is_some_and(|d| d.name.is_some() && !d.learned)
        {
            return;
        }
        if self
            .get(&ip)
            .is_some_and(|d| d.name.as_deref() == Some(name))
        {
            return;
        }
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        let tags = map.get(&ip).map(|d| d.tags.clone()).unwrap_or_default();
        map.insert(
            ip,
            Arc::new(DeviceInfo {
                name: Some(name.to_string()),
                tags,
                learned: true,
            }),
        );
    }

    pub fn len(&self) -> usize {
        self.0.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Builds the directory from the config.
pub fn devices(c: &crate::config::Config) -> Devices {
    let map = c
        .snmp
        .iter()
        .flat_map(|s| &s.devices)
        .map(|d| {
            (
                d.ip_address,
                Arc::new(DeviceInfo {
                    name: d.name.clone(),
                    tags: d.tags.clone(),
                    learned: false,
                }),
            )
        })
        .collect();
    Devices(Arc::new(RwLock::new(map)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_polled_sys_name_names_a_device_the_config_does_not() {
        let cfg = crate::config::parse(
            "c.yaml",
            "snmp: { devices: [{ ip_address: 10.0.0.1, name: core }, { ip_address: 10.0.0.2, tags: [a:b] }] }\n",
            |_| None,
        )
        .unwrap();
        let d = devices(&cfg);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        d.learn_name(ip("10.0.0.1"), "sysname-1");
        d.learn_name(ip("10.0.0.2"), "sysname-2");
        d.learn_name(ip("10.0.0.3"), "sysname-3");
        assert_eq!(
            d.get(&ip("10.0.0.1")).unwrap().name.as_deref(),
            Some("core")
        );
        let two = d.get(&ip("10.0.0.2")).unwrap();
        assert_eq!(two.name.as_deref(), Some("sysname-2"));
        assert_eq!(two.tags, ["a:b"], "the configured tags stay");
        d.learn_name(ip("10.0.0.2"), "renamed");
        assert_eq!(
            d.get(&ip("10.0.0.2")).unwrap().name.as_deref(),
            Some("renamed")
        );
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn per_sender_values_are_made_once_and_again_when_the_device_entry_changes() {
        let mut cache = PerSender::<IpAddr, crate::event::Tags>::default();
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let made = std::cell::Cell::new(0);
        let make = |t: &str| {
            made.set(made.get() + 1);
            crate::event::Tags::from(vec![t.to_string()])
        };
        assert_eq!(&cache.get(peer, &None, || make("a"))[..], ["a"]);
        assert_eq!(&cache.get(peer, &None, || make("b"))[..], ["a"]);
        assert_eq!(made.get(), 1);
        // A name learned by the poller replaces the directory entry: the tags are remade.
        let dev = Some(Arc::new(DeviceInfo::default()));
        assert_eq!(&cache.get(peer, &dev, || make("c"))[..], ["c"]);
        assert_eq!(&cache.get(peer, &dev.clone(), || make("d"))[..], ["c"]);
        let other = Some(Arc::new(DeviceInfo::default()));
        assert_eq!(&cache.get(peer, &other, || make("e"))[..], ["e"]);
        assert_eq!(made.get(), 3);
    }
}
