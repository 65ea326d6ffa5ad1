//! One file per instruction; `dispatch` routes on the 8-byte discriminator.

use interface_kit::accounts::Optional;
use jobs_interface::{error::JobsError, instruction as ix};
use pinocchio::{AccountView, Address, ProgramResult};

mod attach_result;
mod cancel;
mod clean;
mod close_market;
mod close_node_profile;
mod end;
mod extend;
mod finish;
mod leave;
mod open_market;
mod post;
mod quit;
mod reclaim;
mod set_node_profile;
mod update_market;
mod work;

/// What every handler receives. One reference, because SBF calls that are not inlined take
/// at most five register arguments (docs/toolchain.md, pitfall 3).
pub struct Context<'a> {
    pub program_id: &'a Address,
    pub accounts: &'a [AccountView],
    /// Instruction data after the discriminator once dispatched.
    pub data: &'a [u8],
}

impl<'a> Context<'a> {
    /// An optional account of the instruction: None when absent (this program's id, or
    /// left off the end of the list), its declared flags checked when present.
    #[inline(always)]
    pub fn optional<const INDEX: usize, const SIGNER: bool, const WRITABLE: bool>(
        &self,
        account: Optional<JobsError, INDEX, SIGNER, WRITABLE>,
    ) -> Result<Option<&'a AccountView>, JobsError> {
        account.get(self.accounts, self.program_id.as_array())
    }
}

const fn tag(discriminator: [u8; 8]) -> u64 {
    u64::from_le_bytes(discriminator)
}

const OPEN_MARKET: u64 = tag(ix::open_market::DISCRIMINATOR);
const UPDATE_MARKET: u64 = tag(ix::update_market::DISCRIMINATOR);
const CLOSE_MARKET: u64 = tag(ix::close_market::DISCRIMINATOR);
const POST: u64 = tag(ix::post::DISCRIMINATOR);
const CANCEL: u64 = tag(ix::cancel::DISCRIMINATOR);
const WORK: u64 = tag(ix::work::DISCRIMINATOR);
const LEAVE: u64 = tag(ix::leave::DISCRIMINATOR);
const FINISH: u64 = tag(ix::finish::DISCRIMINATOR);
const QUIT: u64 = tag(ix::quit::DISCRIMINATOR);
const RECLAIM: u64 = tag(ix::reclaim::DISCRIMINATOR);
const EXTEND: u64 = tag(ix::extend::DISCRIMINATOR);
const END: u64 = tag(ix::end::DISCRIMINATOR);
const CLEAN: u64 = tag(ix::clean::DISCRIMINATOR);
const ATTACH_RESULT: u64 = tag(ix::attach_result::DISCRIMINATOR);
const SET_NODE_PROFILE: u64 = tag(ix::set_node_profile::DISCRIMINATOR);
const CLOSE_NODE_PROFILE: u64 = tag(ix::close_node_profile::DISCRIMINATOR);

#[inline(always)]
pub fn dispatch(context: &Context) -> ProgramResult {
    let Some((discriminator, data)) = context.data.split_first_chunk::<8>() else {
        return Err(JobsError::InstructionUnknown.into());
    };
    let context = Context { program_id: context.program_id, accounts: context.accounts, data };
    let tag = u64::from_le_bytes(*discriminator);
    match tag {
        POST => post::process(&context),
        WORK => work::process(&context),
        FINISH => finish::process(&context),
        LEAVE => leave::process(&context),
        QUIT => quit::process(&context),
        RECLAIM => reclaim::process(&context),
        CANCEL => cancel::process(&context),
        EXTEND => extend::process(&context),
        END => end::process(&context),
        CLEAN => clean::process(&context),
        OPEN_MARKET => open_market::process(&context),
        UPDATE_MARKET => update_market::process(&context),
        CLOSE_MARKET => close_market::process(&context),
        _ => dispatch_node(&context, tag),
    }
}

/// The node's rare instructions, outside the main `match`: the profile (sent when a node
/// starts or moves) and attach_result (after a poster's `end`), so the job lifecycle's
/// dispatch keeps its cases (and its compute units) as they were; an unknown
/// discriminator pays the extra comparisons.
#[inline(never)]
fn dispatch_node(context: &Context, tag: u64) -> ProgramResult {
    match tag {
        SET_NODE_PROFILE => set_node_profile::process(context),
        CLOSE_NODE_PROFILE => close_node_profile::process(context),
        ATTACH_RESULT => attach_result::process(context),
        _ => Err(JobsError::InstructionUnknown.into()),
    }
}
