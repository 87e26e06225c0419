"""The README's two commands are the ones CI and newcomers run: keep them true."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands():
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", readme)


def test_readme_gives_the_training_command_and_the_test_command():
    commands = readme_commands()
    assert any("ganlab train dcgan" in command and "pip install -e ." in command for command in commands)
    assert any("python -m pytest" in command and '".[test]"' in command for command in commands)


def test_ci_runs_the_readme_test_command():
    test_command = next(command for command in readme_commands() if "python -m pytest" in command)
    # The README command is "pip install ... && <test command>"; CI installs first, then runs it.
    readme_test_part = test_command.split("&&", 1)[1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert readme_test_part in ci_lines
    assert any('pip install' in line and '-e ".[test]"' in line for line in ci_lines)
