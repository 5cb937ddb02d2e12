//! Plugins loaded at run time behave exactly like the same codecs linked
//! statically, on every shared vector; a panicking plugin is stopped at the
//! boundary and disabled; an incompatible plugin is refused without harming
//! later loads.
//!
//! The plugin files are built by `cargo build --workspace` (the test script
//! does it first); a missing file fails with that instruction.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use xprotocol_core::testing::{Conformance, vectors};
use xprotocol_core::{Codec, Error, HeaderEdit, LocalStatus};
use xprotocol_plugin_host::{PluginCodec, load};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

use xprotocol_plugin_host::testing::built_plugin as plugin_path;

fn plugin(name: &str) -> Arc<PluginCodec> {
    load(&plugin_path(name)).unwrap_or_else(|e| panic!("{e}\n{}", e.detail))
}

/// Every layer of `dynamic` gives the same answer as `fixed` on `frame`.
fn same(fixed: &dyn Codec, dynamic: &dyn Codec, frame: &[u8], id: &str) {
    let bytes = Bytes::copy_from_slice(frame);
    assert_eq!(fixed.name(), dynamic.name(), "{id}");
    assert_eq!(fixed.capabilities(), dynamic.capabilities(), "{id}");
    for k in [0, 1, 2, frame.len() / 2, frame.len()] {
        let prefix = &frame[..k];
        assert_eq!(
            fixed.framing().probe(prefix),
            dynamic.framing().probe(prefix),
            "{id}: probe {k}"
        );
        assert_eq!(
            fixed.framing().split_frame(prefix),
            dynamic.framing().split_frame(prefix),
            "{id}: split {k}"
        );
    }
    let (fm, dm) = (
        fixed.multiplexing().unwrap(),
        dynamic.multiplexing().unwrap(),
    );
    assert_eq!(fm.id_width(), dm.id_width(), "{id}");
    assert_eq!(fm.frame_head(frame), dm.frame_head(frame), "{id}: head");
    assert_eq!(fm.request_id(frame), dm.request_id(frame), "{id}: id");
    let (mut a, mut b) = (frame.to_vec(), frame.to_vec());
    assert_eq!(
        fm.set_request_id(&mut a, 0x5eed).is_ok(),
        dm.set_request_id(&mut b, 0x5eed).is_ok(),
        "{id}"
    );
    assert_eq!(a, b, "{id}: rewritten bytes");
    let reply = |m: &dyn xprotocol_core::Multiplexing| {
        let mut out = BytesMut::new();
        m.heartbeat_reply(frame, &mut out).map(|()| out).ok()
    };
    assert_eq!(reply(fm), reply(dm), "{id}: heartbeat reply");
    assert_eq!(
        fixed.facts(&bytes).map(|f| f.to_json()).ok(),
        dynamic.facts(&bytes).map(|f| f.to_json()).ok(),
        "{id}: facts"
    );
    let (fr, dr) = (fixed.routing().unwrap(), dynamic.routing().unwrap());
    match (fr.route_headers(&bytes), dr.route_headers(&bytes)) {
        (Ok(x), Ok(y)) => {
            assert_eq!(
                (
                    x.service(),
                    x.interface(),
                    x.version(),
                    x.group(),
                    x.method()
                ),
                (
                    y.service(),
                    y.interface(),
                    y.version(),
                    y.group(),
                    y.method()
                ),
                "{id}: route"
            );
            assert_eq!(
                x.headers().collect::<Vec<_>>(),
                y.headers().collect::<Vec<_>>(),
                "{id}: headers"
            );
        }
        (x, y) => assert_eq!(x.is_ok(), y.is_ok(), "{id}: route outcome"),
    }
    let edit = [HeaderEdit::Set("x-plugin", "值")];
    assert_eq!(
        fr.mutate_headers(&bytes, &edit).map(|p| p.to_bytes()).ok(),
        dr.mutate_headers(&bytes, &edit).map(|p| p.to_bytes()).ok(),
        "{id}: mutation"
    );
    for status in LocalStatus::ALL {
        let (mut x, mut y) = (BytesMut::new(), BytesMut::new());
        let (rx, ry) = (
            fr.local_reply(frame, status, "m", &mut x),
            dr.local_reply(frame, status, "m", &mut y),
        );
        assert_eq!(rx.is_ok(), ry.is_ok(), "{id}: local reply {status:?}");
        assert_eq!(x, y, "{id}: local reply bytes {status:?}");
    }
    let (ft, dt) = (fixed.transcoding().unwrap(), dynamic.transcoding().unwrap());
    let (mx, my) = (ft.to_http2(&bytes).unwrap(), dt.to_http2(&bytes).unwrap());
    assert_eq!(mx.headers(), my.headers(), "{id}: HTTP/2 headers");
    assert_eq!(mx.body(), my.body(), "{id}: HTTP/2 body");
    assert!(
        dt.from_http2(&my).unwrap() == frame[..],
        "{id}: plugin HTTP/2 round trip"
    );
}

