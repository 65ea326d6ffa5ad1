//! Prints the jobs program's Anchor IDL from `jobs-interface`, the one source of truth.
//!
//!   idl-gen legacy      the legacy format (Anchor <= 0.29) that anchorpy 0.21 reads
//!   idl-gen spec        Anchor's current spec format (>= 0.30; TypeScript client, Codama)
//!   idl-gen write DIR   both, as DIR/jobs.json and DIR/jobs.spec.json
//!
//! The files are checked in; a test fails when they differ from what this prints.

use jobs_interface::discriminator::{sighash, Discriminator};
use jobs_interface::idl::{EnumDef, Field, IdlType, InstructionDef, StructDef};
use jobs_interface::state::{EntryState, Job, JobState, Market, MarketState, QueueEntry, QueueHeader, QueueSide};
use jobs_interface::{error::JobsError, event, instruction, PROGRAM_ID, PROGRAM_NAME, VERSION};
use serde_json::{json, Value};

const DESCRIPTION: &str = "crowdcompute jobs: GPU job markets with a two-sided queue and per-second escrow";

/// Account layouts, each with its discriminator.
fn accounts() -> Vec<(StructDef, [u8; 8])> {
    vec![(Market::DEF, Market::DISCRIMINATOR), (Job::DEF, Job::DISCRIMINATOR)]
}

/// Types that accounts and events refer to.
fn struct_types() -> Vec<StructDef> {
    vec![QueueHeader::DEF, QueueEntry::DEF]
}

fn enum_types() -> Vec<EnumDef> {
    vec![JobState::DEF, EntryState::DEF, QueueSide::DEF, MarketState::DEF]
}

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

    fn instruction(self, def: &InstructionDef) -> Value {
        let accounts: Vec<Value> = def
            .accounts
            .iter()
            .map(|account| match self {
                Format::Legacy => json!({
                    "name": self.name(account.name),
                    "isMut": account.writable,
                    "isSigner": account.signer,
                    "docs": docs(account.docs),
                }),
                Format::Spec => {
                    let mut value = json!({ "name": account.name, "docs": docs(account.docs) });
                    if account.writable {
                        value["writable"] = json!(true);
                    }
                    if account.signer {
                        value["signer"] = json!(true);
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

    fn errors(self) -> Value {
        let errors: Vec<Value> = JobsError::ALL
            .iter()
            .map(|error| json!({ "code": error.code, "name": error.name, "msg": error.msg }))
            .collect();
        json!(errors)
    }

    fn idl(self) -> Value {
        let instructions: Vec<Value> = instruction::ALL.iter().map(|def| self.instruction(def)).collect();
        let mut types: Vec<Value> = Vec::new();
        match self {
            Format::Legacy => {
                let accounts: Vec<Value> = accounts().iter().map(|(def, _)| self.struct_type(def)).collect();
                types.extend(struct_types().iter().map(|def| self.struct_type(def)));
                types.extend(enum_types().iter().map(|def| self.enum_type(def)));
                let events: Vec<Value> = event::ALL
                    .iter()
                    .map(|def| json!({ "name": def.name, "fields": self.fields(def.fields, true) }))
                    .collect();
                json!({
                    "version": VERSION,
                    "name": PROGRAM_NAME,
                    "docs": [DESCRIPTION],
                    "instructions": instructions,
                    "accounts": accounts,
                    "types": types,
                    "events": events,
                    "errors": self.errors(),
                    "metadata": { "address": PROGRAM_ID },
                })
            }
            Format::Spec => {
                let accounts: Vec<Value> = accounts()
                    .iter()
                    .map(|(def, discriminator)| json!({ "name": def.name, "discriminator": discriminator }))
                    .collect();
                let events: Vec<Value> = event::ALL
                    .iter()
                    .map(|def| json!({ "name": def.name, "discriminator": sighash("event", def.name) }))
                    .collect();
                types.extend(accounts_types(self));
                types.extend(struct_types().iter().map(|def| self.struct_type(def)));
                types.extend(enum_types().iter().map(|def| self.enum_type(def)));
                types.extend(event::ALL.iter().map(|def| self.struct_type(def)));
                json!({
                    "address": PROGRAM_ID,
                    "metadata": {
                        "name": PROGRAM_NAME,
                        "version": VERSION,
                        "spec": "0.1.0",
                        "description": DESCRIPTION,
                    },
                    "instructions": instructions,
                    "accounts": accounts,
                    "events": events,
                    "errors": self.errors(),
                    "types": types,
                })
            }
        }
    }
}

fn accounts_types(format: Format) -> Vec<Value> {
    accounts().iter().map(|(def, _)| format.struct_type(def)).collect()
}

fn render(format: Format) -> String {
    let mut text = serde_json::to_string_pretty(&format.idl()).expect("IDL serialises");
    text.push('\n');
    text
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["legacy"] => print!("{}", render(Format::Legacy)),
        ["spec"] => print!("{}", render(Format::Spec)),
        ["write", dir] => {
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).expect("create IDL directory");
            for (format, file) in [(Format::Legacy, "jobs.json"), (Format::Spec, "jobs.spec.json")] {
                let path = dir.join(file);
                std::fs::write(&path, render(format)).expect("write IDL");
                eprintln!("idl-gen: wrote {}", path.display());
            }
        }
        _ => {
            eprintln!("usage: idl-gen legacy | spec | write DIR");
            std::process::exit(2);
        }
    }
}
