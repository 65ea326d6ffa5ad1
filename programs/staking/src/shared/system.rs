//! The System program, as every program uses it (programs/program-kit): the check that an
//! account is it (refused with this program's `ProgramIdInvalid`) and account creation
//! (`CreateAccount`, pre-funded addresses included).

pub use program_kit::system::{check_system_program, CreateAccount};
