//! Test plugin: exports a root module under the same name as the real plugin
//! ABI, but from version 0.9 with a different layout. Hosts must refuse it
//! before calling anything in it.

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::RString;
use abi_stable::{
    StableAbi, declare_root_module_statics, export_root_module, package_version_strings,
};

/// The old root module.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = OldModuleRef)))]
pub struct OldModule {
    /// What the old ABI had instead of `new_codec`.
    #[sabi(last_prefix_field)]
    pub describe: extern "C" fn() -> RString,
}

impl RootModule for OldModuleRef {
    declare_root_module_statics! {OldModuleRef}
    const BASE_NAME: &'static str = "xprotocol_plugin";
    const NAME: &'static str = "xprotocol codec plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

extern "C" fn describe() -> RString {
    "an old plugin".into()
}

/// The exported root module.
#[export_root_module]
pub fn get_library() -> OldModuleRef {
    use abi_stable::prefix_type::PrefixTypeTrait;
    OldModule { describe }.leak_into_prefix()
}
