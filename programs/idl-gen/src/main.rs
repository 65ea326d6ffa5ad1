//! Prints the programs' Anchor IDLs from their interface crates, the one source of truth.
//!
//!   idl-gen legacy [PROGRAM]   the legacy format (Anchor <= 0.29) that anchorpy 0.21 reads
//!   idl-gen spec [PROGRAM]     Anchor's current spec format (>= 0.30; TypeScript client, Codama)
//!   idl-gen write DIR          both, for every program, as DIR/<name>.json and DIR/<name>.spec.json
//!
//! PROGRAM is `jobs` (the default) or `staking`. The files are checked in; a test fails
//! when they differ from what this prints.

use interface_kit::discriminator::{sighash, Discriminator};
use interface_kit::idl::{AccountDef, ConstDef, EnumDef, ErrorDef, Field, IdlType, InstructionDef, Pda, Resolve, Seed, StructDef};
use serde_json::{json, Value};

/// Everything the IDL of one program says.
struct Program {
    name: &'static str,
    address: &'static str,
    version: &'static str,
    description: &'static str,
    instructions: &'static [InstructionDef],
    /// Account layouts, each with its discriminator.
    accounts: Vec<(StructDef, [u8; 8])>,
    /// Types that accounts and events refer to.
    struct_types: Vec<StructDef>,
    enum_types: Vec<EnumDef>,
    events: &'static [StructDef],
    errors: &'static [ErrorDef],
    /// Published constants: the accounts' sizes.
    constants: &'static [ConstDef],
}

fn jobs() -> Program {
    use jobs_interface::state::{EntryState, Job, JobState, Market, MarketState, NodeProfile, QueueEntry, QueueHeader, QueueSide};
    Program {
        name: jobs_interface::PROGRAM_NAME,
        address: jobs_interface::PROGRAM_ID,
        version: jobs_interface::VERSION,
        description: "crowdcompute jobs: GPU job markets with a two-sided queue and per-second escrow",
        instructions: jobs_interface::instruction::ALL,
        accounts: vec![(Market::DEF, Market::DISCRIMINATOR), (Job::DEF, Job::DISCRIMINATOR), (NodeProfile::DEF, NodeProfile::DISCRIMINATOR)],
        struct_types: vec![QueueHeader::DEF, QueueEntry::DEF],
        enum_types: vec![JobState::DEF, EntryState::DEF, QueueSide::DEF, MarketState::DEF],
        events: jobs_interface::event::ALL,
        errors: jobs_interface::error::JobsError::ALL,
        constants: jobs_interface::state::SIZES,
    }
}

fn staking() -> Program {
    use staking_interface::state::{Config, SlashDestination, Stake, StakeState};
    Program {
        name: staking_interface::PROGRAM_NAME,
        address: staking_interface::PROGRAM_ID,
        version: staking_interface::VERSION,
        description: "crowdcompute staking: stakes with a lock multiplier, linear unlock, slashing, fees shared by weight",
        instructions: staking_interface::instruction::ALL,
        accounts: vec![(Config::DEF, Config::DISCRIMINATOR), (Stake::DEF, Stake::DISCRIMINATOR)],
        struct_types: vec![],
        enum_types: vec![SlashDestination::DEF, StakeState::DEF],
        events: staking_interface::event::ALL,
        errors: staking_interface::error::StakingError::ALL,
        constants: staking_interface::state::SIZES,
    }
}

fn programs() -> Vec<Program> {
    vec![jobs(), staking()]
}

/// The last line of an optional account's docs: anchorpy (0.21) ignores `isOptional` and
/// wants every account, and the program reads its own id as "absent" (Anchor's convention).
const OPTIONAL_DOC: &str = "Optional: to leave it out, pass this program's id (Anchor's placeholder for an absent account); anchorpy wants every account.";

fn docs(text: &str) -> Value {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    json!(lines)
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Legacy,
    Spec,
}

impl Format {
    fn name(self, snake: &str) -> String {
        match self {
            Format::Legacy => camel(snake),
            Format::Spec => snake.to_string(),
        }
    }

    fn ty(self, ty: IdlType) -> Value {
        let defined = |name: &str| match self {
            Format::Legacy => json!({ "defined": name }),
            Format::Spec => json!({ "defined": { "name": name } }),
        };
        match ty {
            IdlType::U8 => json!("u8"),
            IdlType::U16 => json!("u16"),
            IdlType::U32 => json!("u32"),
            IdlType::U64 => json!("u64"),
            IdlType::I64 => json!("i64"),
            IdlType::Pubkey => match self {
                Format::Legacy => json!("publicKey"),
                Format::Spec => json!("pubkey"),
            },
            IdlType::Bytes32 => json!({ "array": ["u8", 32] }),
            IdlType::Bytes(len) => json!({ "array": ["u8", len] }),
            IdlType::Defined(name) => defined(name),
            IdlType::VecOfDefined(name) => json!({ "vec": defined(name) }),
        }
    }

