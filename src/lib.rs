//! kyso: signs, verifies and records official PDF documents for a Vietnamese
//! province's e-government (PAdES signatures with organisation and leader keys).
//!
//! Layers, outside in: [`server`] and [`api`] are the only async code (tonic);
//! [`sign`] is the capability; [`pdf`] (lopdf), [`cms`] (RustCrypto CMS/DER),
//! [`crypto`] (ring) and [`keyfile`] (PEM, PKCS#12) are pure and synchronous,
//! with the time passed in. [`ca`] makes the development PKI (rcgen) and
//! [`units`] holds the unit registry.

pub mod api;
pub mod authority;
pub mod ca;
pub mod chain;
pub mod cli;
pub mod cms;
pub mod config;
pub mod crypto;
pub mod custody;
pub mod datetime;
pub mod hsm;
pub mod keyfile;
pub mod keystore;
pub mod pdf;
pub mod records;
pub mod report;
pub mod scheduling;
pub mod server;
pub mod sign;
pub mod units;
pub mod verify;
