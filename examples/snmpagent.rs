//! A fast simulated SNMP v1/v2c agent for tests and the poller benchmark (bench/snmp.sh): serves
//! the same MIB data on many loopback addresses or ports at once, so a benchmark measures the
//! poller rather than the agent (snmpsim answers ~2.5k varbinds/s per core; this does far more).
//!
//! ```text
//! cargo run --release --example snmpagent -- --interfaces 50 --listen 127.0.1.1:16100 --count 1000
//! cargo run --release --example snmpagent -- --snmprec cisco-c3560.snmprec --listen 127.0.0.1:16200
//! ```
//!
//! - `--snmprec FILE` (repeatable): plain snmpsim `.snmprec` (`OID|tag|value`, tags as snmpsim:
//!   2 INTEGER, 4 OCTET STRING, 5 NULL, 6 OID, 64 IpAddress, 65 Counter32, 66 Gauge32,
//!   67 TimeTicks, 68 Opaque, 70 Counter64; a tag ending in `x` means a hex value). Device `i`
//!   serves file `i % files`. Decompress `.bz2` first. Lines with variation modules are skipped.
//! - `--interfaces N`: synthetic Cisco-like switch (sysObjectID 1.3.6.1.4.1.9.1.617): system
//!   group, ifNumber, ifTable and ifXTable with N interfaces (ifIndex 10101.., ifName `Gi0/1`..,
//!   ifAlias, ifHighSpeed 1000, 32- and 64-bit counters).
//! - `--listen ADDR:PORT --count N --spread addr|port`: N agents on consecutive addresses
//!   (127.0.1.1, 127.0.1.2, ... 127.0.4.232 for 1000) with the same port, or on consecutive
//!   ports of one address. Loopback only.
//!
//! Behaviour: community check (a wrong community gets no answer, like a real agent); GET answers
//! noSuchObject/noSuchInstance (v1: noSuchName); GETNEXT/GETBULK by binary search in a sorted
//! table; GETBULK stops at `--max-size` bytes (default 1472) or after a repetition where every
//! column hit endOfMibView; a GET/GETNEXT reply over the size is tooBig; v1 never sees Counter64
//! (RFC 3584 §4.2.2.1: skipped by GETNEXT, noSuchName on GET); v1 GETNEXT past the end is
//! noSuchName; SET is refused (notWritable, v1 noSuchName). SNMPv3 is not spoken (no answer).
//! Counters advance with time (base + rate × elapsed, the rate varied per device) and
//! sysUpTime.0 ticks, so a poller sees rates; `--frozen` serves the recorded values as they are.
//! With more than one agent, sysName.0 gets `-<device number>` appended. `--delay-ms N` answers
//! every request N ms late, one at a time per agent (a device's SNMP process; 0 by default).
//!
//! Prints `ready N agents on FIRST..LAST (K OIDs)` on stdout once every socket is bound, and its
//! request counters on stderr when stopped (SIGINT/SIGTERM).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use nocbox::proto::snmp::message::{
    decode, encode, BulkPdu, CommunityMessage, GenericPdu, Message, PduKind, Version,
};
use nocbox::proto::snmp::{Oid, Pdu, Value, VarBind};

#[derive(Parser)]
#[command(about = "Simulated SNMP v1/v2c agents on loopback")]
struct Args {
    /// snmpsim .snmprec file to serve (repeatable; device i serves file i % files).
    #[arg(long)]
    snmprec: Vec<PathBuf>,
    /// Synthetic Cisco-like switch with this many interfaces (instead of --snmprec).
    #[arg(long)]
    interfaces: Option<u32>,
    /// First agent's address (loopback).
    #[arg(long, default_value = "127.0.0.1:16100")]
    listen: SocketAddr,
    /// Number of agents.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Consecutive addresses (same port) or consecutive ports (same address).
    #[arg(long, value_enum, default_value_t = Spread::Addr)]
    spread: Spread,
    /// The community every agent accepts.
    #[arg(long, default_value = "public")]
    community: String,
    /// Largest response in bytes; GETBULK replies are cut to fit.
    #[arg(long, default_value_t = 1472)]
    max_size: usize,
    /// Serve recorded values unchanged (no moving counters or uptime).
    #[arg(long)]
    frozen: bool,
    /// Runtime worker threads (1 = current-thread runtime).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Answer each request this many milliseconds late, one request at a time per agent, like a
    /// real agent's SNMP process (35-40 ms per PDU on a Juniper MX204). 0: at once.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Spread {
    Addr,
    Port,
}

// ---------------------------------------------------------------------------------------------
// The data: a sorted table of entries.

const SYS_UPTIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
const SYS_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];

/// How an entry's value changes between polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Motion {
    Fixed,
    /// Counter32/Counter64: the value grows by about this much per second (varied per device).
    Counter(u64),
    /// sysUpTime.0: hundredths of a second since the agent started, on top of the base.
    UpTime,
    /// sysName.0 with the device number appended.
    DeviceName,
}

