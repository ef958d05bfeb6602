from mlgate.cli import main


def test_rules_lists_pin001(capsys):
    assert main(["rules"]) == 0
    assert "PIN001" in capsys.readouterr().out
