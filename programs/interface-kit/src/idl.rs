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
    /// `[u8; N]`
    Bytes(usize),
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
    /// Where a client finds it by itself (a fixed address or PDA seeds), if anywhere.
    pub resolve: Option<Resolve>,
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

/// One seed of a program-derived address, as Anchor's IDL spells it.
#[derive(Clone, Copy, Debug)]
pub enum Seed {
    /// Constant bytes (a `seeds` constant of the interface).
    Const(&'static [u8]),
    /// A constant address, in base58 (a program id as a seed or as the deriving program).
    Address(&'static str),
    /// The address of another account of the instruction, by name.
    Account(&'static str),
    /// A pubkey field of another account of the instruction: `path` is `account.field`
    /// (snake case), `ty` the account's type (`Market`); the client reads it from the chain.
    Field { ty: &'static str, path: &'static str },
    /// An argument of the instruction, by name; its bytes as borsh writes them.
    Arg(&'static str),
}

/// A program-derived address: its seeds, and the deriving program (None: this program).
#[derive(Clone, Copy, Debug)]
pub struct Pda {
    pub seeds: &'static [Seed],
    pub program: Option<Seed>,
}

/// How a client finds an account by itself: a fixed address or a PDA.
#[derive(Clone, Copy, Debug)]
pub enum Resolve {
    /// A fixed address, in base58 (a program, a sysvar).
    Address(&'static str),
    Pda(Pda),
}

/// PDA `seeds` of this program.
pub const fn pda(seeds: &'static [Seed]) -> Resolve {
    Resolve::Pda(Pda { seeds, program: None })
}

/// PDA `seeds` of `program` (another program, or one read from an account).
pub const fn pda_of(program: Seed, seeds: &'static [Seed]) -> Resolve {
    Resolve::Pda(Pda { seeds, program: Some(program) })
}

/// Addresses the IDLs give as fixed (`Resolve::Address`): the programs' own checks name
/// the same ones (program-kit's `token`, `system`, `sysvars`; tests compare).
pub mod ids {
    pub const SYSTEM_PROGRAM: &str = "11111111111111111111111111111111";
    pub const TOKEN_PROGRAM: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
    pub const CLOCK_SYSVAR: &str = "SysvarC1ock11111111111111111111111111111111";
    pub const RENT_SYSVAR: &str = "SysvarRent111111111111111111111111111111111";
}

/// A constant the IDL publishes (`constants`): an account size, say.
#[derive(Clone, Copy, Debug)]
pub struct ConstDef {
    pub name: &'static str,
    pub docs: &'static str,
    pub value: u64,
}