    fn fields(self, fields: &[Field], event: bool) -> Value {
        let fields: Vec<Value> = fields
            .iter()
            .map(|field| {
                let mut value = json!({ "name": self.name(field.name) });
                let text = docs(field.docs);
                if text.as_array().is_some_and(|lines| !lines.is_empty()) {
                    value["docs"] = text;
                }
                value["type"] = self.ty(field.ty);
                if event && self == Format::Legacy {
                    value["index"] = json!(false);
                }
                value
            })
            .collect();
        json!(fields)
    }

    fn struct_type(self, def: &StructDef) -> Value {
        json!({
            "name": def.name,
            "docs": docs(def.docs),
            "type": { "kind": "struct", "fields": self.fields(def.fields, false) },
        })
    }

    fn enum_type(self, def: &EnumDef) -> Value {
        let variants: Vec<Value> = def.variants.iter().map(|name| json!({ "name": name })).collect();
        json!({ "name": def.name, "docs": docs(def.docs), "type": { "kind": "enum", "variants": variants } })
    }

    /// A seed in this format: the spec's `{kind, value | path [, account]}`; the legacy
    /// one (Anchor 0.29) also names each seed's `type`, and its paths are camel case.
    fn seed(self, seed: &Seed, args: &[Field]) -> Value {
        match (self, *seed) {
            (Format::Spec, Seed::Const(bytes)) => json!({ "kind": "const", "value": bytes }),
            (Format::Spec, Seed::Address(address)) => json!({ "kind": "const", "value": five8_const::decode_32_const(address) }),
            (Format::Spec, Seed::Account(name)) => json!({ "kind": "account", "path": name }),
            (Format::Spec, Seed::Field { ty, path }) => json!({ "kind": "account", "path": path, "account": ty }),
            (Format::Spec, Seed::Arg(name)) => json!({ "kind": "arg", "path": name }),
            (Format::Legacy, Seed::Const(bytes)) => match std::str::from_utf8(bytes) {
                Ok(text) => json!({ "kind": "const", "type": "string", "value": text }),
                Err(_) => json!({ "kind": "const", "type": { "array": ["u8", bytes.len()] }, "value": bytes }),
            },
            (Format::Legacy, Seed::Address(address)) => json!({ "kind": "const", "type": "publicKey", "value": address }),
            (Format::Legacy, Seed::Account(name)) => json!({ "kind": "account", "type": "publicKey", "path": camel(name) }),
            (Format::Legacy, Seed::Field { ty, path }) => {
                let path: Vec<String> = path.split('.').map(camel).collect();
                json!({ "kind": "account", "type": "publicKey", "account": ty, "path": path.join(".") })
            }
            (Format::Legacy, Seed::Arg(name)) => {
                let field = args.iter().find(|field| field.name == name).expect("a seed names an argument of its instruction");
                json!({ "kind": "arg", "type": self.ty(field.ty), "path": camel(name) })
            }
        }
    }

    fn pda(self, pda: &Pda, args: &[Field]) -> Value {
        let seeds: Vec<Value> = pda.seeds.iter().map(|seed| self.seed(seed, args)).collect();
        let mut value = json!({ "seeds": seeds });
        if let Some(program) = &pda.program {
            let key = if self == Format::Spec { "program" } else { "programId" };
            value[key] = self.seed(program, args);
        }
        value
    }

    /// An account's docs, and what a client passes for an optional one it leaves out.
    fn account_docs(self, account: &AccountDef) -> Value {
        let mut lines = docs(account.docs);
        let list = lines.as_array_mut().expect("docs are a list");
        if let (Format::Legacy, Some(Resolve::Address(address))) = (self, account.resolve) {
            // The legacy format has no `address`: its docs say it.
            list.push(json!(format!("Address: {address}.")));
        }
        if account.optional {
            list.push(json!(OPTIONAL_DOC));
        }
        lines
    }

    fn instruction(self, def: &InstructionDef) -> Value {
        let accounts: Vec<Value> = def
            .accounts
            .iter()
            .map(|account| match self {
                Format::Legacy => {
                    let mut value = json!({
                        "name": self.name(account.name),
                        "isMut": account.writable,
                        "isSigner": account.signer,
                    });
                    // Anchor's legacy IDL writes the flag only for optional accounts.
                    if account.optional {
                        value["isOptional"] = json!(true);
                    }
                    value["docs"] = self.account_docs(account);
                    if let Some(Resolve::Pda(pda)) = &account.resolve {
                        value["pda"] = self.pda(pda, def.args);
                    }
                    value
                }
                Format::Spec => {
                    let mut value = json!({ "name": account.name, "docs": self.account_docs(account) });
                    if account.writable {
                        value["writable"] = json!(true);
                    }
                    if account.signer {
                        value["signer"] = json!(true);
                    }
                    if account.optional {
                        value["optional"] = json!(true);
                    }
                    match &account.resolve {
                        Some(Resolve::Address(address)) => value["address"] = json!(address),
                        Some(Resolve::Pda(pda)) => value["pda"] = self.pda(pda, def.args),
                        None => {}
                    }
                    value
                }
            })
            .collect();
        let mut value = json!({ "name": self.name(def.name), "docs": docs(def.docs) });
        if self == Format::Spec {
            value["discriminator"] = json!(def.discriminator);
        }
        value["accounts"] = json!(accounts);
        value["args"] = self.fields(def.args, false);
        value
    }

