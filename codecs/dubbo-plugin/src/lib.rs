//! The Dubbo codec as a plugin: `libxprotocol_dubbo_plugin.so`, loaded with
//! `xprotocol-plugin-host` (or `xproto --plugin`).

xprotocol_plugin_sdk::export_codec_plugin!(xprotocol_dubbo::DubboCodec::new());
