//! [`Walk`]: the multi-column walk state machine. Several roots (columns or whole subtrees) go
//! into one GETBULK or GETNEXT; each root ends on its own when a reply leaves its subtree, says
//! endOfMibView, or goes backwards. A truncated GETBULK reply (RFC 3416 §4.2.3 lets agents drop
//! trailing varbinds) just moves each root as far as its varbinds go; the next request continues
//! from there. Roots not in a request can be in another one at the same time, so a caller can
//! keep several requests outstanding.

use super::status;
use crate::proto::snmp::message::{GenericPdu, Value, VarBind};
use crate::proto::snmp::Oid;

/// Why a root's walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The next OID is outside the root (the normal end).
    LeftSubtree,
    EndOfMibView,
    /// The agent returned an OID not after the previous one (a broken agent; net-snmp `-Cc`).
    NonIncreasing,
    /// v1 noSuchName on GETNEXT: nothing after this OID.
    NoSuchName,
    /// noSuchObject/noSuchInstance in a GETNEXT/GETBULK reply, which a sane agent never sends.
    Exception,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ready,
    InFlight,
    Done(EndReason),
}

/// Where a walk starts and which OIDs belong to it: those whose first `scope` arcs equal
/// `start`'s. A plain root is its own start with `scope` = its length; net-snmp's `.1`, which BER
/// cannot carry (an OID has two arcs), starts at `1.0` with scope 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkRoot {
    pub start: Oid,
    pub scope: usize,
}

impl From<&Oid> for WalkRoot {
    fn from(o: &Oid) -> WalkRoot {
        WalkRoot {
            start: o.clone(),
            scope: o.len(),
        }
    }
}

impl WalkRoot {
    /// `1.3.6` or `.1.3.6` text; a single arc `N` (or `.N`) walks everything under it.
    pub fn parse(text: &str) -> Result<WalkRoot, crate::proto::snmp::oid::OidError> {
        let t = text.strip_prefix('.').unwrap_or(text);
        if let Ok(arc) = t.parse::<u32>() {
            return Ok(WalkRoot {
                start: Oid::from_arcs(&[arc, 0])?,
                scope: 1,
            });
        }
        Ok(WalkRoot::from(&t.parse::<Oid>()?))
    }

    fn contains(&self, oid: &Oid) -> bool {
        let scope = self
            .start
            .arcs()
            .get(..self.scope)
            .unwrap_or(self.start.arcs());
        oid.arcs().starts_with(scope)
    }
}

#[derive(Debug)]
struct Column {
    root: WalkRoot,
    /// Where the next request continues: the last OID found, or the root.
    cursor: Oid,
    found: Vec<VarBind>,
    state: State,
}

/// One request the walk wants sent: GETBULK with `max_repetitions`, or GETNEXT when `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkRequest {
    /// Indices of the roots this request carries, in varbind order.
    pub columns: Vec<usize>,
    /// The OIDs to put in the request (each root's cursor).
    pub oids: Vec<Oid>,
    pub max_repetitions: Option<u32>,
}

/// What the caller should do after [`Walk::on_reply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Roots moved on or ended: keep going (a success for the adaptive sizes).
    Advanced,
    /// tooBig or an empty reply: ask again with fewer repetitions or fewer roots.
    Shrink,
    /// The agent refused GETBULK with an error-status: ask again with GETNEXT.
    FallBackToGetNext,
    /// The walk cannot go on: the reply's error-status and index (0 and 0 for replies that kept
    /// coming back empty).
    Fail { status: i32, index: u32 },
}

/// Empty replies in a row before a walk gives up.
const MAX_STALLS: u32 = 3;

/// What a reply did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// At least one root moved on or ended.
    Advanced,
    /// Nothing usable (an empty reply): the caller should shrink the request or give up.
    Stalled,
}

#[derive(Debug)]
pub struct Walk {
    columns: Vec<Column>,
    non_increasing: u64,
    keep_end_markers: bool,
    stalls: u32,
}