#[derive(Clone, Debug)]
struct Entry {
    oid: Oid,
    /// Length of the OID's whole TLV, for the response-size estimate.
    oid_tlv: usize,
    value: Value,
    motion: Motion,
}

impl Entry {
    fn new(oid: Oid, value: Value, motion: Motion) -> Entry {
        let oid_tlv = tlv_len(oid.to_ber_contents().len());
        Entry {
            oid,
            oid_tlv,
            value,
            motion,
        }
    }
}

struct Mib {
    entries: Vec<Entry>,
}

impl Mib {
    /// Sorts by OID (SNMP order); a duplicate OID keeps its first value.
    fn new(mut entries: Vec<Entry>) -> Mib {
        entries.sort_by(|a, b| a.oid.cmp(&b.oid));
        entries.dedup_by(|b, a| a.oid == b.oid);
        Mib { entries }
    }

    fn find(&self, oid: &Oid) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.oid.cmp(oid))
    }

    /// Index of the first entry after `oid`.
    fn next_index(&self, oid: &Oid) -> usize {
        self.entries.partition_point(|e| e.oid <= *oid)
    }

    /// What GET answers for a missing OID: noSuchInstance when the object (the OID without its
    /// last arc) has instances, else noSuchObject.
    fn missing(&self, oid: &Oid) -> Value {
        let arcs = oid.arcs();
        if arcs.len() > 2 {
            if let Ok(parent) = Oid::from_arcs(&arcs[..arcs.len() - 1]) {
                let i = self.entries.partition_point(|e| e.oid < parent);
                if self
                    .entries
                    .get(i)
                    .is_some_and(|e| e.oid.starts_with(&parent))
                {
                    return Value::NoSuchInstance;
                }
            }
        }
        Value::NoSuchObject
    }
}

fn is_counter64(v: &Value) -> bool {
    matches!(v, Value::Counter64(_))
}

/// Per-agent view of the data: the device number and time since start move the values.
#[derive(Clone, Copy)]
struct View {
    device: u32,
    elapsed_ms: u64,
    frozen: bool,
}

