"""attach_result: the node of a job its poster ended (a service stopped by `end`) records
the bundle's digest afterwards; once, by that node only, on an ended job only, and no
money moves. Real SBF in LiteSVM."""

from __future__ import annotations

from crowdcompute.sandbox import digest
from tests.jobs.test_instr_settle import FUNDS, end, finish, start
from tests.support import assert_fields, assert_refused, event, event_names, kind


def test_the_ending_node_records_the_result_once_and_nothing_is_paid(sandbox, market, errors):
    run = start(sandbox, market, timeout=600)
    sandbox.chain.advance(30)
    sandbox.must(end(sandbox, market, run))
    balances = (sandbox.balance(run.node.token), sandbox.balance(run.payer.token), sandbox.vault_balance(market))
    result = digest("bundle of a service")
    outcome = sandbox.must(sandbox.attach_result(run.job, run.node, result))
    assert event_names(sandbox, outcome) == ["JobResultAttached"]
    assert_fields(event(sandbox, outcome, "JobResultAttached"), job=run.job)
    job = sandbox.job_state(run.job)
    assert (kind(job.state), bytes(job.result), job.node) == ("Ended", result, run.node.pubkey)
    assert (sandbox.balance(run.node.token), sandbox.balance(run.payer.token), sandbox.vault_balance(market)) == balances
    # Once: a second digest (even the same one) is refused, the first stays.
    assert_refused(sandbox.attach_result(run.job, run.node, digest("another")), errors, "JobNotEnded")
    assert bytes(sandbox.job_state(run.job).result) == result


def test_only_the_node_that_ran_it_and_only_a_real_digest(sandbox, market, errors):
    run = start(sandbox, market, timeout=600)
    sandbox.must(end(sandbox, market, run))
    assert_refused(sandbox.attach_result(run.job, sandbox.actor(), digest("forged")), errors, "NodeNotAssigned")
    assert_refused(sandbox.attach_result(run.job, run.poster, digest("forged")), errors, "NodeNotAssigned")
    assert_refused(sandbox.attach_result(run.job, run.node, bytes(32)), errors, "ResultMissing")
    assert bytes(sandbox.job_state(run.job).result) == bytes(32)


def test_refused_on_a_running_or_finished_job(sandbox, market, errors):
    running = start(sandbox, market, timeout=600)
    assert_refused(sandbox.attach_result(running.job, running.node, digest("early")), errors, "JobNotEnded")
    sandbox.must(finish(sandbox, market, running, digest("the real one")))
    assert_refused(sandbox.attach_result(running.job, running.node, digest("late")), errors, "JobNotEnded")
    assert bytes(sandbox.job_state(running.job).result) == digest("the real one")


def test_refused_for_an_account_that_is_not_a_job_of_this_program(sandbox, market, errors):
    run = start(sandbox, market, timeout=600)
    sandbox.must(end(sandbox, market, run))
    # The market account: owned by the program, but not a job (size and discriminator).
    ix = sandbox.jobs.attach_result(node=run.node.pubkey, job=market, result=digest("x"))
    assert_refused(sandbox.send([ix], [run.node.keypair]), errors, "AccountDiscriminatorInvalid")
    # Unsigned: the node's signature is required.
    from solders.instruction import AccountMeta, Instruction

    ix = sandbox.jobs.attach_result(node=run.node.pubkey, job=run.job, result=digest("x"))
    unsigned = Instruction(ix.program_id, ix.data, [AccountMeta(m.pubkey, False, m.is_writable) for m in ix.accounts])
    payer = sandbox.actor()
    outcome = sandbox.send([unsigned], [payer.keypair])
    assert not outcome.ok
    assert bytes(sandbox.job_state(run.job).result) == bytes(32)
