//! A family, and turning one into a plugin: [`family!`](crate::family)
//! declares it from its table modules, [`export!`](crate::export) exports
//! it as the WASM component's implementation of the contract.

use projection_model::{Description, Event, Mutation, ProjectionError};

use crate::Context;

/// A table family: tables, subscriptions and the event handler.
pub trait Family {
    /// Describe the family's tables and subscriptions.
    fn describe() -> Description;

    /// Turn one event into mutations, in the order they must apply.
    ///
    /// Return [`Event::unhandled`] for an event type the family does not handle.
    fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError>;
}

/// Declare a family made of table modules: the unit struct, its [`Family`]
/// implementation and, when built for `wasm32`, the component export.
///
/// Each name in `tables` is a module holding a
/// `const MODULE: `[`TableModule`](crate::TableModule); the tables are
/// declared in that order and their handlers run in that order, unless
/// `reducers` lists the same modules in another order. `views` are
/// functions returning the family's [`View`](crate::View)s.
///
/// ```text
/// projection_sdk::family! {
///     /// The users table family.
///     Users,
///     name: "users",
///     version: "0.2.1",
///     tables: [user, human, login_name::user, login_name::domain],
///     reducers: [user, human, login_name::domain, login_name::user], // optional
///     views: [login_name::view::view],                               // optional
/// }
/// ```
///
/// The crate documentation has a whole family.
///
/// The struct gets `TABLES` and `REDUCERS`, the modules in table and in
/// handler order. A crate whose code another plugin embeds declares the
/// cargo feature `embedded = []`, and the embedding plugin turns it on: the
/// export is then left out, so the embedding plugin can export its own.
#[macro_export]
macro_rules! family {
    (@order [$($tables:tt)*]) => { &[$($tables)*] };
    (@order [$($tables:tt)*] [$($reducers:tt)*]) => { &[$($reducers)*] };
    (
        $(#[$meta:meta])*
        $family:ident,
        name: $name:literal,
        version: $version:literal,
        tables: [$($($table:ident)::+),+ $(,)?]
        $(, reducers: [$($($reducer:ident)::+),+ $(,)?])?
        $(, views: [$($view:expr),+ $(,)?])?
        $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $family;

        impl $family {
            /// The table modules, in table order.
            pub const TABLES: &'static [$crate::TableModule] = &[$($($table)::+::MODULE),+];

            /// The table modules in the order their handlers run.
            pub const REDUCERS: &'static [$crate::TableModule] = $crate::family!(
                @order [$($($table)::+::MODULE),+] $([$($($reducer)::+::MODULE),+])?
            );
        }

        impl $crate::Family for $family {
            fn describe() -> $crate::Description {
                $crate::describe_tables($name, $version, Self::TABLES)
                    $($(.view(($view)()))+)?
            }

            fn handle(
                event: &$crate::Event,
                ctx: &$crate::Context<'_>,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::Mutation>, $crate::ProjectionError>
            {
                $crate::handle_tables(Self::REDUCERS, event, ctx)
            }
        }

        // `embedded` is a feature of the calling crate, declared only by a
        // family another plugin embeds.
        #[allow(unexpected_cfgs)]
        const _: () = {
            #[cfg(not(feature = "embedded"))]
            $crate::export!($family);
        };
    };
}

/// Export a [`Family`] as the plugin's implementation of the contract.
///
/// Natively this expands to nothing, so the same crate also builds and
/// tests as an ordinary library. [`family!`](crate::family) invokes it; a
/// family written by hand invokes it once.
#[macro_export]
macro_rules! export {
    ($family:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __ProjectionExport;
            impl $crate::wasm::bindings::exports::projector::projection::family::Guest
                for __ProjectionExport
            {
                fn describe() -> $crate::wasm::bindings::projector::projection::types::Description {
                    $crate::wasm::describe::<$family>()
                }
                fn handle(
                    events: ::std::vec::Vec<$crate::wasm::bindings::projector::projection::types::Event>,
                ) -> ::std::vec::Vec<$crate::wasm::bindings::projector::projection::types::Outcome> {
                    $crate::wasm::handle::<$family>(events)
                }
            }
            $crate::wasm::bindings::__export_plugin!(__ProjectionExport with_types_in $crate::wasm::bindings);
        };
    };
}
