//! [`Batches`]: GET or GETNEXT of many OIDs in batches. tooBig splits a batch in halves; v1
//! noSuchName takes out the OID it names (its value becomes noSuchObject, or endOfMibView for
//! GETNEXT) and asks again for the rest. Values come back in request order.

use std::collections::VecDeque;

use super::status;
use crate::proto::snmp::message::{GenericPdu, PduKind, Value, VarBind};
use crate::proto::snmp::Oid;

/// One batch to send: `kind` of `oids`, which are the request's OIDs at `indices`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRequest {
    pub indices: Vec<usize>,
    pub oids: Vec<Oid>,
}

/// What the caller should do after [`Batches::on_reply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchStep {
    /// The batch's values are in (a success for the adaptive batch size).
    Done,
    /// tooBig: the batch goes out again as two halves (a failure for the batch size).
    Split,
    /// v1 noSuchName: one OID settled, the rest go out again.
    Retry,
    /// An error-status that ends the request, with the OID it names.
    Fail {
        status: i32,
        index: u32,
        oid: Option<Oid>,
    },
    /// The reply does not fit the request.
    Malformed(String),
}

#[derive(Debug)]
pub struct Batches {
    kind: PduKind,
    oids: Vec<Oid>,
    out: Vec<Option<VarBind>>,
    queue: VecDeque<Vec<usize>>,
}

impl Batches {
    pub fn new(kind: PduKind, oids: &[Oid], batch: usize) -> Batches {
        let idx: Vec<usize> = (0..oids.len()).collect();
        Batches {
            kind,
            oids: oids.to_vec(),
            out: vec![None; oids.len()],
            queue: idx.chunks(batch.max(1)).map(<[usize]>::to_vec).collect(),
        }
    }

    pub fn kind(&self) -> PduKind {
        self.kind
    }

    /// The next batch to send, if any is waiting.
    pub fn next_request(&mut self) -> Option<BatchRequest> {
        let indices = self.queue.pop_front()?;
        let oids = indices
            .iter()
            .filter_map(|&i| self.oids.get(i).cloned())
            .collect();
        Some(BatchRequest { indices, oids })
    }

    pub fn on_reply(&mut self, req: BatchRequest, pdu: GenericPdu, v1: bool) -> BatchStep {
        let n = req.indices.len();
        let index = u32::try_from(pdu.error_index).unwrap_or(0);
        let named = (index as usize).checked_sub(1).filter(|&i| i < n);
        match pdu.error_status {
            status::NO_ERROR if pdu.varbinds.len() == n => {
                for (i, vb) in req.indices.into_iter().zip(pdu.varbinds) {
                    if let Some(slot) = self.out.get_mut(i) {
                        *slot = Some(vb);
                    }
                }
                BatchStep::Done
            }
            status::NO_ERROR => BatchStep::Malformed(format!(
                "{} varbinds in the reply to {n}",
                pdu.varbinds.len()
            )),
            status::TOO_BIG if n > 1 => {
                let (a, b) = req.indices.split_at(n / 2);
                self.queue.push_front(b.to_vec());
                self.queue.push_front(a.to_vec());
                BatchStep::Split
            }
            status::NO_SUCH_NAME if v1 && named.is_some() => {
                let bad = named.and_then(|i| req.indices.get(i).copied()).unwrap_or(0);
                let value = match self.kind {
                    PduKind::GetNext => Value::EndOfMibView,
                    _ => Value::NoSuchObject,
                };
                if let (Some(slot), Some(o)) = (self.out.get_mut(bad), self.oids.get(bad)) {
                    *slot = Some(VarBind::new(o.clone(), value));
                }
                let rest: Vec<usize> = req.indices.into_iter().filter(|&i| i != bad).collect();
                if !rest.is_empty() {
                    self.queue.push_front(rest);
                }
                BatchStep::Retry
            }
            s => BatchStep::Fail {
                status: s,
                index,
                oid: named.and_then(|i| req.oids.get(i).cloned()),
            },
        }
    }

    /// The values in request order (noSuchObject for any never answered).
    pub fn finish(self) -> Vec<VarBind> {
        self.out
            .into_iter()
            .zip(self.oids)
            .map(|(v, o)| v.unwrap_or(VarBind::new(o, Value::NoSuchObject)))
            .collect()
    }
}
