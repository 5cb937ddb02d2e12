//! The HSF (observed v1 layout) codec as a plugin: `libxprotocol_hsf_plugin.so`, loaded with
//! `xprotocol-plugin-host` (or `xproto --plugin`).

xprotocol_plugin_sdk::export_codec_plugin!(xprotocol_hsf::HsfCodec::new());