impl Walk {
    pub fn new(roots: &[Oid]) -> Walk {
        let roots: Vec<WalkRoot> = roots.iter().map(WalkRoot::from).collect();
        Walk::with_roots(&roots, false)
    }

    /// Explicit roots; `keep_end_markers` as in [`Walk::with_end_markers`].
    pub fn with_roots(roots: &[WalkRoot], keep_end_markers: bool) -> Walk {
        Walk {
            keep_end_markers,
            columns: roots
                .iter()
                .map(|r| Column {
                    root: r.clone(),
                    cursor: r.start.clone(),
                    found: Vec::new(),
                    state: State::Ready,
                })
                .collect(),
            non_increasing: 0,
            stalls: 0,
        }
    }

    /// Like [`Walk::new`], but an endOfMibView/noSuchObject/noSuchInstance varbind that ends a
    /// root and whose OID is inside it stays in the results, as `snmpbulkwalk` prints it.
    pub fn with_end_markers(roots: &[Oid]) -> Walk {
        Walk {
            keep_end_markers: true,
            ..Walk::new(roots)
        }
    }

    /// The next request for up to `batch` roots that are neither finished nor in flight.
    pub fn next_request(
        &mut self,
        batch: usize,
        max_repetitions: Option<u32>,
    ) -> Option<WalkRequest> {
        let mut columns = Vec::new();
        let mut oids = Vec::new();
        for (i, c) in self.columns.iter_mut().enumerate() {
            if columns.len() >= batch.max(1) {
                break;
            }
            if c.state == State::Ready {
                c.state = State::InFlight;
                columns.push(i);
                oids.push(c.cursor.clone());
            }
        }
        (!columns.is_empty()).then_some(WalkRequest {
            columns,
            oids,
            max_repetitions: max_repetitions.map(|m| m.max(1)),
        })
    }

    /// Takes a reply's varbinds. GETBULK replies are row-major (varbind `i` belongs to the
    /// request's column `i % n`); a GETNEXT reply is the single row.
    pub fn on_response(&mut self, req: &WalkRequest, varbinds: Vec<VarBind>) -> Progress {
        let n = req.columns.len();
        let mut progressed = false;
        if n == 0 {
            return Progress::Stalled;
        }
        let limit = n * req.max_repetitions.unwrap_or(1).max(1) as usize;
        // columns that ended on an exception in this reply: snmpbulkwalk prints the exceptions
        // that follow in the same reply too (agents repeat endOfMibView for every repetition)
        let mut ended_on_exception = vec![false; n];
        for (i, vb) in varbinds.into_iter().take(limit).enumerate() {
            let Some(c) = req
                .columns
                .get(i % n)
                .and_then(|&c| self.columns.get_mut(c))
            else {
                continue;
            };
            if c.state != State::InFlight {
                let exception = matches!(
                    vb.value,
                    Value::EndOfMibView | Value::NoSuchObject | Value::NoSuchInstance
                );
                if ended_on_exception[i % n] && exception && c.root.contains(&vb.oid) {
                    c.found.push(vb);
                }
                continue;
            }
            progressed = true;
            let last = c.found.last().map_or(&c.cursor, |v| &v.oid);
            let end = match vb.value {
                Value::EndOfMibView => Some(EndReason::EndOfMibView),
                Value::NoSuchObject | Value::NoSuchInstance => Some(EndReason::Exception),
                _ if !c.root.contains(&vb.oid) => Some(EndReason::LeftSubtree),
                _ if vb.oid <= *last => Some(EndReason::NonIncreasing),
                _ => None,
            };
            match end {
                Some(reason) => {
                    if reason == EndReason::NonIncreasing {
                        self.non_increasing += 1;
                    }
                    let exception =
                        matches!(reason, EndReason::EndOfMibView | EndReason::Exception);
                    if exception && self.keep_end_markers && c.root.contains(&vb.oid) {
                        c.found.push(vb);
                        ended_on_exception[i % n] = true;
                    }
                    c.state = State::Done(reason);
                }
                None => c.found.push(vb),
            }
        }
        for &i in &req.columns {
            if let Some(c) = self.columns.get_mut(i) {
                if let Some(last) = c.found.last() {
                    if c.cursor != last.oid {
                        c.cursor = last.oid.clone();
                    }
                }
                if c.state == State::InFlight {
                    c.state = State::Ready;
                }
            }
        }
        if progressed {
            Progress::Advanced
        } else {
            Progress::Stalled
        }
    }

