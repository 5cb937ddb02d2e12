//! The SOFA Bolt codec as a plugin: `libxprotocol_bolt_plugin.so`, loaded with
//! `xprotocol-plugin-host` (or `xproto --plugin`).

xprotocol_plugin_sdk::export_codec_plugin!(xprotocol_bolt::BoltCodec::new());
