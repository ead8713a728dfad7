//! The status page rendered by a real browser (headless Chromium): it shows live numbers, and
//! the screenshot shows the OK state painted green.

use std::io::Read;
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;

use crate::harness::*;

fn chromium(dir: &Path, args: &[&str], url: &str) -> Vec<u8> {
    let profile = dir.join("chromium-profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Decodes an 8-bit RGB/RGBA PNG into (width, height, RGB pixels).
fn decode_png(png: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut pos, mut idat) = (8, Vec::new());
    let (mut w, mut h, mut channels) = (0, 0, 0);
    while pos + 8 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &png[pos + 4..pos + 8];
        let data = &png[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                h = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = w * channels;
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(w * h);
    for row in raw.chunks(stride + 1).take(h) {
        let (filter, line) = (row[0], &row[1..]);
        let mut cur = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels {
                cur[i - channels] as i16
            } else {
                0
            };
            let b = prev[i] as i16;
            let c = if i >= channels {
                prev[i - channels] as i16
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("filter {f}"),
            };
            cur[i] = line[i].wrapping_add(predicted as u8);
        }
        pixels.extend(cur.chunks(channels).map(|p| [p[0], p[1], p[2]]));
        prev = cur;
    }
    (w, h, pixels)
}

#[test]
fn status_page_renders_live_numbers_in_chromium() {
    let nb = Nocbox::start(
        "page",
        "syslog:\n  udp: { listen: 127.0.0.1:0 }\napi: { listen: 127.0.0.1:0 }\n",
    );
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..7 {
        udp.send_to(
            format!("<13>page line {i}").as_bytes(),
            nb.addr("syslog_udp"),
        )
        .unwrap();
    }
    nb.wait_logs(7, 10);
    let url = format!("http://{}/", nb.addr("api"));
    let dir = scratch("chromium");
    let dom = String::from_utf8(chromium(&dir, &["--dump-dom"], &url)).unwrap();
    assert!(dom.contains("syslog.received{transport=udp}: 7"), "{dom}");
    assert!(dom.contains("<td class=\"ok\">OK</td>"), "{dom}");
    assert!(dom.contains("id=\"healthy\">true<"), "{dom}");

    let shot = dir.join("status.png");
    chromium(
        &dir,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1000,700",
        ],
        &url,
    );
    let (w, h, pixels) = decode_png(&std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (1000, 700));
    let green = pixels.iter().filter(|p| **p == [0xc8, 0xf0, 0xc8]).count();
    let ink = pixels.iter().filter(|p| p.iter().all(|&c| c < 100)).count();
    assert!(
        green > 200,
        "the OK cells are painted green ({green} pixels)"
    );
    assert!(ink > 2000, "text is drawn ({ink} dark pixels)");
}
