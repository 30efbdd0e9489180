//! The engine: compile a policy into an immutable, indexed
//! [`CompiledPolicy`](policy::CompiledPolicy), decide for callers, explain a
//! decision, run a policy's tests, and hot-reload (docs/semantics.md §3–4).
//!
//! Dependencies point one way: the data model ([`crate::rule`]) ←
//! [`precedence`] ← [`index`] / [`reference`] ← [`policy`] ← [`compiler`].

pub mod compiler;
pub mod decision;
pub mod explain;
pub mod index;
pub mod policy;
pub mod policy_tests;
pub mod precedence;
pub mod reference;
pub mod reload;
pub(crate) mod words;
