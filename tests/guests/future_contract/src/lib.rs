//! A plugin built against contract 0.3.0: the host (serving 0.2.x) must refuse
//! it with a message naming both versions.

#[cfg(target_arch = "wasm32")]
mod component {
    #![allow(missing_docs, unreachable_pub, unsafe_code, clippy::all)]

    wit_bindgen::generate!({ world: "plugin", path: "wit" });

    struct Future;

    impl exports::projector::projection::family::Guest for Future {
        fn describe() -> String {
            "future".to_owned()
        }
    }

    export!(Future);
}
