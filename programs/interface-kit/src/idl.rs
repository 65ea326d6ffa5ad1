//! Descriptions of the layouts, for the IDL generator (host only).
//!
//! Every layout, instruction, event and error of the program carries one of these, built
//! by the macros in `macros.rs` from the same tokens that define the Rust item, so the IDL
//! cannot drift from the program. They are `const`s: a program that never reads them
//! carries none of their (pointer-holding) data, which SBF could not relocate anyway.

/// A field's type as the IDL spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdlType {
    U8,
    U16,
    U32,
    U64,
    I64,
    Pubkey,
    /// `[u8; 32]`
    Bytes32,
    /// A struct or enum defined in the IDL's `types`.
    Defined(&'static str),
    /// `Vec<T>` of a defined type: a u32 length, then the elements.
    VecOfDefined(&'static str),
}

/// A named field of a struct, an event or an instruction's arguments.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: IdlType,
    pub docs: &'static str,
}

/// A struct type (account, argument set, event, or plain type).
#[derive(Clone, Copy, Debug)]
pub struct StructDef {
    pub name: &'static str,
    pub docs: &'static str,
    pub fields: &'static [Field],
}

/// A fieldless enum stored as one byte (borsh: the variant index).
#[derive(Clone, Copy, Debug)]
pub struct EnumDef {
    pub name: &'static str,
    pub docs: &'static str,
    pub variants: &'static [&'static str],
}

/// One account of an instruction.
#[derive(Clone, Copy, Debug)]
pub struct AccountDef {
    pub name: &'static str,
    pub signer: bool,
    pub writable: bool,
    /// Absent when passed as the program's own id (Anchor's convention), or left out at
    /// the end of the list.
    pub optional: bool,
    pub docs: &'static str,
}

/// An instruction: its name (snake case), discriminator, accounts and arguments.
#[derive(Clone, Copy, Debug)]
pub struct InstructionDef {
    pub name: &'static str,
    pub docs: &'static str,
    pub discriminator: [u8; 8],
    pub accounts: &'static [AccountDef],
    pub args: &'static [Field],
}

/// An error code.
#[derive(Clone, Copy, Debug)]
pub struct ErrorDef {
    pub code: u32,
    pub name: &'static str,
    pub msg: &'static str,
}
