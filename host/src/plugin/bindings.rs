//! The only `bindgen!`: host-side types and glue for `wit/projection.wit`.

#![allow(missing_docs, unreachable_pub, clippy::all)]

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../wit",
    // A look-up the host cannot answer truthfully (a database error, more
    // matches than the cap, too many look-ups) traps the call instead of
    // answering with a wrong list.
    imports: {
        "projector:projection/host.find-events": trappable,
    },
});