impl View {
    fn value(&self, e: &Entry) -> Value {
        if self.frozen {
            return e.value.clone();
        }
        match (e.motion, &e.value) {
            (Motion::Counter(rate), v) => {
                // 50 % .. 150 % of the base rate, different per device, plus a per-device offset
                let pct = 50 + u64::from(self.device.wrapping_mul(37) % 101);
                let delta = rate.saturating_mul(pct).saturating_mul(self.elapsed_ms) / 100_000
                    + u64::from(self.device) * 1_000_003;
                match v {
                    Value::Counter32(b) => Value::Counter32((u64::from(*b) + delta) as u32),
                    Value::Counter64(b) => Value::Counter64(b.wrapping_add(delta)),
                    other => other.clone(),
                }
            }
            (Motion::UpTime, Value::TimeTicks(b)) => {
                Value::TimeTicks((u64::from(*b) + self.elapsed_ms / 10) as u32)
            }
            (Motion::DeviceName, Value::OctetString(s)) => {
                let mut s = s.clone();
                s.extend_from_slice(format!("-{}", self.device).as_bytes());
                Value::OctetString(s)
            }
            (_, v) => v.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sizes, so GETBULK can stop before the response outgrows the limit without re-encoding.

fn len_of_len(n: usize) -> usize {
    match n {
        0..=0x7f => 1,
        0x80..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xff_ffff => 4,
        _ => 5,
    }
}

fn tlv_len(contents: usize) -> usize {
    1 + len_of_len(contents) + contents
}

fn int_len(v: i64) -> usize {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 7
        && ((b[start] == 0 && b[start + 1] & 0x80 == 0)
            || (b[start] == 0xff && b[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    8 - start
}

fn uint_len(v: u64) -> usize {
    let b = v.to_be_bytes();
    let start = b.iter().position(|x| *x != 0).unwrap_or(7);
    8 - start + usize::from(b[start] & 0x80 != 0)
}

fn value_tlv_len(v: &Value) -> usize {
    tlv_len(match v {
        Value::Integer(i) => int_len((*i).into()),
        Value::OctetString(s) | Value::Opaque(s) => s.len(),
        Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => 0,
        Value::Oid(o) => o.to_ber_contents().len(),
        Value::IpAddress(_) => 4,
        Value::Counter32(n) | Value::Gauge32(n) | Value::TimeTicks(n) => uint_len((*n).into()),
        Value::Counter64(n) => uint_len(*n),
        Value::Other { contents, .. } => contents.len(),
    })
}

fn varbind_len(oid_tlv: usize, v: &Value) -> usize {
    tlv_len(oid_tlv + value_tlv_len(v))
}

/// Room for the three enclosing lengths (message, PDU, varbind list) growing by 2 bytes each.
const LENGTH_SLACK: usize = 6;

// ---------------------------------------------------------------------------------------------
// Request handling (no IO): a decoded request in, an encoded response (or nothing) out.

const TOO_BIG: i32 = 1;
const NO_SUCH_NAME: i32 = 2;
const NOT_WRITABLE: i32 = 17;

struct Responder<'a> {
    mib: &'a Mib,
    view: View,
    max_size: usize,
}

impl Responder<'_> {
    fn respond(&self, req: &CommunityMessage) -> Option<Vec<u8>> {
        let v1 = req.version == Version::V1;
        let (request_id, varbinds) = match &req.pdu {
            Pdu::Generic(p) => (p.request_id, &p.varbinds),
            Pdu::GetBulk(p) if !v1 => return Some(self.bulk(req, p)),
            _ => return None,
        };
        let answer =
            |status: i32, index: i32, vbs: Vec<VarBind>| reply(req, request_id, status, index, vbs);
        let out = match req.pdu.kind()? {
            PduKind::Get => {
                let mut out = Vec::with_capacity(varbinds.len());
                for (i, vb) in varbinds.iter().enumerate() {
                    match self.mib.find(&vb.oid) {
                        Ok(at) if !(v1 && is_counter64(&self.mib.entries[at].value)) => out.push(
                            VarBind::new(vb.oid.clone(), self.view.value(&self.mib.entries[at])),
                        ),
                        _ if v1 => {
                            return Some(answer(NO_SUCH_NAME, i as i32 + 1, varbinds.clone()))
                        }
                        _ => out.push(VarBind::new(vb.oid.clone(), self.mib.missing(&vb.oid))),
                    }
                }
                out
            }
            PduKind::GetNext => {
                let mut out = Vec::with_capacity(varbinds.len());
                for (i, vb) in varbinds.iter().enumerate() {
                    match self.next_from(self.mib.next_index(&vb.oid), v1) {
                        Some(at) => {
                            let e = &self.mib.entries[at];
                            out.push(VarBind::new(e.oid.clone(), self.view.value(e)));
                        }
                        None if v1 => {
                            return Some(answer(NO_SUCH_NAME, i as i32 + 1, varbinds.clone()))
                        }
                        None => out.push(VarBind::new(vb.oid.clone(), Value::EndOfMibView)),
                    }
                }
                out
            }
            PduKind::Set => {
                let status = if v1 { NO_SUCH_NAME } else { NOT_WRITABLE };
                return Some(answer(status, 1, varbinds.clone()));
            }
            _ => return None,
        };
        let bytes = answer(0, 0, out);
        if bytes.len() > self.max_size {
            return Some(answer(TOO_BIG, 0, Vec::new()));
        }
        Some(bytes)
    }

    /// The first entry at or after `at` that this version may see (v1 skips Counter64).
    fn next_from(&self, mut at: usize, v1: bool) -> Option<usize> {
        while let Some(e) = self.mib.entries.get(at) {
            if !(v1 && is_counter64(&e.value)) {
                return Some(at);
            }
            at += 1;
        }
        None
    }

    fn bulk(&self, req: &CommunityMessage, p: &BulkPdu) -> Vec<u8> {
        let n = (p.non_repeaters.max(0) as usize).min(p.varbinds.len());
        let reps = p.max_repetitions.max(0) as usize;
        let mut size = reply(req, p.request_id, 0, 0, Vec::new()).len() + LENGTH_SLACK;
        let mut out = Vec::new();
        let entries = &self.mib.entries;

        // One step for a varbind: the next entry after `oid` (or at `at` when already known).
        let step = |at: usize, oid: &Oid| -> (VarBind, usize, Option<usize>) {
            match entries.get(at) {
                Some(e) => {
                    let v = self.view.value(e);
                    let len = varbind_len(e.oid_tlv, &v);
                    (VarBind::new(e.oid.clone(), v), len, Some(at + 1))
                }
                None => {
                    let len =
                        varbind_len(tlv_len(oid.to_ber_contents().len()), &Value::EndOfMibView);
                    (VarBind::new(oid.clone(), Value::EndOfMibView), len, None)
                }
            }
        };

        for vb in &p.varbinds[..n] {
            let (vb, len, _) = step(self.mib.next_index(&vb.oid), &vb.oid);
            size += len;
            if size > self.max_size {
                return reply(req, p.request_id, TOO_BIG, 0, Vec::new());
            }
            out.push(vb);
        }

        // Each repeater: the next index to serve, or None after endOfMibView (then its OID).
        let mut cursors: Vec<(Option<usize>, Oid)> = p.varbinds[n..]
            .iter()
            .map(|vb| (Some(self.mib.next_index(&vb.oid)), vb.oid.clone()))
            .collect();
        'reps: for _ in 0..reps {
            if cursors.is_empty() {
                break;
            }
            let mut all_ended = true;
            for (at, last) in cursors.iter_mut() {
                let (vb, len, next) = match *at {
                    Some(i) => step(i, last),
                    None => step(usize::MAX, last),
                };
                if size + len > self.max_size {
                    break 'reps;
                }
                size += len;
                if next.is_some() {
                    all_ended = false;
                    *last = vb.oid.clone();
                }
                *at = next;
                out.push(vb);
            }
            if all_ended {
                break;
            }
        }
        let mut bytes = reply(req, p.request_id, 0, 0, out.clone());
        // the estimate is an upper bound, so this never loops in practice
        while bytes.len() > self.max_size && out.len() > n {
            out.pop();
            bytes = reply(req, p.request_id, 0, 0, out.clone());
        }
        bytes
    }
}

fn reply(
    req: &CommunityMessage,
    request_id: i32,
    status: i32,
    index: i32,
    vbs: Vec<VarBind>,
) -> Vec<u8> {
    encode(&Message::Community(CommunityMessage {
        version: req.version,
        community: req.community.clone(),
        pdu: Pdu::Generic(GenericPdu {
            kind: PduKind::Response,
            request_id,
            error_status: status,
            error_index: index,
            varbinds: vbs,
        }),
    }))
}

// ---------------------------------------------------------------------------------------------
// Loading data.

/// A stable per-OID number (FNV-1a over the arcs), for per-OID counter rates.
fn oid_hash(oid: &Oid) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for a in oid.arcs() {
        for b in a.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One `.snmprec` line as (OID, value); None for lines we do not serve.
fn snmprec_line(line: &str) -> Option<(Oid, Value)> {
    let mut parts = line.splitn(3, '|');
    let oid: Oid = parts.next()?.trim().trim_start_matches('.').parse().ok()?;
    let tag = parts.next()?.trim();
    let text = parts.next().unwrap_or("");
    let (num, is_hex) = match tag.strip_suffix('x') {
        Some(t) => (t, true),
        None => (tag, false),
    };
    let bytes = || {
        if is_hex {
            hex(text)
        } else {
            Some(text.as_bytes().to_vec())
        }
    };
    let value = match num.parse::<u8>().ok()? {
        2 => Value::Integer(text.trim().parse().ok()?),
        4 => Value::OctetString(bytes()?),
        5 => Value::Null,
        6 => Value::Oid(text.trim().trim_start_matches('.').parse().ok()?),
        64 => Value::IpAddress(if is_hex {
            let b: [u8; 4] = hex(text)?.try_into().ok()?;
            Ipv4Addr::from(b)
        } else {
            text.trim().parse().ok()?
        }),
        65 => Value::Counter32(text.trim().parse().ok()?),
        66 => Value::Gauge32(text.trim().parse().ok()?),
        67 => Value::TimeTicks(text.trim().parse().ok()?),
        68 => Value::Opaque(bytes()?),
        70 => Value::Counter64(text.trim().parse().ok()?),
        _ => return None,
    };
    Some((oid, value))
}

/// Entries of a `.snmprec` text, and how many lines were skipped.
fn load_snmprec(text: &str, name_suffix: bool) -> (Vec<Entry>, usize) {
    let uptime = Oid::from_arcs(SYS_UPTIME).expect("OID");
    let sys_name = Oid::from_arcs(SYS_NAME).expect("OID");
    let mut skipped = 0;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((oid, value)) = snmprec_line(line) else {
            skipped += 1;
            continue;
        };
        let motion = match &value {
            Value::Counter32(_) | Value::Counter64(_) => {
                Motion::Counter(1 + oid_hash(&oid) % 10_000)
            }
            Value::TimeTicks(_) if oid == uptime => Motion::UpTime,
            Value::OctetString(_) if oid == sys_name && name_suffix => Motion::DeviceName,
            _ => Motion::Fixed,
        };
        out.push(Entry::new(oid, value, motion));
    }
    (out, skipped)
}

/// A Cisco Catalyst-like switch: system group, ifNumber, ifTable and ifXTable.
fn synthetic(interfaces: u32, name_suffix: bool) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut add = |arcs: &[u32], value: Value, motion: Motion| {
        out.push(Entry::new(
            Oid::from_arcs(arcs).expect("OID"),
            value,
            motion,
        ));
    };
    let s = |t: &str| Value::OctetString(t.as_bytes().to_vec());
    let sys = [1, 3, 6, 1, 2, 1, 1];
    let at =
        |base: &[u32], more: &[u32]| -> Vec<u32> { base.iter().chain(more).copied().collect() };
    add(&at(&sys, &[1, 0]), s("Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE3, RELEASE SOFTWARE (fc1)\r\nTechnical Support: http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2011 by Cisco Systems, Inc.\r\nCompiled Thu 05-May-11 16:56 by prod_rel_team"), Motion::Fixed);
    add(
        &at(&sys, &[2, 0]),
        Value::Oid("1.3.6.1.4.1.9.1.617".parse().expect("OID")),
        Motion::Fixed,
    );
    add(
        &at(&sys, &[3, 0]),
        Value::TimeTicks(123_456_789),
        Motion::UpTime,
    );
    add(&at(&sys, &[4, 0]), s("noc@example.net"), Motion::Fixed);
    let name_motion = if name_suffix {
        Motion::DeviceName
    } else {
        Motion::Fixed
    };
    add(&at(&sys, &[5, 0]), s("sim-c3560"), name_motion);
    add(&at(&sys, &[6, 0]), s("simulated rack 1"), Motion::Fixed);
    add(&at(&sys, &[7, 0]), Value::Integer(6), Motion::Fixed);
    add(
        &[1, 3, 6, 1, 2, 1, 2, 1, 0],
        Value::Integer(interfaces as i32),
        Motion::Fixed,
    );

    let if_entry = [1, 3, 6, 1, 2, 1, 2, 2, 1];
    let ifx_entry = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1];
    for i in 0..interfaces {
        let idx = 10101 + i;
        let port = i + 1;
        let admin_up = i % 10 != 9;
        let oper_up = admin_up && i % 9 != 8;
        // load: 1..10 % of 1 Gbit/s in, 60 % of that out; packets of ~800 bytes
        let in_rate = if oper_up {
            1_250_000 * u64::from(i % 10 + 1)
        } else {
            0
        };
        let out_rate = in_rate * 6 / 10;
        let (in_pkts, out_pkts) = (in_rate / 800, out_rate / 800);
        let err_rate = u64::from(oper_up && i % 7 == 0);
        let base = |k: u64| (u64::from(i) + 1) * 987_654_321 * k;
        let c32 = |k: u64| Value::Counter32(base(k) as u32);
        let c64 = |k: u64| Value::Counter64(base(k));
        let cnt = Motion::Counter;
        let col = |c: u32| at(&if_entry, &[c, idx]);
        let xcol = |c: u32| at(&ifx_entry, &[c, idx]);
        let status = |up: bool| Value::Integer(if up { 1 } else { 2 });
        add(&col(1), Value::Integer(idx as i32), Motion::Fixed);
        add(
            &col(2),
            s(&format!("GigabitEthernet0/{port}")),
            Motion::Fixed,
        );
        add(&col(3), Value::Integer(6), Motion::Fixed);
        add(&col(4), Value::Integer(1500), Motion::Fixed);
        add(&col(5), Value::Gauge32(1_000_000_000), Motion::Fixed);
        add(
            &col(6),
            Value::OctetString(vec![0x00, 0x1b, 0x54, 0xc2, (i >> 8) as u8, i as u8]),
            Motion::Fixed,
        );
        add(&col(7), status(admin_up), Motion::Fixed);
        add(&col(8), status(oper_up), Motion::Fixed);
        add(&col(9), Value::TimeTicks(4_200 + i), Motion::Fixed);
        add(&col(10), c32(11), cnt(in_rate));
        add(&col(11), c32(12), cnt(in_pkts));
        add(&col(12), c32(13), cnt(in_pkts / 100));
        add(&col(13), c32(14), cnt(err_rate));
        add(&col(14), c32(15), cnt(err_rate));
        add(&col(15), c32(16), cnt(0));
        add(&col(16), c32(17), cnt(out_rate));
        add(&col(17), c32(18), cnt(out_pkts));
        add(&col(18), c32(19), cnt(out_pkts / 100));
        add(&col(19), c32(20), cnt(err_rate));
        add(&col(20), c32(21), cnt(0));
        add(&col(21), Value::Gauge32(0), Motion::Fixed);
        add(
            &col(22),
            Value::Oid("0.0".parse().expect("OID")),
            Motion::Fixed,
        );
        add(&xcol(1), s(&format!("Gi0/{port}")), Motion::Fixed);
        add(&xcol(2), c32(13), cnt(in_pkts / 100));
        add(&xcol(3), c32(22), cnt(in_pkts / 200));
        add(&xcol(4), c32(19), cnt(out_pkts / 100));
        add(&xcol(5), c32(23), cnt(out_pkts / 200));
        add(&xcol(6), c64(11), cnt(in_rate));
        add(&xcol(7), c64(12), cnt(in_pkts));
        add(&xcol(8), c64(13), cnt(in_pkts / 100));
        add(&xcol(9), c64(22), cnt(in_pkts / 200));
        add(&xcol(10), c64(17), cnt(out_rate));
        add(&xcol(11), c64(18), cnt(out_pkts));
        add(&xcol(12), c64(19), cnt(out_pkts / 100));
        add(&xcol(13), c64(23), cnt(out_pkts / 200));
        add(&xcol(14), Value::Integer(1), Motion::Fixed);
        add(&xcol(15), Value::Gauge32(1000), Motion::Fixed);
        add(&xcol(16), Value::Integer(2), Motion::Fixed);
        add(&xcol(17), Value::Integer(1), Motion::Fixed);
        let alias = if i % 4 == 3 {
            String::new()
        } else {
            format!("sim link {port}")
        };
        add(&xcol(18), s(&alias), Motion::Fixed);
        add(&xcol(19), Value::TimeTicks(0), Motion::Fixed);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// IO: one task per socket.

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    responses: AtomicU64,
    bad_community: AtomicU64,
    undecodable: AtomicU64,
}

struct Shared {
    mibs: Vec<Mib>,
    community: String,
    max_size: usize,
    frozen: bool,
    delay: std::time::Duration,
    start: Instant,
    stats: Stats,
}

fn agent_addrs(args: &Args) -> Result<Vec<SocketAddr>, String> {
    let IpAddr::V4(first) = args.listen.ip() else {
        return Err("--listen must be an IPv4 loopback address".into());
    };
    if !first.is_loopback() {
        return Err(format!("{first} is not a loopback address"));
    }
    (0..args.count)
        .map(|i| match args.spread {
            Spread::Addr => {
                let ip = Ipv4Addr::from(u32::from(first).checked_add(i).ok_or("address overflow")?);
                if !ip.is_loopback() {
                    return Err(format!(
                        "{} agents from {first} leave 127.0.0.0/8",
                        args.count
                    ));
                }
                Ok(SocketAddr::new(ip.into(), args.listen.port()))
            }
            Spread::Port => {
                let port = u32::from(args.listen.port()) + i;
                let port = u16::try_from(port).map_err(|_| "ports run past 65535".to_string())?;
                Ok(SocketAddr::new(first.into(), port))
            }
        })
        .collect()
}

/// Lets the process hold one socket per agent (the soft limit is often 1024).
fn raise_nofile(need: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0
            && lim.rlim_cur < need as libc::rlim_t
        {
            lim.rlim_cur = lim.rlim_max.min(need as libc::rlim_t);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

thread_local! {
    /// One receive buffer per runtime thread, not per socket: 1,000 agents would otherwise hold
    /// 64 MB of buffers.
    static RECV_BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 65_536]);
}

async fn serve(sock: tokio::net::UdpSocket, device: u32, shared: Arc<Shared>) {
    let mib = &shared.mibs[device as usize % shared.mibs.len()];
    loop {
        if sock.readable().await.is_err() {
            continue;
        }
        // decode and answer synchronously while the shared buffer is borrowed; send afterwards
        let got = RECV_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            // WouldBlock after a spurious wake-up clears the readiness; other errors: next datagram
            let Ok((n, from)) = sock.try_recv_from(&mut buf) else {
                return None;
            };
            shared.stats.requests.fetch_add(1, Relaxed);
            let req = match decode(&buf[..n]) {
                Ok(Message::Community(m)) => m,
                _ => {
                    shared.stats.undecodable.fetch_add(1, Relaxed);
                    return None;
                }
            };
            if req.community != shared.community {
                shared.stats.bad_community.fetch_add(1, Relaxed);
                return None;
            }
            let responder = Responder {
                mib,
                view: View {
                    device,
                    elapsed_ms: shared.start.elapsed().as_millis() as u64,
                    frozen: shared.frozen,
                },
                max_size: shared.max_size,
            };
            responder.respond(&req).map(|bytes| (bytes, from))
        });
        if let Some((bytes, from)) = got {
            if !shared.delay.is_zero() {
                // serially: the next request of this agent waits behind this one
                tokio::time::sleep(shared.delay).await;
            }
            if sock.send_to(&bytes, from).await.is_ok() {
                shared.stats.responses.fetch_add(1, Relaxed);
            }
        }
    }
}

