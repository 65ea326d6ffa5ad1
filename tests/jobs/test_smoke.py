"""The shortest whole lifecycle: a node waits, a job is posted and matched, finished, paid."""

from crowdcompute.sandbox import digest
from tests.conftest import SETTINGS


def test_post_work_finish_pays_node_and_refunds_payer(sandbox, market):
    poster = sandbox.actor(tokens=1_000_000)
    node = sandbox.actor()
    sandbox.must(sandbox.work(market, node))
    job, outcome = sandbox.post(market, poster, timeout=600)
    sandbox.must(outcome)
    assert [e.name for e in sandbox.jobs.events(outcome.logs)] == ["JobPosted", "JobMatched"]
    assert sandbox.vault_balance(market) == SETTINGS.price_per_second * 600

    sandbox.chain.advance(100)
    result = digest("bundle")
    sandbox.must(sandbox.finish(market, job, node, poster.token, result))

    assert sandbox.balance(node.token) == 1_000
    assert sandbox.balance(poster.token) == 1_000_000 - 1_000
    assert sandbox.vault_balance(market) == 0
    state = sandbox.job_state(job)
    assert bytes(state.result) == result
    assert type(state.state).__name__ == "Done"