    /// The published constants: `{name, [docs,] type, value}`, the value a string as
    /// Anchor writes it.
    fn constants(self, program: &Program) -> Value {
        let constants: Vec<Value> = program
            .constants
            .iter()
            .map(|constant| match self {
                Format::Legacy => json!({ "name": constant.name, "type": "u64", "value": constant.value.to_string() }),
                Format::Spec => json!({
                    "name": constant.name,
                    "docs": docs(constant.docs),
                    "type": "u64",
                    "value": constant.value.to_string(),
                }),
            })
            .collect();
        json!(constants)
    }

    fn errors(self, program: &Program) -> Value {
        let errors: Vec<Value> = program
            .errors
            .iter()
            .map(|error| json!({ "code": error.code, "name": error.name, "msg": error.msg }))
            .collect();
        json!(errors)
    }

    fn idl(self, program: &Program) -> Value {
        let instructions: Vec<Value> = program.instructions.iter().map(|def| self.instruction(def)).collect();
        let mut types: Vec<Value> = Vec::new();
        match self {
            Format::Legacy => {
                let accounts: Vec<Value> = program.accounts.iter().map(|(def, _)| self.struct_type(def)).collect();
                types.extend(program.struct_types.iter().map(|def| self.struct_type(def)));
                types.extend(program.enum_types.iter().map(|def| self.enum_type(def)));
                let events: Vec<Value> = program
                    .events
                    .iter()
                    .map(|def| json!({ "name": def.name, "fields": self.fields(def.fields, true) }))
                    .collect();
                json!({
                    "version": program.version,
                    "name": program.name,
                    "docs": [program.description],
                    "instructions": instructions,
                    "accounts": accounts,
                    "types": types,
                    "events": events,
                    "errors": self.errors(program),
                    "constants": self.constants(program),
                    "metadata": { "address": program.address },
                })
            }
            Format::Spec => {
                let accounts: Vec<Value> = program
                    .accounts
                    .iter()
                    .map(|(def, discriminator)| json!({ "name": def.name, "discriminator": discriminator }))
                    .collect();
                let events: Vec<Value> = program
                    .events
                    .iter()
                    .map(|def| json!({ "name": def.name, "discriminator": sighash("event", def.name) }))
                    .collect();
                types.extend(program.accounts.iter().map(|(def, _)| self.struct_type(def)));
                types.extend(program.struct_types.iter().map(|def| self.struct_type(def)));
                types.extend(program.enum_types.iter().map(|def| self.enum_type(def)));
                types.extend(program.events.iter().map(|def| self.struct_type(def)));
                json!({
                    "address": program.address,
                    "metadata": {
                        "name": program.name,
                        "version": program.version,
                        "spec": "0.1.0",
                        "description": program.description,
                    },
                    "instructions": instructions,
                    "accounts": accounts,
                    "events": events,
                    "errors": self.errors(program),
                    "types": types,
                    "constants": self.constants(program),
                })
            }
        }
    }
}

fn render(format: Format, program: &Program) -> String {
    let mut text = serde_json::to_string_pretty(&format.idl(program)).expect("IDL serialises");
    text.push('\n');
    text
}

fn program_named(name: &str) -> Program {
    programs().into_iter().find(|program| program.name == name).unwrap_or_else(|| {
        eprintln!("idl-gen: no program named {name:?} (jobs, staking)");
        std::process::exit(2);
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["legacy"] => print!("{}", render(Format::Legacy, &jobs())),
        ["spec"] => print!("{}", render(Format::Spec, &jobs())),
        ["legacy", name] => print!("{}", render(Format::Legacy, &program_named(name))),
        ["spec", name] => print!("{}", render(Format::Spec, &program_named(name))),
        ["write", dir] => {
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).expect("create IDL directory");
            for program in programs() {
                for (format, suffix) in [(Format::Legacy, "json"), (Format::Spec, "spec.json")] {
                    let path = dir.join(format!("{}.{suffix}", program.name));
                    std::fs::write(&path, render(format, &program)).expect("write IDL");
                    eprintln!("idl-gen: wrote {}", path.display());
                }
            }
        }
        _ => {
            eprintln!("usage: idl-gen legacy [PROGRAM] | spec [PROGRAM] | write DIR");
            std::process::exit(2);
        }
    }
}
