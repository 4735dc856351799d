//! Arbitrary bytes on a Kafka connection: framing, header and body decoding of every API, the
//! read-only handlers, and response encoding. Must never panic or abort.
//!
//! Run: `bash tests/fuzz.sh` (see there for the toolchain note and the corpus).

#![no_main]

use std::sync::OnceLock;

use broker::runtime::fuzzing::RequestPath;
use libfuzzer_sys::fuzz_target;

fn path() -> &'static RequestPath {
    static PATH: OnceLock<RequestPath> = OnceLock::new();
    PATH.get_or_init(RequestPath::new)
}

fuzz_target!(|data: &[u8]| {
    path().feed(data);
});
