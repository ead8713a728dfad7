//! [`Vendor`]: the vendor attribute object of a parsed line (`cisco` or `junos`), kept as a list
//! of members until it is written. Written, it is exactly what a `serde_json::Map` of the same
//! inserts would give (keys sorted, the last value of a repeated key kept), without the map's
//! two allocations per member: a Junos RT_FLOW line has about 25 of them.

use serde_json::{Map, Value};

use crate::json;
use crate::small_str::SmallStr;

/// A vendor's attribute object; `name` is empty when the line has none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vendor {
    /// `cisco` or `junos`, or empty.
    pub name: &'static str,
    /// In the order inserted; repeats allowed (the last one counts).
    members: Vec<(SmallStr, Member)>,
}

/// One member's value: the parsers produce only text and unsigned numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    Text(SmallStr),
    Number(u64),
}

impl From<&str> for Member {
    fn from(s: &str) -> Self {
        Member::Text(SmallStr::new(s))
    }
}

impl From<String> for Member {
    fn from(s: String) -> Self {
        Member::Text(s.into())
    }
}

impl From<u8> for Member {
    fn from(n: u8) -> Self {
        Member::Number(n.into())
    }
}

impl From<u64> for Member {
    fn from(n: u64) -> Self {
        Member::Number(n)
    }
}

impl Member {
    fn to_value(&self) -> Value {
        match self {
            Member::Text(s) => Value::String(s.to_string()),
            Member::Number(n) => Value::from(*n),
        }
    }
}

impl Vendor {
    /// An empty object named `name`.
    pub fn new(name: &'static str) -> Self {
        Vendor {
            name,
            members: Vec::new(),
        }
    }

    /// No vendor object at all.
    pub fn is_empty(&self) -> bool {
        self.name.is_empty()
    }

    /// Sets `key`; a later insert of the same key wins, as in a map.
    pub fn insert(&mut self, key: impl Into<SmallStr>, value: impl Into<Member>) {
        self.members.push((key.into(), value.into()));
    }

    /// The value of `key` (the last inserted).
    pub fn get(&self, key: &str) -> Option<&Member> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The members as a map would hold them: sorted by key, one per key (the last inserted).
    fn sorted(&self) -> Vec<&(SmallStr, Member)> {
        let mut all: Vec<&(SmallStr, Member)> = self.members.iter().collect();
        json::as_map(&mut all, |m| m.0.as_str());
        all
    }

    /// Appends the object (`{...}`), not its name.
    pub fn write_json(&self, buf: &mut Vec<u8>) {
        buf.push(b'{');
        for (i, (k, v)) in self.sorted().into_iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            json::push_str(buf, k);
            buf.push(b':');
            match v {
                Member::Text(s) => json::push_str(buf, s),
                Member::Number(n) => json::push_u64(buf, *n),
            }
        }
        buf.push(b'}');
    }

    /// The object as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in &self.members {
            m.insert(k.to_string(), v.to_value());
        }
        Value::Object(m)
    }

    /// Approximate heap bytes beyond the struct, for queue estimates.
    pub fn approx_size(&self) -> usize {
        self.members.capacity() * std::mem::size_of::<(SmallStr, Member)>()
            + self
                .members
                .iter()
                .map(|(k, v)| {
                    k.heap_len()
                        + match v {
                            Member::Text(s) => s.heap_len(),
                            Member::Number(_) => 0,
                        }
                })
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_a_json_map_of_the_same_inserts() {
        let mut v = Vendor::new("junos");
        v.insert("source-port", "51234");
        v.insert("tag", "RT_FLOW_SESSION_CREATE");
        v.insert("severity", 3u8);
        v.insert("source-port", "1"); // repeated: the last wins
        v.insert(
            "reason",
            "a \"quoted\" reason\twith a tab and a very long tail of text",
        );
        v.insert("sequence", u64::MAX);
        let mut buf = Vec::new();
        v.write_json(&mut buf);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            serde_json::to_string(&v.to_value()).unwrap()
        );
        assert_eq!(v.get("source-port"), Some(&Member::from("1")));
        assert_eq!(v.get("absent"), None);

        let mut buf = Vec::new();
        Vendor::new("cisco").write_json(&mut buf);
        assert_eq!(buf, b"{}");
        assert!(Vendor::default().is_empty());
    }
}
