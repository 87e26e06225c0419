"""What every test of a student-facing check (``ganlab.checks``) asserts about its result.

One definition for all check tests, so that "passes" and "fails" mean the same
everywhere: a pass is a ``CheckResult`` with status "passed" and a "✓"
message; a failure is one with status "failed" (a wrong answer, not a crash of
the check), whose message says what is wrong and gives a hint. pytest puts
this folder on ``sys.path``, so the tests import it as ``check_results``.
"""

from ganlab.checks import CheckResult


def assert_passes(result):
    """The check passed: status "passed", ``passed`` true, and a message that starts with "✓"."""
    assert isinstance(result, CheckResult), result
    assert result.passed, result.message
    assert result.status == "passed", result.message
    assert result.message.startswith("✓"), result.message


def assert_fails(result, *fragments):
    """The check failed (not crashed); its message holds every fragment (case-insensitive) and a hint.

    Reports are wrapped to fit a cell: the fragments are looked for in the
    message with its line breaks taken out.
    """
    assert isinstance(result, CheckResult), result
    assert not result.passed, result.message
    assert result.status == "failed", result.message
    message = " ".join(result.message.split()).lower()
    for fragment in fragments:
        assert " ".join(fragment.split()).lower() in message, result.message
    assert "hint:" in message, result.message
