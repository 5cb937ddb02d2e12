//! Shared helpers of the integration tests.

pub(crate) mod pki;
