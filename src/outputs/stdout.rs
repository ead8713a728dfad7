//! JSON lines on stdout, one record per line, flushed per line: the default output when no
//! Datadog key is set, and the easiest thing to pipe into anything else.

use std::io::Write;

use serde_json::Value;

use super::OutputContext;
use crate::event::Event;
use crate::pipeline::EventRx;

/// The stdout line for one event: the intake object plus `kind`.
pub fn render(ev: &Event) -> Vec<u8> {
    let mut m = match ev {
        Event::Log(l) => l.to_json(),
        Event::Metric(m) => m.to_json(),
    };
    m.insert("kind".into(), Value::String(ev.kind().into()));
    let mut line = serde_json::to_vec(&Value::Object(m)).unwrap_or_default();
    line.push(b'\n');
    line
}

pub async fn run(mut rx: EventRx, ctx: OutputContext) {
    let t = &ctx.telemetry;
    let comp = t.component("stdout", "output");
    comp.set_healthy(true);
    let sent = t.counter("nocbox.output.sent", &[("output", "stdout")]);
    let failed = t.counter(
        "nocbox.output.failed",
        &[("output", "stdout"), ("reason", "write_error")],
    );
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => match ev { Some(ev) => ev, None => break },
            _ = ctx.hard_stop.cancelled() => break,
        };
        // Writes are small and stdout is usually a pipe: a blocking write per line keeps
        // ordering and "flushed per line" simple. block_in_place keeps other tasks running.
        let line = render(&ev);
        let res = tokio::task::block_in_place(|| {
            let mut out = std::io::stdout().lock();
            out.write_all(&line).and_then(|_| out.flush())
        });
        match res {
            Ok(()) => {
                sent.inc();
                comp.success();
            }
            Err(e) => {
                failed.inc();
                comp.error(format!("cannot write to stdout: {e}"));
            }
        }
    }
}
