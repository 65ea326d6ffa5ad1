//! Macros that define each item once and derive both its Rust form and its IDL description.

/// A `#[repr(C)]` struct of alignment-1 [`Pod`](crate::pod::Pod) fields: its bytes are its
/// borsh encoding. Emits `NAME`, `DEF` (the IDL description) and a compile-time check that
/// the struct has alignment 1 and the stated size.
#[macro_export]
macro_rules! layout {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident ($size:expr) {
            $( $(#[doc = $fdoc:literal])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[repr(C)]
        #[derive(Clone, Copy, Default)]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: $ty ),*
        }

        // SAFETY: every field is an alignment-1 Pod type (asserted below), so the struct has
        // no padding and every bit pattern is valid.
        unsafe impl $crate::pod::Layout for $name {}

        const _: () = assert!(core::mem::align_of::<$name>() == 1);
        const _: () = assert!(core::mem::size_of::<$name>() == $size);

        impl $name {
            pub const NAME: &'static str = stringify!($name);
            pub const DEF: $crate::idl::StructDef = $crate::idl::StructDef {
                name: stringify!($name),
                docs: concat!($($doc, "\n"),*),
                fields: &[ $( $crate::idl::Field {
                    name: stringify!($field),
                    ty: <$ty as $crate::pod::Pod>::IDL,
                    docs: concat!($($fdoc, "\n"),*),
                } ),* ],
            };
        }

        impl $crate::pod::Pod for $name {
            const IDL: $crate::idl::IdlType = $crate::idl::IdlType::Defined(stringify!($name));
        }
    };
}

/// A fieldless enum stored in one byte, with a `Pod` byte wrapper `$byte` for layouts.
#[macro_export]
macro_rules! byte_enum {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident ($byte:ident) {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $( $(#[doc = $vdoc])* $variant = $value ),* }

        impl $name {
            pub const DEF: $crate::idl::EnumDef = $crate::idl::EnumDef {
                name: stringify!($name),
                docs: concat!($($doc, "\n"),*),
                variants: &[ $( stringify!($variant) ),* ],
            };

            #[inline(always)]
            pub const fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $( $value => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }

        #[doc = concat!("`", stringify!($name), "` stored as its borsh byte.")]
        #[repr(transparent)]
        #[derive(Clone, Copy, Default, PartialEq, Eq)]
        pub struct $byte(pub u8);

        impl $byte {
            #[inline(always)]
            pub const fn get(&self) -> Option<$name> {
                $name::from_u8(self.0)
            }
            #[inline(always)]
            pub fn set(&mut self, value: $name) {
                self.0 = value as u8;
            }
            #[inline(always)]
            pub fn is(&self, value: $name) -> bool {
                self.0 == value as u8
            }
        }

        impl $crate::pod::Pod for $byte {
            const IDL: $crate::idl::IdlType = $crate::idl::IdlType::Defined(stringify!($name));
        }
    };
}

/// The program's error codes: an enum numbered from 6000 (Anchor's first custom code), and
/// their IDL description. Codes are part of the ABI: append, never renumber.
#[macro_export]
macro_rules! errors {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident {
            $( $variant:ident = $code:literal : $msg:literal ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $( #[doc = $msg] $variant = $code ),* }

        impl $name {
            pub const ALL: &'static [$crate::idl::ErrorDef] = &[ $( $crate::idl::ErrorDef {
                code: $code,
                name: stringify!($variant),
                msg: $msg,
            } ),* ];

            /// The line the program logs when it fails with `code`, in Anchor's words
            /// (anchor-lang's `AnchorError occurred. ...`), so explorers and Anchor clients
            /// that read logs show the error's name, not only `custom program error`. A
            /// `match` on the code, not a table: SBF built by the upstream route does not
            /// relocate pointers stored in statics (docs/toolchain.md, pitfall 5).
            pub const fn log_line(code: u32) -> Option<&'static str> {
                match code {
                    $( $code => Some(concat!(
                        "AnchorError occurred. Error Code: ", stringify!($variant),
                        ". Error Number: ", $code, ". Error Message: ", $msg, "."
                    )), )*
                    _ => None,
                }
            }
        }
    };
}

/// Is `$want` (signer, writable or optional) among the flags?
#[doc(hidden)]
#[macro_export]
macro_rules! __has_flag {
    (signer;) => { false };
    (writable;) => { false };
    (optional;) => { false };
    (signer; signer $($rest:ident)*) => { true };
    (writable; writable $($rest:ident)*) => { true };
    (optional; optional $($rest:ident)*) => { true };
    ($want:ident; $other:ident $($rest:ident)*) => { $crate::__has_flag!($want; $($rest)*) };
}

/// `{ yes }` when `optional` is among the flags, else `{ no }` (types and expressions that
/// differ between a required and an optional account).
#[doc(hidden)]
#[macro_export]
macro_rules! __if_optional {
    ([optional $($rest:ident)*] { $($yes:tt)* } { $($no:tt)* }) => { $($yes)* };
    ([$other:ident $($rest:ident)*] $yes:tt $no:tt) => { $crate::__if_optional!([$($rest)*] $yes $no) };
    ([] { $($yes:tt)* } { $($no:tt)* }) => { $($no)* };
}

/// An instruction: `error = <the program's error type>;` (an enum with the variants
/// `InstructionDataInvalid`, `AccountsMissing`, `SignatureMissing`, `AccountNotWritable`),
/// then a module with its name, discriminator, arguments layout, accounts (in
/// order, with the signer, writable and optional flags the program enforces) and IDL
/// description.
///
/// `Accounts::parse` unpacks the account slice in the declared order and checks every
/// declared signer and writable flag, so the IDL and the program agree by construction.
///
/// Optional accounts follow Anchor's convention: an absent one is passed as the program's
/// own id (anchorpy's and Anchor's clients do so), and trailing optional accounts may also
/// be left out of the list. They must come after every required account (checked at
/// compile time) and are zero-sized `accounts::Optional`s in `Accounts`: their
/// `get(accounts, program_id)` gives the account, or None when absent, and checks its
/// flags when present, only when the program asks (an account the instruction does not
/// need costs nothing). The IDL marks them (`isOptional` / `optional`).
///
/// An account may end with `= <Resolve>`: how a client finds it by itself, which the IDL
/// publishes (`address`, `pda`). `= Resolve::Address(ids::TOKEN_PROGRAM)` for a fixed
/// address; `= pda(&[Seed::Const(crate::seeds::VAULT), Seed::Account("market")])` for a PDA
/// of this program, `pda_of(program, seeds)` for another's. The seeds are the interface's
/// `seeds` constants, the ones the program derives with. It changes nothing on chain: the
/// program checks these accounts itself.
#[macro_export]
macro_rules! instruction {
    (
        error = $error:ty;
        $(#[doc = $doc:literal])*
        pub mod $module:ident ($args_size:expr) {
            accounts {
                $( $(#[doc = $adoc:literal])* $account:ident [$($flag:ident)*] $(= $resolve:expr)? ),* $(,)?
            }
            args {
                $( $(#[doc = $fdoc:literal])* pub $field:ident : $ty:ty ),* $(,)?
            }
        }
    ) => {
        $(#[doc = $doc])*
        pub mod $module {
            #[allow(unused_imports)]
            use $crate::pod::*;
            // What an account's `= ...` (its address or PDA seeds, for the IDL) is written with.
            #[allow(unused_imports)]
            use $crate::idl::{ids, pda, pda_of, Resolve, Seed};
            use $crate::__account_view::AccountView;

            /// The program's error type: refusals of the account list and data are its own.
            type Error = $error;

            pub const NAME: &str = stringify!($module);
            pub const DISCRIMINATOR: [u8; 8] = $crate::discriminator::sighash("global", NAME);

            $crate::layout! {
                /// The instruction's arguments, after its 8-byte discriminator.
                pub struct Args ($args_size) {
                    $( $(#[doc = $fdoc])* pub $field : $ty ),*
                }
            }

            impl Args {
                /// Reads the arguments from instruction data that follows the discriminator;
                /// the length must match exactly (borsh of fixed-size fields).
                #[inline(always)]
                pub fn unpack(data: &[u8]) -> Result<&Args, Error> {
                    if data.len() != <Args as $crate::pod::Layout>::LEN {
                        return Err(Error::InstructionDataInvalid);
                    }
                    <Args as $crate::pod::Layout>::load(data).ok_or(Error::InstructionDataInvalid)
                }

                /// Instruction data: discriminator, then these arguments.
                pub fn pack(&self) -> [u8; 8 + $args_size] {
                    let mut out = [0u8; 8 + $args_size];
                    out[..8].copy_from_slice(&DISCRIMINATOR);
                    out[8..].copy_from_slice($crate::pod::Layout::as_bytes(self));
                    out
                }
            }

            /// The accounts' names, in order.
            const NAMES: &[&str] = &[$(stringify!($account)),*];

            /// The accounts, in order (optional ones read through their `get`).
            #[derive(Clone, Copy)]
            pub struct Accounts {
                $( $(#[doc = $adoc])* pub $account: $crate::__if_optional!([$($flag)*] {
                    $crate::accounts::Optional<
                        Error,
                        { $crate::accounts::position(NAMES, stringify!($account)) },
                        { $crate::__has_flag!(signer; $($flag)*) },
                        { $crate::__has_flag!(writable; $($flag)*) },
                    >
                } { AccountView }) ),*
            }

            /// Whether each account is optional, in order.
            const OPTIONAL: &[bool] = &[$($crate::__has_flag!(optional; $($flag)*)),*];

            // Optional accounts come last, so a shorter list leaves out only optional ones.
            const _: () = {
                let mut index = 0;
                let mut seen_optional = false;
                while index < OPTIONAL.len() {
                    assert!(OPTIONAL[index] || !seen_optional, "optional accounts must follow every required account");
                    seen_optional = OPTIONAL[index];
                    index += 1;
                }
            };

            impl Accounts {
                pub const COUNT: usize = OPTIONAL.len();
                /// Accounts the list must hold: every one before the first optional account.
                pub const REQUIRED: usize = {
                    let mut count = 0;
                    while count < OPTIONAL.len() && !OPTIONAL[count] {
                        count += 1;
                    }
                    count
                };

                /// Unpacks the accounts and checks the signer and writable flags declared
                /// for each required one; an optional one (absent when it is the program's
                /// own id, Anchor's placeholder, or past the end of the list) is read and
                /// checked by its `get`. Extra trailing accounts are ignored, as Anchor does.
                #[inline(always)]
                #[allow(unused_assignments)]
                pub fn parse(accounts: &[AccountView]) -> Result<Accounts, Error> {
                    if accounts.len() < Self::REQUIRED {
                        return Err(Error::AccountsMissing);
                    }
                    let mut index = 0usize;
                    $(
                        let $account = $crate::__if_optional!([$($flag)*] {
                            $crate::accounts::Optional::new()
                        } {
                            {
                                let view = accounts.get(index).ok_or(Error::AccountsMissing)?;
                                $crate::__check_flags!(view, Error, $($flag)*);
                                view.clone()
                            }
                        });
                        index += 1;
                    )*
                    Ok(Accounts { $($account),* })
                }
            }

            pub const DEF: $crate::idl::InstructionDef = $crate::idl::InstructionDef {
                name: NAME,
                docs: concat!($($doc, "\n"),*),
                discriminator: DISCRIMINATOR,
                accounts: &[ $( $crate::idl::AccountDef {
                    name: stringify!($account),
                    signer: $crate::__has_flag!(signer; $($flag)*),
                    writable: $crate::__has_flag!(writable; $($flag)*),
                    optional: $crate::__has_flag!(optional; $($flag)*),
                    docs: concat!($($adoc, "\n"),*),
                    resolve: $crate::__resolve!($($resolve)?),
                } ),* ],
                args: Args::DEF.fields,
            };
        }
    };
}

/// `Some(resolve)` for an account declared `= resolve`, else `None`.
#[doc(hidden)]
#[macro_export]
macro_rules! __resolve {
    () => { None };
    ($resolve:expr) => { Some($resolve) };
}

/// The signer and writable checks of one account, returning the program's error.
#[doc(hidden)]
#[macro_export]
macro_rules! __check_flags {
    ($view:ident, $error:ty, $($flag:ident)*) => {
        if $crate::__has_flag!(signer; $($flag)*) && !$view.is_signer() {
            return Err(<$error>::SignatureMissing);
        }
        if $crate::__has_flag!(writable; $($flag)*) && !$view.is_writable() {
            return Err(<$error>::AccountNotWritable);
        }
    };
}

/// Events: each a `layout!` with the discriminator `sha256("event:<Name>")[..8]`, and
/// `ALL`, every event's IDL description in declaration order.
#[macro_export]
macro_rules! events {
    ($( $(#[doc = $doc:literal])* pub struct $name:ident ($size:expr) { $($body:tt)* } )*) => {
        $(
            $crate::layout! { $(#[doc = $doc])* pub struct $name ($size) { $($body)* } }
            impl $crate::discriminator::Discriminator for $name {
                const DISCRIMINATOR: [u8; 8] = $crate::discriminator::sighash("event", $name::NAME);
            }
        )*
        /// Every event's IDL description, in declaration order.
        pub const ALL: &[$crate::idl::StructDef] = &[$($name::DEF),*];
    };
}