#[test]
fn every_vector_gives_the_same_answers_through_the_plugins() {
    let bolt = plugin("xprotocol_bolt_plugin");
    let dubbo = plugin("xprotocol_dubbo_plugin");
    let hsf = plugin("xprotocol_hsf_plugin");
    let mut checked = 0;
    for v in vectors::load(MANIFEST_DIR, "bolt-") {
        same(
            &xprotocol_bolt::BoltCodec::new(),
            bolt.as_ref(),
            &v.frame,
            &v.id,
        );
        Conformance::new(bolt.as_ref()).check_frame(&v.frame);
        checked += 1;
    }
    for v in vectors::load(MANIFEST_DIR, "dubbo-") {
        same(
            &xprotocol_dubbo::DubboCodec::new(),
            dubbo.as_ref(),
            &v.frame,
            &v.id,
        );
        Conformance::new(dubbo.as_ref()).check_frame(&v.frame);
        checked += 1;
    }
    use xprotocol_hsf::testdata::{
        CAPTURED_HEARTBEATS, CAPTURED_REQUEST, PLUGIN_RESPONSE, from_hex,
    };
    for (id, frame) in [
        ("hsf request", from_hex(CAPTURED_REQUEST)),
        (
            "hsf heartbeat",
            from_hex(CAPTURED_HEARTBEATS)[..18].to_vec(),
        ),
        ("hsf response", from_hex(PLUGIN_RESPONSE)),
    ] {
        same(&xprotocol_hsf::HsfCodec::new(), hsf.as_ref(), &frame, id);
        Conformance::new(hsf.as_ref()).check_frame(&frame);
        checked += 1;
    }
    println!("plugins: {checked} frames give identical results statically and through the plugins");
}

/// The third-party example (`examples/thrift-codec`, written only against the
/// SDK) behaves the same through its plugin file.
#[test]
fn the_third_party_thrift_plugin_matches_its_static_codec() {
    let thrift = plugin("xprotocol_example_thrift");
    // A strict CALL "echo", seqid 7, empty args struct; and a ONEWAY.
    let call = b"\x00\x00\x00\x11\x80\x01\x00\x01\x00\x00\x00\x04echo\x00\x00\x00\x07\x00";
    let oneway = b"\x00\x00\x00\x13\x80\x01\x00\x04\x00\x00\x00\x06notify\x00\x00\x00\x08\x00";
    for frame in [&call[..], &oneway[..]] {
        same(
            &xprotocol_example_thrift::ThriftCodec::new(),
            thrift.as_ref(),
            frame,
            "thrift",
        );
        Conformance::new(thrift.as_ref()).check_frame(frame);
    }
}

#[test]
fn a_panicking_plugin_is_stopped_at_the_boundary_and_disabled() {
    let codec = plugin("xprotocol_test_plugin_panicking");
    let frame = xprotocol_bolt::testdata::REQUEST_151;
    let mux = codec.multiplexing().unwrap();
    assert_eq!(
        codec.framing().split_frame(&frame),
        Ok(xprotocol_core::Split::Complete(151))
    );
    let err = mux.request_id(&frame).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Plugin {
                code: 11,
                close_connection: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(codec.has_failed());
    let err = codec.framing().split_frame(&frame).unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
    assert_eq!(
        codec.framing().probe(&frame),
        xprotocol_core::Probe::NoMatch,
        "a failed plugin claims no connection"
    );
    // The host process is alive, and other plugins still work.
    let bolt = plugin("xprotocol_bolt_plugin");
    assert_eq!(bolt.multiplexing().unwrap().request_id(&frame), Ok(111));
}

#[test]
fn incompatible_plugins_are_refused_without_poisoning_later_loads() {
    let old = plugin_path("xprotocol_test_plugin_incompatible");
    let err = load(&old).unwrap_err();
    assert!(
        err.short.contains("incompatible plugin ABI 0.9.0"),
        "short error: {}",
        err.short
    );
    assert!(
        err.short.contains("1.0.0"),
        "names the host's ABI: {}",
        err.short
    );
    assert!(
        err.short.lines().count() == 1 && err.short.len() < 200,
        "{}",
        err.short
    );
    assert!(
        err.detail.contains("version mismatch"),
        "abi_stable's report is kept: {}",
        err.detail
    );
    // The refusal leaves no trace: the next file loads.
    let bolt = plugin("xprotocol_bolt_plugin");
    assert_eq!(bolt.name(), "bolt");
    // A file that is not a plugin at all.
    let not_a_plugin = std::env::temp_dir().join("xprotocol-not-a-plugin.so");
    std::fs::write(&not_a_plugin, b"not an ELF file").unwrap();
    let err = load(&not_a_plugin).unwrap_err();
    assert!(!err.short.is_empty());
    let _ = std::fs::remove_file(&not_a_plugin);
    assert!(load(&old).is_err(), "refused again, consistently");
}

#[test]
fn plugins_join_a_registry_like_static_codecs() {
    let mut registry = xprotocol_core::Registry::new();
    for name in [
        "xprotocol_bolt_plugin",
        "xprotocol_dubbo_plugin",
        "xprotocol_hsf_plugin",
    ] {
        let codec: Arc<dyn Codec> = plugin(name);
        registry.register(codec);
    }
    let detect = |bytes: &[u8]| match registry.detect(bytes) {
        xprotocol_core::Detection::Matched(c) => c.name().to_owned(),
        other => format!("{other:?}"),
    };
    assert_eq!(detect(&xprotocol_bolt::testdata::REQUEST_151), "bolt");
    assert_eq!(detect(xprotocol_dubbo::testdata::REQUEST_177), "dubbo");
    let hsf = xprotocol_hsf::testdata::from_hex(xprotocol_hsf::testdata::CAPTURED_REQUEST);
    assert_eq!(detect(&hsf), "hsf-observed-v1");
}
