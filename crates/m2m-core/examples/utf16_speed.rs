//! Times the UTF-16 helpers on the files named on the command line.
//! Run: `cargo run --release -p m2m-core --example utf16_speed -- FILE...`.
#[path = "timing/mod.rs"]
mod timing;

use m2m_core::utf16;
use timing::best_of_five;

fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        let units: Vec<u16> = text.encode_utf16().collect();
        let mut sum = 0;
        let len = best_of_five(200, &mut sum, || utf16::utf8_len(&units).unwrap());
        let narrow = best_of_five(200, &mut sum, || utf16::to_utf8_lossy(&units).len());
        let widen = best_of_five(200, &mut sum, || utf16::from_utf8(&text).len());
        let checked = best_of_five(200, &mut sum, || {
            utf16::from_utf8_bytes(text.as_bytes()).unwrap().len()
        });
        println!(
            "{path}: {} units, utf8_len {len:.1} µs, to_utf8_lossy {narrow:.1} µs, \
             from_utf8 {widen:.1} µs, from_utf8_bytes {checked:.1} µs (checksum {sum})",
            units.len()
        );
    }
}