    /// Takes a whole reply to `req` and decides what comes next. `v1`: the agent speaks SNMPv1,
    /// where noSuchName to a GETNEXT means "nothing after this OID".
    pub fn on_reply(&mut self, req: &WalkRequest, pdu: GenericPdu, v1: bool) -> Step {
        let bulk = req.max_repetitions.is_some();
        let fail = Step::Fail {
            status: pdu.error_status,
            index: u32::try_from(pdu.error_index).unwrap_or(0),
        };
        match pdu.error_status {
            status::NO_ERROR => match self.on_response(req, pdu.varbinds) {
                Progress::Advanced => {
                    self.stalls = 0;
                    Step::Advanced
                }
                Progress::Stalled => {
                    self.stalls += 1;
                    if self.stalls > MAX_STALLS {
                        Step::Fail {
                            status: 0,
                            index: 0,
                        }
                    } else {
                        Step::Shrink
                    }
                }
            },
            status::TOO_BIG => {
                self.release(req);
                if req.columns.len() == 1 && req.max_repetitions.unwrap_or(1) <= 1 {
                    fail
                } else {
                    Step::Shrink
                }
            }
            status::NO_SUCH_NAME if v1 && !bulk => {
                let at = usize::try_from(pdu.error_index).unwrap_or(0);
                match at.checked_sub(1).filter(|&i| i < req.columns.len()) {
                    Some(i) => {
                        self.end_column(req, i, EndReason::NoSuchName);
                        Step::Advanced
                    }
                    None => fail,
                }
            }
            _ if bulk => {
                self.release(req);
                Step::FallBackToGetNext
            }
            _ => fail,
        }
    }

    /// The request failed (tooBig, timeout, an error-status): its roots can be asked again.
    pub fn release(&mut self, req: &WalkRequest) {
        for &i in &req.columns {
            if let Some(c) = self.columns.get_mut(i) {
                if c.state == State::InFlight {
                    c.state = State::Ready;
                }
            }
        }
    }

    /// Ends the root at `index` within `req` (v1 noSuchName) and releases the others.
    pub fn end_column(&mut self, req: &WalkRequest, index: usize, reason: EndReason) {
        if let Some(c) = req
            .columns
            .get(index)
            .and_then(|&c| self.columns.get_mut(c))
        {
            c.state = State::Done(reason);
        }
        self.release(req);
    }

    pub fn is_done(&self) -> bool {
        self.columns
            .iter()
            .all(|c| matches!(c.state, State::Done(_)))
    }

    /// Roots that have neither ended nor a request in flight.
    pub fn ready(&self) -> usize {
        self.columns
            .iter()
            .filter(|c| c.state == State::Ready)
            .count()
    }

    /// How many roots ended on a non-increasing OID.
    pub fn non_increasing(&self) -> u64 {
        self.non_increasing
    }

    /// Why each root ended (`None` while it runs), in root order.
    pub fn ends(&self) -> Vec<Option<EndReason>> {
        self.columns
            .iter()
            .map(|c| match c.state {
                State::Done(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// The values found: each root's in OID order,
    /// roots in the order given.
    pub fn into_varbinds(self) -> Vec<VarBind> {
        let total = self.columns.iter().map(|c| c.found.len()).sum();
        let mut out = Vec::with_capacity(total);
        for c in self.columns {
            out.extend(c.found);
        }
        out
    }
}
