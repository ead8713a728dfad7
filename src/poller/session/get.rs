//! GET and GETNEXT in batches (`client::Batches` decides), up to `max_in_flight` at once.

use super::{bump, lock, next_done, InFlight, Session};
use crate::proto::snmp::client::{generic_pdu, BatchRequest, BatchStep, Batches, SnmpError};
use crate::proto::snmp::message::{PduKind, VarBind};
use crate::proto::snmp::Oid;

impl Session {
    pub(super) async fn batched(
        &self,
        kind: PduKind,
        oids: &[Oid],
    ) -> Result<Vec<VarBind>, SnmpError> {
        let batch = lock(&self.sizes).batch.current() as usize;
        let mut batches = Batches::new(kind, oids, batch);
        let mut running: Vec<InFlight<'_, BatchRequest>> = Vec::new();
        let counter = match kind {
            PduKind::GetNext => &self.counters.getnext,
            _ => &self.counters.get,
        };
        loop {
            while running.len() < self.cfg.max_in_flight.max(1) {
                let Some(req) = batches.next_request() else {
                    break;
                };
                running.push(Box::pin(async move {
                    let r = self
                        .request(|id| generic_pdu(kind, id, &req.oids), counter)
                        .await;
                    (req, r)
                }));
            }
            let Some((req, r)) = next_done(&mut running).await else {
                break;
            };
            let pdu = r?;
            lock(&self.sizes).answered = true;
            let now = self.now();
            let n = req.indices.len() as u32;
            match batches.on_reply(req, pdu, self.is_v1()) {
                BatchStep::Done => lock(&self.sizes).batch.success(n, now),
                BatchStep::Split => {
                    bump(&self.counters.too_big);
                    lock(&self.sizes).batch.failure(n, now);
                }
                BatchStep::Retry => {}
                BatchStep::Fail { status, index, oid } => {
                    return Err(SnmpError::ErrorStatus {
                        target: self.cfg.target,
                        status,
                        index,
                        oid,
                    })
                }
                BatchStep::Malformed(what) => {
                    return Err(SnmpError::Malformed {
                        target: self.cfg.target,
                        what,
                    })
                }
            }
        }
        Ok(batches.finish())
    }
}
