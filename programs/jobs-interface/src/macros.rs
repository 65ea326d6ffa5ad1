//! The definition macros come from `interface-kit`; `instruction!` is bound here to this
//! program's error type (its refusals of a short account list, a missing signature, a
//! read-only account or instruction data of the wrong length are `JobsError`s).

#[doc(hidden)]
pub use interface_kit as kit;

/// An instruction of the jobs program (see `interface_kit::instruction!`).
#[macro_export]
macro_rules! instruction {
    ($($body:tt)*) => {
        $crate::macros::kit::instruction! { error = $crate::error::JobsError; $($body)* }
    };
}