fn main() {
    let args = Args::parse();
    let fail = |why: String| -> ! {
        eprintln!("snmpagent: {why}");
        std::process::exit(2)
    };
    let suffix = args.count > 1;
    let mibs: Vec<Mib> = match (&args.interfaces, args.snmprec.is_empty()) {
        (Some(n), true) => vec![Mib::new(synthetic(*n, suffix))],
        (None, false) => args
            .snmprec
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p)
                    .unwrap_or_else(|e| fail(format!("cannot read {}: {e}", p.display())));
                let (entries, skipped) = load_snmprec(&text, suffix);
                if skipped > 0 {
                    eprintln!(
                        "snmpagent: {}: skipped {skipped} lines we do not serve",
                        p.display()
                    );
                }
                Mib::new(entries)
            })
            .collect(),
        _ => fail("give either --interfaces N or --snmprec FILE".into()),
    };
    let addrs = agent_addrs(&args).unwrap_or_else(|e| fail(e));
    raise_nofile(u64::from(args.count) + 256);
    let shared = Arc::new(Shared {
        mibs,
        community: args.community.clone(),
        max_size: args.max_size,
        frozen: args.frozen,
        delay: std::time::Duration::from_millis(args.delay_ms),
        start: Instant::now(),
        stats: Stats::default(),
    });
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .unwrap_or_else(|e| fail(format!("runtime: {e}")));
    rt.block_on(async {
        for (device, addr) in addrs.iter().enumerate() {
            let sock = tokio::net::UdpSocket::bind(addr)
                .await
                .unwrap_or_else(|e| fail(format!("bind {addr}: {e}")));
            tokio::spawn(serve(sock, device as u32, shared.clone()));
        }
        let oids: Vec<String> = shared
            .mibs
            .iter()
            .map(|m| m.entries.len().to_string())
            .collect();
        println!(
            "ready {} agents on {}..{} ({} OIDs)",
            addrs.len(),
            addrs[0],
            addrs[addrs.len() - 1],
            oids.join("/")
        );
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .unwrap_or_else(|e| fail(format!("signal: {e}")));
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        let s = &shared.stats;
        eprintln!(
            "snmpagent: {} requests, {} responses, {} bad community, {} undecodable",
            s.requests.load(Relaxed),
            s.responses.load(Relaxed),
            s.bad_community.load(Relaxed),
            s.undecodable.load(Relaxed),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    fn mib() -> Mib {
        let text = "1.3.6.1.2.1.1.1.0|4|box\n\
                    1.3.6.1.2.1.1.3.0|67|100\n\
                    1.3.6.1.2.1.2.2.1.2.1|4|eth0\n\
                    1.3.6.1.2.1.2.2.1.2.2|4x|65746831\n\
                    1.3.6.1.2.1.2.2.1.10.1|65|5\n\
                    1.3.6.1.2.1.2.2.1.10.2|65|6\n\
                    1.3.6.1.2.1.31.1.1.1.6.1|70|7\n\
                    1.3.6.1.2.1.31.1.1.1.15.1|66|1000\n\
                    1.3.6.1.2.1.99.1|2:numeric|1\n";
        let (entries, skipped) = load_snmprec(text, false);
        assert_eq!(skipped, 1);
        Mib::new(entries)
    }

    fn ask(mib: &Mib, version: Version, pdu: Pdu, max_size: usize) -> GenericPdu {
        let r = Responder {
            mib,
            view: View {
                device: 0,
                elapsed_ms: 0,
                frozen: true,
            },
            max_size,
        };
        let req = CommunityMessage {
            version,
            community: "public".into(),
            pdu,
        };
        let bytes = r.respond(&req).expect("a response");
        assert!(bytes.len() <= max_size);
        match decode(&bytes).unwrap() {
            Message::Community(CommunityMessage {
                pdu: Pdu::Generic(p),
                ..
            }) => p,
            other => panic!("{other:?}"),
        }
    }

    fn generic(kind: PduKind, oids: &[&str]) -> Pdu {
        Pdu::Generic(GenericPdu {
            kind,
            request_id: 7,
            error_status: 0,
            error_index: 0,
            varbinds: oids.iter().map(|o| VarBind::null(oid(o))).collect(),
        })
    }

    fn bulk(non_rep: i32, reps: i32, oids: &[&str]) -> Pdu {
        Pdu::GetBulk(BulkPdu {
            request_id: 9,
            non_repeaters: non_rep,
            max_repetitions: reps,
            varbinds: oids.iter().map(|o| VarBind::null(oid(o))).collect(),
        })
    }

    fn names(p: &GenericPdu) -> Vec<String> {
        p.varbinds.iter().map(|v| v.oid.to_string()).collect()
    }

    #[test]
    fn get_answers_values_and_exceptions() {
        let m = mib();
        let p = ask(
            &m,
            Version::V2c,
            generic(
                PduKind::Get,
                &[
                    "1.3.6.1.2.1.2.2.1.2.2",
                    "1.3.6.1.2.1.2.2.1.2.9",
                    "1.3.6.1.2.1.7.1.0",
                ],
            ),
            1472,
        );
        assert_eq!(p.request_id, 7);
        assert_eq!(p.varbinds[0].value, Value::OctetString(b"eth1".to_vec()));
        assert_eq!(p.varbinds[1].value, Value::NoSuchInstance);
        assert_eq!(p.varbinds[2].value, Value::NoSuchObject);
        // v1: noSuchName with the index, and Counter64 is invisible
        let p = ask(
            &m,
            Version::V1,
            generic(
                PduKind::Get,
                &["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.31.1.1.1.6.1"],
            ),
            1472,
        );
        assert_eq!((p.error_status, p.error_index), (NO_SUCH_NAME, 2));
    }

    #[test]
    fn getnext_walks_in_order_and_ends() {
        let m = mib();
        let p = ask(
            &m,
            Version::V2c,
            generic(
                PduKind::GetNext,
                &["1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.31.1.1.1.15.1"],
            ),
            1472,
        );
        assert_eq!(
            names(&p),
            ["1.3.6.1.2.1.2.2.1.2.1", "1.3.6.1.2.1.31.1.1.1.15.1"]
        );
        assert_eq!(p.varbinds[1].value, Value::EndOfMibView);
        // v1 skips the Counter64 and reports the end as noSuchName
        let p = ask(
            &m,
            Version::V1,
            generic(PduKind::GetNext, &["1.3.6.1.2.1.2.2.1.10.2"]),
            1472,
        );
        assert_eq!(names(&p), ["1.3.6.1.2.1.31.1.1.1.15.1"]);
        let p = ask(
            &m,
            Version::V1,
            generic(PduKind::GetNext, &["1.3.6.1.2.1.31.1.1.1.15.1"]),
            1472,
        );
        assert_eq!((p.error_status, p.error_index), (NO_SUCH_NAME, 1));
    }

    #[test]
    fn getbulk_repeats_columns_and_stops_at_the_end() {
        let m = mib();
        let p = ask(
            &m,
            Version::V2c,
            bulk(
                1,
                3,
                &[
                    "1.3.6.1.2.1.1.1.0",
                    "1.3.6.1.2.1.2.2.1.2",
                    "1.3.6.1.2.1.31.1.1.1.6",
                ],
            ),
            1472,
        );
        assert_eq!(
            names(&p),
            [
                "1.3.6.1.2.1.1.3.0",
                "1.3.6.1.2.1.2.2.1.2.1",
                "1.3.6.1.2.1.31.1.1.1.6.1",
                "1.3.6.1.2.1.2.2.1.2.2",
                "1.3.6.1.2.1.31.1.1.1.15.1",
                "1.3.6.1.2.1.2.2.1.10.1",
                "1.3.6.1.2.1.31.1.1.1.15.1",
            ]
        );
        assert_eq!(p.varbinds[6].value, Value::EndOfMibView);
        // everything ended: no more repetitions even if asked for many
        let p = ask(
            &m,
            Version::V2c,
            bulk(0, 1000, &["1.3.6.1.2.1.31.1.1.1.15"]),
            1472,
        );
        assert_eq!(p.varbinds.len(), 2);
        assert_eq!(p.varbinds[1].value, Value::EndOfMibView);
    }

    #[test]
    fn getbulk_is_cut_at_the_size_limit() {
        let m = Mib::new(synthetic(200, false));
        for max in [200usize, 484, 1472, 8192] {
            let p = ask(
                &m,
                Version::V2c,
                bulk(0, 10_000, &["1.3.6.1.2.1.2.2.1.2"]),
                max,
            );
            assert_eq!(p.error_status, 0);
            assert!(!p.varbinds.is_empty());
            // the next varbind would not have fitted: fewer than ~40 bytes are left unused
            let used = reply(
                &CommunityMessage {
                    version: Version::V2c,
                    community: "public".into(),
                    pdu: bulk(0, 0, &[]),
                },
                9,
                0,
                0,
                p.varbinds.clone(),
            )
            .len();
            assert!(max - used < 60, "{max}: used {used}");
        }
        // a GET whose answer cannot fit is tooBig
        let many: Vec<String> = (0..200)
            .map(|i| format!("1.3.6.1.2.1.2.2.1.2.{}", 10101 + i))
            .collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let p = ask(&m, Version::V2c, generic(PduKind::Get, &refs), 1472);
        assert_eq!((p.error_status, p.varbinds.len()), (TOO_BIG, 0));
    }

    #[test]
    fn size_estimate_matches_the_encoder() {
        let values = [
            Value::Integer(0),
            Value::Integer(-129),
            Value::Integer(i32::MAX),
            Value::Counter32(u32::MAX),
            Value::Counter64(u64::MAX),
            Value::Counter64(127),
            Value::TimeTicks(128),
            Value::OctetString(vec![b'x'; 300]),
            Value::Oid(oid("1.3.6.1.4.1.9.1.617")),
            Value::IpAddress(Ipv4Addr::LOCALHOST),
            Value::EndOfMibView,
        ];
        let o = oid("1.3.6.1.2.1.31.1.1.1.6.4294967295");
        let empty = reply(
            &CommunityMessage {
                version: Version::V2c,
                community: "c".into(),
                pdu: bulk(0, 0, &[]),
            },
            1,
            0,
            0,
            vec![],
        )
        .len();
        for v in values {
            let n = reply(
                &CommunityMessage {
                    version: Version::V2c,
                    community: "c".into(),
                    pdu: bulk(0, 0, &[]),
                },
                1,
                0,
                0,
                vec![VarBind::new(o.clone(), v.clone())],
            )
            .len();
            let est = varbind_len(tlv_len(o.to_ber_contents().len()), &v);
            assert!(
                n - empty >= est && n - empty <= est + LENGTH_SLACK,
                "{v:?}: {n} - {empty} vs {est}"
            );
        }
    }

    #[test]
    fn counters_move_with_time_and_differ_per_device() {
        let m = Mib::new(synthetic(2, true));
        let e = m
            .entries
            .iter()
            .find(|e| e.oid == oid("1.3.6.1.2.1.31.1.1.1.6.10101"))
            .unwrap();
        let at = |device, elapsed_ms| {
            View {
                device,
                elapsed_ms,
                frozen: false,
            }
            .value(e)
        };
        let (Value::Counter64(a), Value::Counter64(b)) = (at(0, 0), at(0, 10_000)) else {
            panic!()
        };
        assert!(b > a);
        assert_ne!(at(1, 10_000), at(0, 10_000));
        let name = m
            .entries
            .iter()
            .find(|e| e.oid == oid("1.3.6.1.2.1.1.5.0"))
            .unwrap();
        assert_eq!(
            View {
                device: 3,
                elapsed_ms: 0,
                frozen: false
            }
            .value(name),
            Value::OctetString(b"sim-c3560-3".to_vec())
        );
    }
}
