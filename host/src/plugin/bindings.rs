//! The only `bindgen!`: host-side types and glue for `wit/projection.wit`.

#![allow(missing_docs, unreachable_pub, clippy::all)]

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../wit",
});
